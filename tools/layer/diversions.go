package layer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Diversions (dpkg-divert) are reproduced declaratively:
//
//   - every "dpkg-divert" call in the preinst and postinst of every package
//     of the set (new and Installed) is read; options may come in any
//     order, with "--opt value" or "--opt=value": --add (the default
//     action), --package P, --local, --divert X (default Y.distrib),
//     --rename, --no-rename, --quiet; --admindir/--instdir/--root take a
//     value and are ignored. Without --package or --local the diversion
//     belongs to the package whose script makes the call (dpkg-divert
//     reads DPKG_MAINTSCRIPT_PACKAGE). --remove, --list, --listpackage,
//     --truename and --test calls are skipped.
//   - calls inside a branch that cannot run on a first installation are
//     skipped. Only the trivial forms are recognised: an arm of
//     `case "$1" in` whose patterns name neither install, configure nor *,
//     and an `if`/`elif` branch whose condition is a single test
//     `[ "$1" = word ]` (or `==`, or `test ...`) with word other than
//     install and configure. Anything else is assumed to run.
//   - a call whose package, target or path contains a shell expansion ($
//     or `) cannot be resolved statically and becomes a Summary warning
//     (e.g. dash's postinst, which diverts /bin/sh through shell functions;
//     declare such diversions with Effects.Diversions).
//   - a non-directory entry shipped at path Y by a package other than the
//     diversion's package (by any package for a --local diversion) is
//     written at X instead, as dpkg does regardless of --rename (the
//     diversion is taken to exist before any package is unpacked, which is
//     the order in which the call was meant to work). The package's .list
//     still records Y, as dpkg does. Y is matched literally against the
//     path as shipped (dpkg in bookworm does not see /bin/x and /usr/bin/x
//     as the same path); X is then rewritten for merged /usr like any path.
//   - two diversions of the same path with different targets or packages:
//     the first (by package name, preinst before postinst, Effects last)
//     is kept and the other is a warning, as dpkg-divert would refuse it.
//   - var/lib/dpkg/diversions is written with the dpkg database when there
//     is at least one diversion: three lines per diversion (path, divert-to,
//     package or ":" for --local), sorted by path.
//   - with Options.Installed, a diversion made by a new package moves the
//     matching files of installed packages too: they are written into this
//     layer at X (the file at Y is whatever the new packages put there; if
//     none does, the lower layer's Y stays visible and a warning says so).
//     Diversions of installed packages, and Effects.Diversions, are taken
//     to be reflected in the lower layers already.

// Diversion is a dpkg-divert diversion declared by the caller (for calls
// that cannot be read statically from the scripts): files shipped at Path
// by any package other than Package are written at DivertTo. An empty
// Package is a --local diversion (applies to every package).
type Diversion struct {
	Path, DivertTo, Package string
}

// diversion is one resolved diversion.
type diversion struct {
	path, to string // as given (absolute)
	pkg      string // "" for --local
	by       string // package whose script (or "(Effects)") declared it
	// moveInstalled: files of Installed packages are moved by this
	// diversion in this layer (it was declared by a new package).
	moveInstalled bool
}

// appliesTo reports whether a file of package pkg at the diverted path is
// diverted.
func (d *diversion) appliesTo(pkg string) bool { return d.pkg == "" || d.pkg != pkg }

// scriptDiversion is a dpkg-divert --add call read from a script.
type scriptDiversion struct {
	path, to, pkg string
	local         bool
}

var casePattern = regexp.MustCompile(`^\(?\s*([A-Za-z0-9_*|"' -]+?)\s*\)`)

var firstArgTest = regexp.MustCompile(`^(?:if|elif)\s+(?:\[|test)\s+"?\$\{?1\}?"?\s*==?\s*"?'?([A-Za-z0-9_-]+)"?'?\s*\]?\s*;?\s*(?:then)?\s*$`)

func firstInstallWord(w string) bool { return w == "install" || w == "configure" }

