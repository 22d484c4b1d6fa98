package maintscript

import (
	"fmt"
	"regexp"
	"strings"
)

// Diversion is a dpkg-divert diversion: files shipped at Path by any package other than
// Package are installed at DivertTo. An empty Package is a --local diversion (it applies to
// every package). Paths are absolute. The JSON form is the one layer configurations use.
type Diversion struct {
	Path     string `json:"path"`
	DivertTo string `json:"divert_to"`
	Package  string `json:"package"`
}

// Diversions returns the dpkg-divert --add calls of a maintainer script of package pkg
// (member is "preinst" or "postinst", for messages):
//
//   - options may come in any order, with "--opt value" or "--opt=value": --add (the default
//     action), --package P, --local, --divert X (default Y.distrib), --rename, --no-rename,
//     --quiet; --admindir, --instdir and --root take a value and are ignored. Without --package
//     or --local the diversion belongs to pkg (dpkg-divert reads DPKG_MAINTSCRIPT_PACKAGE).
//     --remove, --list, --listpackage, --truename and --test calls are skipped.
//   - calls inside a branch that cannot run on a first installation are skipped. Only the
//     trivial forms are recognised: an arm of `case "$1" in` whose patterns name neither
//     install, configure nor *, and an `if`/`elif` branch whose condition is a single test
//     `[ "$1" = word ]` (or `==`, or `test ...`) with word other than install and configure.
//     Anything else is assumed to run.
//   - a call whose package, target or path holds a shell expansion ($ or `), names no single
//     absolute path, or has an unknown option becomes a warning (dash's postinst, for one,
//     diverts /bin/sh through shell functions).
func Diversions(script, pkg, member string) (out []Diversion, warnings []string) {
	if !strings.Contains(script, "dpkg-divert") {
		return nil, nil
	}
	var b branches
	for _, line := range logicalLines(script) {
		tl := strings.TrimSpace(line)
		if tl == "" || strings.HasPrefix(tl, "#") {
			continue
		}
		tl, ok := b.control(tl)
		if !ok {
			continue
		}
		tl, armEnd := b.caseArm(tl)
		if !b.skipping() {
			o, w := divertCalls(tl, pkg, member)
			out, warnings = append(out, o...), append(warnings, w...)
		}
		if armEnd {
			b.top().skip = false
		}
	}
	return out, warnings
}

// branches tracks the if and case statements around a line.
type branches struct{ stack []frame }

type frame struct {
	isCase bool // a case statement (else an if)
	on1    bool // case "$1" in
	skip   bool // the current branch cannot run on a first installation
}

var casePattern = regexp.MustCompile(`^\(?\s*([A-Za-z0-9_*|"' -]+?)\s*\)`)

var firstArgTest = regexp.MustCompile(`^(?:if|elif)\s+(?:\[|test)\s+"?\$\{?1\}?"?\s*==?\s*"?'?([A-Za-z0-9_-]+)"?'?\s*\]?\s*;?\s*(?:then)?\s*$`)

func firstInstallWord(w string) bool { return w == "install" || w == "configure" }

func (b *branches) top() *frame { return &b.stack[len(b.stack)-1] }

// in reports whether the innermost statement is a case (isCase) or an if (!isCase).
func (b *branches) in(isCase bool) bool { return len(b.stack) > 0 && b.top().isCase == isCase }

func (b *branches) skipping() bool {
	for _, f := range b.stack {
		if f.skip {
			return true
		}
	}
	return false
}

// skipTest reports whether an if/elif line tests "$1" against a word that rules out a first
// installation.
func skipTest(line string) bool {
	m := firstArgTest.FindStringSubmatch(line)
	return m != nil && !firstInstallWord(m[1])
}

