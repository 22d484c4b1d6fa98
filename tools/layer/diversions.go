package layer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
)

// Diversions (dpkg-divert) are reproduced declaratively:
//
//   - every dpkg-divert --add call in the preinst and postinst of every package of the set (new
//     and Installed) is read (maintscript.Diversions), plus Effects.Diversions;
//   - a non-directory entry shipped at path Y by a package other than the diversion's package
//     (by any package for a --local diversion) is written at X instead, as dpkg does regardless
//     of --rename (the diversion is taken to exist before any package is unpacked, which is the
//     order in which the call was meant to work). The package's .list still records Y, as dpkg
//     does. Y is matched literally against the path as shipped (dpkg in bookworm does not see
//     /bin/x and /usr/bin/x as the same path); X is then rewritten for merged /usr like any
//     path;
//   - two diversions of the same path with different targets or packages: the first (by
//     package name, preinst before postinst, Effects last) is kept and the other is a warning,
//     as dpkg-divert would refuse it;
//   - var/lib/dpkg/diversions is written with the dpkg database when there is at least one
//     diversion: three lines per diversion (path, divert-to, package or ":" for --local),
//     sorted by path;
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
// by the cleaned diverted path.
func collectDiversions(pkgs []*pkgInfo, extra []maintscript.Diversion) (map[string]*diversion, []string) {
	ds := diversions{byPath: map[string]*diversion{}}
	for _, p := range pkgs {
		for _, m := range []string{"preinst", "postinst"} {
			s, ok := p.deb.Members[m]
			if !ok {
				continue
			}
			found, w := maintscript.Diversions(string(s), p.deb.Package, m)
			ds.warnings = append(ds.warnings, w...)
			for _, d := range found {
				ds.add(&diversion{path: d.Path, to: d.DivertTo, pkg: d.Package, by: p.deb.Package, moveInstalled: !p.installed})
			}
		}
	}
	for _, d := range extra {
		if !strings.HasPrefix(d.Path, "/") || !strings.HasPrefix(d.DivertTo, "/") {
			ds.warnings = append(ds.warnings, fmt.Sprintf("Effects.Diversions: %q -> %q: paths must be absolute; skipped", d.Path, d.DivertTo))
			continue
		}
		ds.add(&diversion{path: d.Path, to: d.DivertTo, pkg: d.Package, by: "(Effects)"})
	}
	out := make(map[string]*diversion, len(ds.byPath))
	for _, d := range ds.byPath {
		out[cleanName(d.path)] = d
	}
	return out, ds.warnings
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
