package maintscript

import (
	"fmt"
	"strings"
)

// Diversion is a dpkg-divert diversion: files shipped at Path by any package other than
// Package are installed at DivertTo. An empty Package is a --local diversion (it applies to
// every package). Paths are absolute, as the script gave them. The JSON form is the one layer
// configurations use.
type Diversion struct {
	Path     string `json:"path"`
	DivertTo string `json:"divert_to"`
	Package  string `json:"package"`
}

func (d Diversion) String() string {
	if d.Package == "" {
		return fmt.Sprintf("local diversion of %s to %s", d.Path, d.DivertTo)
	}
	return fmt.Sprintf("diversion of %s to %s by %s", d.Path, d.DivertTo, d.Package)
}

// Discovered is a diversion a package's script adds.
type Discovered struct {
	Diversion
	By string // the package whose script added it
}

// DiscoverDiversions runs the preinst (install) and postinst (configure) scripts of pkgs on
// an empty file system and returns the diversions they add, in the order they are added
// (packages in configuration order). Only dpkg-divert and the commands whose output scripts
// test are carried out; this is how the diversions are known before the packages are
// unpacked. A script that diverts only depending on files of other packages may divert
// differently on the real system; Install warns about such diversions.
func DiscoverDiversions(pkgs []*Package) []Discovered {
	s := NewSystem(NewMemFS(), pkgs, Options{})
	s.discover = true
	ordered := configureOrder(pkgs, s.pkgs)
	for _, p := range ordered {
		s.presentSet[p.Name] = true
	}
	for _, p := range ordered {
		s.runScript(p, "preinst", "install")
		s.runScript(p, "postinst", "configure", "")
	}
	return s.discovered
}

// divertArgs are the options of one dpkg-divert call.
type divertArgs struct {
	action string // add, remove, list, listpackage, truename
	pkg    string
	local  bool
	to     string
	files  []string
	bad    string
}

func parseDivert(args []string, pkg string) divertArgs {
	d := divertArgs{action: "add", pkg: pkg}
	for i := 0; i < len(args); i++ {
		a := args[i]
		opt, val, hasVal := strings.Cut(a, "=")
		takeValue := func() string {
			if hasVal {
				return val
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			d.bad = "missing value for " + opt
			return ""
		}
		switch opt {
		case "--add", "--remove", "--list", "--listpackage", "--truename":
			d.action = opt[2:]
		case "--package":
			d.pkg, d.local = takeValue(), false
		case "--local":
			d.local = true
		case "--divert":
			d.to = takeValue()
		case "--admindir", "--instdir", "--root":
			takeValue()
		case "--rename", "--no-rename", "--quiet", "--test":
		default:
			if strings.HasPrefix(a, "-") {
				d.bad = "unknown option " + a
			} else {
				d.files = append(d.files, a)
			}
		}
	}
	return d
}

func runDpkgDivert(c *cmdCtx) int {
	d := parseDivert(c.args, c.run.pkg.Name)
	if d.bad != "" {
		return c.fail("%s", d.bad)
	}
	s := c.sys()
	switch d.action {
	case "list":
		for _, dv := range s.diversions {
			if len(d.files) == 0 || globMatch(d.files[0], dv.Path) {
				fmt.Fprintln(c.stdout, dv.String())
			}
		}
		return 0
	case "listpackage", "truename":
		return c.queryDiversion(d)
	}
	if len(d.files) != 1 || !strings.HasPrefix(d.files[0], "/") {
		return c.fail("--%s needs a single absolute filename argument", d.action)
	}
	dv := Diversion{Path: d.files[0], DivertTo: d.to, Package: d.pkg}
	if dv.DivertTo == "" {
		dv.DivertTo = dv.Path + ".distrib"
	}
	if d.local {
		dv.Package = ""
	}
	if !strings.HasPrefix(dv.DivertTo, "/") {
		fmt.Fprintf(c.stderr, "dpkg-divert: error: filename %q is not absolute\n", dv.DivertTo)
		return 2
	}
	if d.action == "remove" {
		s.removeDiversion(dv)
		return 0
	}
	return c.addDiversion(dv)
}

func (c *cmdCtx) queryDiversion(d divertArgs) int {
	if len(d.files) != 1 {
		return c.fail("--%s needs a single argument", d.action)
	}
	for _, dv := range c.sys().diversions {
		if dv.Path != d.files[0] {
			continue
		}
		if d.action == "truename" {
			fmt.Fprintln(c.stdout, dv.DivertTo)
		} else if dv.Package == "" {
			fmt.Fprintln(c.stdout, "LOCAL")
		} else {
			fmt.Fprintln(c.stdout, dv.Package)
		}
		return 0
	}
	if d.action == "truename" {
		fmt.Fprintln(c.stdout, d.files[0])
	}
	return 0
}

// addDiversion records a diversion. Files are not moved here: the diversions are known
// before the packages are unpacked (DiscoverDiversions), and their files placed then; the
// caller compares what Diversions returns with what it applied.
func (c *cmdCtx) addDiversion(dv Diversion) int {
	s := c.sys()
	for _, old := range s.diversions {
		if old.Path != dv.Path && old.DivertTo != dv.Path {
			continue
		}
		if old == dv {
			return 0
		}
		fmt.Fprintf(c.stderr, "dpkg-divert: error: '%s' clashes with '%s'\n", dv, old)
		return 2
	}
	s.diversions = append(s.diversions, dv)
	if s.discover {
		s.discovered = append(s.discovered, Discovered{Diversion: dv, By: c.run.pkg.Name})
	}
	return 0
}

func (s *System) removeDiversion(dv Diversion) {
	for i, old := range s.diversions {
		if old.Path == dv.Path && (old.Package == dv.Package) {
			s.diversions = append(s.diversions[:i], s.diversions[i+1:]...)
			return
		}
	}
}