// control follows the if/elif/else/fi and case/esac keywords that start line. It returns the
// part of the line left to scan for calls, and false when nothing is left.
func (b *branches) control(line string) (string, bool) {
	fields := strings.Fields(line)
	switch first := fields[0]; {
	case first == "if" && !strings.HasSuffix(line, "fi"):
		b.stack = append(b.stack, frame{skip: skipTest(line)})
	case first == "elif" && b.in(false):
		b.top().skip = skipTest(line)
	case (first == "else" || first == "else;") && b.in(false):
		b.top().skip = false
		if len(fields) == 1 {
			return "", false
		}
		return strings.TrimSpace(strings.TrimPrefix(line, first)), true
	case (first == "fi" || first == "fi;") && b.in(false):
		b.stack = b.stack[:len(b.stack)-1]
	case first == "case" && fields[len(fields)-1] == "in":
		on1 := len(fields) == 3 && strings.Trim(fields[1], `"{}`) == "$1"
		b.stack = append(b.stack, frame{isCase: true, on1: on1})
	case (first == "esac" || first == "esac;") && b.in(true):
		b.stack = b.stack[:len(b.stack)-1]
	default:
		return line, true
	}
	return "", false
}

// caseArm handles an arm pattern "a|b)" at the start of a line inside `case "$1" in`, and a
// final ";;". It returns the rest of the line and whether the arm ends on it.
func (b *branches) caseArm(line string) (string, bool) {
	if !b.in(true) || !b.top().on1 {
		return line, false
	}
	if m := casePattern.FindStringSubmatch(line); m != nil {
		run := false
		for _, p := range strings.Split(m[1], "|") {
			p = strings.Trim(strings.TrimSpace(p), `"'`)
			if firstInstallWord(p) || p == "*" {
				run = true
			}
		}
		b.top().skip = !run
		line = strings.TrimSpace(line[len(m[0]):])
	}
	if rest, ok := strings.CutSuffix(line, ";;"); ok {
		return rest, true
	}
	return line, false
}

// divertCall is one dpkg-divert invocation, its options read.
type divertCall struct {
	action string // "add", "remove" or "query"
	test   bool
	local  bool
	pkg    string
	to     string
	files  []string
	bad    string // why the call cannot be used
}

// divertCalls interprets the dpkg-divert commands of one logical line.
func divertCalls(line, pkg, member string) (out []Diversion, warnings []string) {
	for _, c := range commandCalls(line, "dpkg-divert") {
		dc := parseDivert(c.args, pkg)
		if dc.action != "add" || dc.test {
			continue
		}
		if bad := dc.problem(); bad != "" {
			warnings = append(warnings, fmt.Sprintf("%s: %s: %s: %s; skipped", pkg, member, c.text, bad))
			continue
		}
		out = append(out, dc.diversion())
	}
	return out, warnings
}

// parseDivert reads the options of a dpkg-divert call made by a script of package pkg.
func parseDivert(args []string, pkg string) divertCall {
	dc := divertCall{action: "add", pkg: pkg}
	value := func(k *int, a, name string) string {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if *k+1 < len(args) {
			*k++
			return args[*k]
		}
		dc.bad = "missing value for " + name
		return ""
	}
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch opt, _, _ := strings.Cut(a, "="); opt {
		case "--add":
			dc.action = "add"
		case "--remove":
			dc.action = "remove"
		case "--list", "--listpackage", "--truename", "--help", "--version":
			dc.action = "query"
		case "--test":
			dc.test = true
		case "--package":
			dc.pkg, dc.local = value(&k, a, opt), false
		case "--local":
			dc.local = true
		case "--divert":
			dc.to = value(&k, a, opt)
		case "--admindir", "--instdir", "--root":
			value(&k, a, opt)
		case "--rename", "--no-rename", "--quiet":
		default:
			if strings.HasPrefix(a, "-") {
				dc.bad = "unknown option " + a
			} else {
				dc.files = append(dc.files, a)
			}
		}
	}
	return dc
}

// problem says why an --add call cannot be used, or returns "".
func (dc divertCall) problem() string {
	switch {
	case dc.bad != "":
		return dc.bad
	case len(dc.files) != 1:
		return "expected one path"
	case strings.ContainsAny(dc.files[0]+dc.to+dc.pkg, "$`"):
		return "cannot interpret it statically"
	case !strings.HasPrefix(dc.files[0], "/") || dc.to != "" && !strings.HasPrefix(dc.to, "/"):
		return "paths must be absolute"
	}
	return ""
}

// diversion returns the diversion an --add call without problem makes.
func (dc divertCall) diversion() Diversion {
	d := Diversion{Path: dc.files[0], DivertTo: dc.to, Package: dc.pkg}
	if d.DivertTo == "" {
		d.DivertTo = d.Path + ".distrib"
	}
	if dc.local {
		d.Package = ""
	}
	return d
}
