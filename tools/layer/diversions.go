package layer

import (
	"fmt"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
)

// Diversions (dpkg-divert) are applied when the packages are read:
//
//   - the preinst and postinst scripts of every package of the set (new and Installed) run
//     in tools/maintscript before the packages are unpacked (maintscript.DiscoverDiversions,
//     on an empty file system: dash's postinst diverts /bin/sh through shell functions, which
//     is found this way), and their dpkg-divert --add calls are collected, plus
//     Effects.Diversions;
//   - a non-directory entry shipped at path Y by a package other than the diversion's package
//     (by any package for a --local diversion) is written at X instead, as dpkg does regardless
//     of --rename (the diversion is taken to exist before any package is unpacked, which is the
//     order in which the call was meant to work). The package's .list still records Y, as dpkg
//     does. Y is matched literally against the path as shipped (dpkg in bookworm does not see
//     /bin/x and /usr/bin/x as the same path); X is then rewritten for merged /usr like any
//     path;
//   - two diversions of the same path with different targets or packages: the first (in
//     configuration order, Effects last) is kept and the other is a warning, as dpkg-divert
//     would refuse it;
//   - var/lib/dpkg/diversions is written with the dpkg database when there is at least one
//     diversion: three lines per diversion (path, divert-to, package or ":" for --local),
//     the most recently added first, as dpkg writes it (Effects.Diversions count as the
//     oldest; the scripts' in the order the real scripts add them, see effects.go);
//   - with Options.Installed, a diversion made by a new package moves the matching files of
//     installed packages too: they are written into this layer at X (the file at Y is whatever
//     the new packages put there; if none does, the lower layer's Y stays visible and a warning
//     says so). Diversions of installed packages, and Effects.Diversions, are taken to be
//     reflected in the lower layers already.

// diversion is one resolved diversion.
type diversion struct {
	path, to string // as given (absolute)
	pkg      string // "" for --local
	by       string // package whose script (or "(Effects)") declared it
	// moveInstalled: files of Installed packages are moved by this diversion in this layer (it
	// was declared by a new package).
	moveInstalled bool
}

// appliesTo reports whether a file of package pkg at the diverted path is diverted.
func (d *diversion) appliesTo(pkg string) bool { return d.pkg == "" || d.pkg != pkg }

// diversions gathers diversions by path, refusing clashes.
type diversions struct {
	byPath   map[string]*diversion
	warnings []string
}

func (ds *diversions) add(d *diversion) {
	old, ok := ds.byPath[d.path]
	if !ok {
		ds.byPath[d.path] = d
		return
	}
	if old.to == d.to && old.pkg == d.pkg {
		old.moveInstalled = old.moveInstalled || d.moveInstalled
		return
	}
	ds.warnings = append(ds.warnings, fmt.Sprintf("%s: diversion of %s to %s by %s clashes with the diversion to %s by %s (declared by %s); skipped",
		d.by, d.path, d.to, divOwner(d.pkg), old.to, divOwner(old.pkg), old.by))
}

// collectDiversions gathers the diversions of the (sorted) packages and the caller's, indexed
// by the cleaned diverted path; it also returns them as a list, for the scripts' later run.
func collectDiversions(pkgs []*pkgInfo, extra []maintscript.Diversion) (map[string]*diversion, []maintscript.Diversion, []string) {
	ds := diversions{byPath: map[string]*diversion{}}
	installed := map[string]bool{}
	var mps []*maintscript.Package
	for _, p := range pkgs {
		installed[p.deb.Package] = p.installed
		mps = append(mps, &maintscript.Package{Name: p.deb.Package, Version: p.deb.Version, Architecture: p.deb.Architecture,
			MultiArch: p.deb.MultiArch, Paragraph: p.deb.Paragraph, Members: p.deb.Members})
	}
	var all []maintscript.Diversion
	for _, d := range maintscript.DiscoverDiversions(mps) {
		all = append(all, d.Diversion)
		ds.add(&diversion{path: d.Path, to: d.DivertTo, pkg: d.Package, by: d.By, moveInstalled: !installed[d.By]})
	}
	for _, d := range extra {
		if !strings.HasPrefix(d.Path, "/") || !strings.HasPrefix(d.DivertTo, "/") {
			ds.warnings = append(ds.warnings, fmt.Sprintf("Effects.Diversions: %q -> %q: paths must be absolute; skipped", d.Path, d.DivertTo))
			continue
		}
		all = append(all, d)
		ds.add(&diversion{path: d.Path, to: d.DivertTo, pkg: d.Package, by: "(Effects)"})
	}
	out := make(map[string]*diversion, len(ds.byPath))
	for _, d := range ds.byPath {
		out[cleanName(d.path)] = d
	}
	return out, all, ds.warnings
}

func divOwner(pkg string) string {
	if pkg == "" {
		return "LOCAL"
	}
	return pkg
}

// diversionsFile renders var/lib/dpkg/diversions: the most recently added diversion first.
func diversionsFile(divs []maintscript.Diversion) []byte {
	var b strings.Builder
	for i := len(divs) - 1; i >= 0; i-- {
		d := divs[i]
		owner := d.Package
		if owner == "" {
			owner = ":"
		}
		b.WriteString(d.Path + "\n" + d.DivertTo + "\n" + owner + "\n")
	}
	return []byte(b.String())
}
