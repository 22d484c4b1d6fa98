package resolve

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/debversion"
)

// entry is one indexed package with its lazily parsed relations.
type entry struct {
	pkg   *aptrepo.Package
	prio  int // effective repository priority
	prio2 int // Debian Priority as apt orders it (lower first)

	once sync.Once
	rels relations
	err  error
}

type relations struct {
	preDepends, depends, recommends, conflicts, breaks []debversion.Alternatives
}

// parsed returns the parsed relation fields of e, parsing them on first use.
func (e *entry) parsed() (*relations, error) {
	e.once.Do(func() {
		p := e.pkg
		fields := []struct {
			name string
			raw  string
			dst  *[]debversion.Alternatives
		}{
			{"Pre-Depends", p.PreDepends, &e.rels.preDepends},
			{"Depends", p.Depends, &e.rels.depends},
			{"Recommends", p.Recommends, &e.rels.recommends},
			{"Conflicts", p.Conflicts, &e.rels.conflicts},
			{"Breaks", p.Breaks, &e.rels.breaks},
		}
		for _, f := range fields {
			if f.raw == "" {
				continue
			}
			v, err := debversion.ParseRelations(f.raw)
			if err != nil {
				e.err = fmt.Errorf("%s: %s: %w", p.Key(), f.name, err)
				return
			}
			*f.dst = v
		}
	})
	return &e.rels, e.err
}

// provide is one Provides entry: e provides a name, at version (or
// unversioned when version is "").
type provide struct {
	e       *entry
	version string
}

// Index holds packages by name and by provided name. It is safe for
// concurrent use by several Resolve calls. It keeps pointers into the
// slice given to NewIndex, which must not be modified afterwards.
type Index struct {
	arch     string
	byName   map[string][]*entry  // versions of a name, best candidate first
	provides map[string][]provide // providers of a name, in a fixed order
	badProv  map[*entry]string    // unparsable Provides fields, reported when selected
}

// debPriority orders Debian priorities the way apt's cache does.
func debPriority(s string) int {
	switch strings.ToLower(s) {
	case "":
		return 0
	case "required":
		return 1
	case "important":
		return 2
	case "standard":
		return 3
	case "optional":
		return 4
	case "extra":
		return 5
	}
	return 6
}

// NewIndex indexes the packages of repos for the architecture arch (e.g.
// "amd64"); the priority of each package's repository is its
// Source.Priority. Packages of other architectures than arch and "all" are
// left out. The Provides field of every package is parsed here (it is
// needed to find virtual packages); unparsable Provides fields make
// NewIndex ignore that field and are reported by Resolve if the package is
// selected. The index keeps pointers into repos' Packages, which must not
// be modified afterwards.
func NewIndex(arch string, repos ...*aptrepo.Index) *Index {
	n := 0
	for _, r := range repos {
		n += len(r.Packages)
	}
	ix := &Index{
		arch:     arch,
		byName:   make(map[string][]*entry, n),
		provides: make(map[string][]provide),
	}
	entries := make([]entry, 0, n)
	for _, r := range repos {
		prio := r.Source.Priority
		if prio == 0 {
			prio = 500
		}
		for i := range r.Packages {
			p := &r.Packages[i]
			if p.Architecture != arch && p.Architecture != "all" {
				continue
			}
			entries = append(entries, entry{pkg: p, prio: prio, prio2: debPriority(p.Priority)})
			ix.add(&entries[len(entries)-1])
		}
	}
	ix.sort()
	return ix
}

// add indexes e by name and by the names it provides.
func (ix *Index) add(e *entry) {
	p := e.pkg
	ix.byName[p.Name] = append(ix.byName[p.Name], e)
	if p.Provides == "" {
		return
	}
	rels, err := debversion.ParseRelations(p.Provides)
	if err != nil {
		if ix.badProv == nil {
			ix.badProv = make(map[*entry]string)
		}
		ix.badProv[e] = err.Error()
		return
	}
	for _, alts := range rels {
		for _, r := range alts {
			v := ""
			if r.Op == debversion.OpEQ {
				v = r.Version
			}
			ix.provides[r.Name] = append(ix.provides[r.Name], provide{e, v})
		}
	}
}

// sort puts the versions of each name candidate first and the providers of
// each name in a fixed order.
func (ix *Index) sort() {
	for _, list := range ix.byName {
		if len(list) > 1 {
			sort.SliceStable(list, func(i, j int) bool { return better(list[i], list[j]) })
		}
	}
	for _, list := range ix.provides {
		if len(list) > 1 {
			sort.SliceStable(list, func(i, j int) bool {
				a, b := list[i], list[j]
				if a.e.pkg.Name != b.e.pkg.Name {
					return a.e.pkg.Name < b.e.pkg.Name
				}
				if a.e != b.e {
					return better(a.e, b.e)
				}
				return a.version < b.version
			})
		}
	}
}

// better orders versions of one name: candidate first.
func better(a, b *entry) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if c := debversion.Compare(a.pkg.Version, b.pkg.Version); c != 0 {
		return c > 0
	}
	if a.pkg.Repo != b.pkg.Repo {
		return a.pkg.Repo < b.pkg.Repo
	}
	return a.pkg.Architecture < b.pkg.Architecture
}

// Known reports whether name is the name of an indexed package or a name
// that an indexed package provides.
func (ix *Index) Known(name string) bool {
	return len(ix.byName[name]) > 0 || len(ix.provides[name]) > 0
}

// WithPriority returns, sorted, the names of which some indexed version has
// the Debian Priority prio ("required": debootstrap's minbase).
func (ix *Index) WithPriority(prio string) []string {
	var names []string
	for name, list := range ix.byName {
		for _, e := range list {
			if e.pkg.Priority == prio {
				names = append(names, name)
				break
			}
		}
	}
	sort.Strings(names)
	return names
}

// Len returns the number of indexed packages (all versions).
func (ix *Index) Len() int {
	n := 0
	for _, l := range ix.byName {
		n += len(l)
	}
	return n
}

// pinMatches reports whether the version v is selected by the pin: the
// exact version, the version without Debian revision, or the upstream
// version alone.
func pinMatches(v, pin string) bool {
	if v == pin {
		return true
	}
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		// No revision: only the epoch can be left out.
		_, up, ok := strings.Cut(v, ":")
		return ok && up == pin
	}
	noRev := v[:i]
	if noRev == pin {
		return true
	}
	if _, up, ok := strings.Cut(noRev, ":"); ok && up == pin {
		return true
	}
	return false
}

// pinned returns the highest version of name matching pin.
func (ix *Index) pinned(name, pin string) (*entry, error) {
	list := ix.byName[name]
	var best *entry
	for _, e := range list {
		if !pinMatches(e.pkg.Version, pin) {
			continue
		}
		if best == nil || debversion.Compare(e.pkg.Version, best.pkg.Version) > 0 ||
			(e.pkg.Version == best.pkg.Version && e.prio > best.prio) {
			best = e
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s=%s: no such version (available: %s)", name, pin, strings.Join(ix.versions(name), ", "))
	}
	return best, nil
}

// versions lists the distinct versions of name, highest first.
func (ix *Index) versions(name string) []string {
	var vs []string
	seen := map[string]bool{}
	for _, e := range ix.byName[name] {
		if !seen[e.pkg.Version] {
			seen[e.pkg.Version] = true
			vs = append(vs, e.pkg.Version)
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return debversion.Compare(vs[i], vs[j]) > 0 })
	return vs
}