// parseDiversions returns the dpkg-divert --add calls of a maintainer
// script of package pkg (member is "preinst" or "postinst", for messages).
func parseDiversions(script, pkg, member string) (out []scriptDiversion, warnings []string) {
	if !strings.Contains(script, "dpkg-divert") {
		return nil, nil
	}
	type frame struct {
		isCase, on1 bool
		skip        bool
	}
	var stack []frame
	skipping := func() bool {
		for _, f := range stack {
			if f.skip {
				return true
			}
		}
		return false
	}
	for _, line := range logicalLines(script) {
		tl := strings.TrimSpace(line)
		if tl == "" || strings.HasPrefix(tl, "#") {
			continue
		}
		fields := strings.Fields(tl)
		switch {
		case fields[0] == "if" && !strings.HasSuffix(tl, "fi"):
			m := firstArgTest.FindStringSubmatch(tl)
			stack = append(stack, frame{skip: m != nil && !firstInstallWord(m[1])})
			continue
		case fields[0] == "elif" && len(stack) > 0 && !stack[len(stack)-1].isCase:
			m := firstArgTest.FindStringSubmatch(tl)
			stack[len(stack)-1].skip = m != nil && !firstInstallWord(m[1])
			continue
		case (fields[0] == "else" || fields[0] == "else;") && len(stack) > 0 && !stack[len(stack)-1].isCase:
			stack[len(stack)-1].skip = false
			if len(fields) == 1 {
				continue
			}
			tl = strings.TrimSpace(strings.TrimPrefix(tl, fields[0]))
		case (fields[0] == "fi" || fields[0] == "fi;") && len(stack) > 0 && !stack[len(stack)-1].isCase:
			stack = stack[:len(stack)-1]
			continue
		case fields[0] == "case" && fields[len(fields)-1] == "in":
			on1 := len(fields) == 3 && strings.Trim(fields[1], `"{}`) == "$1"
			stack = append(stack, frame{isCase: true, on1: on1})
			continue
		case (fields[0] == "esac" || fields[0] == "esac;") && len(stack) > 0 && stack[len(stack)-1].isCase:
			stack = stack[:len(stack)-1]
			continue
		}
		armEnd := false
		if n := len(stack); n > 0 && stack[n-1].isCase && stack[n-1].on1 {
			// An arm pattern "a|b)" at the start of the line.
			if m := casePattern.FindStringSubmatch(tl); m != nil {
				run := false
				for _, p := range strings.Split(m[1], "|") {
					p = strings.Trim(strings.TrimSpace(p), `"'`)
					if firstInstallWord(p) || p == "*" {
						run = true
					}
				}
				stack[n-1].skip = !run
				tl = strings.TrimSpace(tl[len(m[0]):])
			}
			if strings.HasSuffix(tl, ";;") {
				tl, armEnd = strings.TrimSuffix(tl, ";;"), true
			}
		}
		if !skipping() {
			o, w := divertCalls(tl, pkg, member)
			out, warnings = append(out, o...), append(warnings, w...)
		}
		if armEnd {
			stack[len(stack)-1].skip = false
		}
	}
	return out, warnings
}

// divertCalls interprets the dpkg-divert commands of one logical line.
func divertCalls(line, pkg, member string) (out []scriptDiversion, warnings []string) {
	for _, c := range commandCalls(line, "dpkg-divert") {
		args := c.args
		action, test := "add", false
		d := scriptDiversion{pkg: pkg}
		var files []string
		bad := ""
		value := func(k *int, a, name string) string {
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
			if *k+1 < len(args) {
				*k++
				return args[*k]
			}
			bad = "missing value for " + name
			return ""
		}
		for k := 0; k < len(args); k++ {
			a := args[k]
			opt, _, _ := strings.Cut(a, "=")
			switch opt {
			case "--add":
				action = "add"
			case "--remove":
				action = "remove"
			case "--list", "--listpackage", "--truename", "--help", "--version":
				action = "query"
			case "--test":
				test = true
			case "--package":
				d.pkg, d.local = value(&k, a, opt), false
			case "--local":
				d.local = true
			case "--divert":
				d.to = value(&k, a, opt)
			case "--admindir", "--instdir", "--root":
				value(&k, a, opt)
			case "--rename", "--no-rename", "--quiet":
			default:
				if strings.HasPrefix(a, "-") {
					bad = "unknown option " + a
				} else {
					files = append(files, a)
				}
			}
		}
		if action != "add" || test {
			continue
		}
		call := c.text
		switch {
		case bad != "":
		case len(files) != 1:
			bad = "expected one path"
		case strings.ContainsAny(files[0]+d.to+d.pkg, "$`"):
			bad = "cannot interpret it statically"
		case !strings.HasPrefix(files[0], "/") || d.to != "" && !strings.HasPrefix(d.to, "/"):
			bad = "paths must be absolute"
		}
		if bad != "" {
			warnings = append(warnings, fmt.Sprintf("%s: %s: %s: %s; skipped", pkg, member, call, bad))
			continue
		}
		d.path = files[0]
		if d.to == "" {
			d.to = d.path + ".distrib"
		}
		if d.local {
			d.pkg = ""
		}
		out = append(out, d)
	}
	return out, warnings
}

// collectDiversions gathers the diversions of the (sorted) packages and
// the caller's. noData: no file is written, so nothing is moved.
func collectDiversions(pkgs []*pkgInfo, extra []Diversion, noData bool) (map[string]*diversion, []string) {
	divs := map[string]*diversion{}
	var warnings []string
	add := func(d *diversion) {
		old, ok := divs[d.path]
		if !ok {
			divs[d.path] = d
			return
		}
		if old.to == d.to && old.pkg == d.pkg {
			old.moveInstalled = old.moveInstalled || d.moveInstalled
			return
		}
		warnings = append(warnings, fmt.Sprintf("%s: diversion of %s to %s by %s clashes with the diversion to %s by %s (declared by %s); skipped",
			d.by, d.path, d.to, divOwner(d.pkg), old.to, divOwner(old.pkg), old.by))
	}
	for _, p := range pkgs {
		for _, m := range []string{"preinst", "postinst"} {
			s, ok := p.deb.Members[m]
			if !ok {
				continue
			}
			ds, w := parseDiversions(string(s), p.deb.Package, m)
			warnings = append(warnings, w...)
			for _, d := range ds {
				add(&diversion{path: d.path, to: d.to, pkg: d.pkg, by: p.deb.Package, moveInstalled: !p.installed && !noData})
			}
		}
	}
	for _, d := range extra {
		if !strings.HasPrefix(d.Path, "/") || !strings.HasPrefix(d.DivertTo, "/") {
			warnings = append(warnings, fmt.Sprintf("Effects.Diversions: %q -> %q: paths must be absolute; skipped", d.Path, d.DivertTo))
			continue
		}
		add(&diversion{path: d.Path, to: d.DivertTo, pkg: d.Package, by: "(Effects)"})
	}
	// Index by the cleaned shipped path.
	out := make(map[string]*diversion, len(divs))
	for _, d := range divs {
		out[cleanName(d.path)] = d
	}
	return out, warnings
}

func divOwner(pkg string) string {
	if pkg == "" {
		return "LOCAL"
	}
	return pkg
}

// diversionsFile renders var/lib/dpkg/diversions.
func diversionsFile(divs map[string]*diversion) []byte {
	keys := make([]string, 0, len(divs))
	for k := range divs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return divs[keys[i]].path < divs[keys[j]].path })
	var b strings.Builder
	for _, k := range keys {
		d := divs[k]
		owner := d.pkg
		if owner == "" {
			owner = ":"
		}
		b.WriteString(d.path + "\n" + d.to + "\n" + owner + "\n")
	}
	return []byte(b.String())
}
