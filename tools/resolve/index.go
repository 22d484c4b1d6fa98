// Package resolve computes the closure of an install request over apt
// package indexes, the way `apt-get install --no-install-recommends` does
// on a system with an empty dpkg status: it picks a candidate version per
// package name from repository priorities and versions, follows
// Pre-Depends and Depends (and optionally Recommends) through alternatives
// and virtual packages, and checks Conflicts and Breaks among the result.
//
// The package is independent of how indexes are fetched: callers convert
// their records to Package values and keep a back pointer in Package.Ref.
//
// # Candidate versions
//
// For each package name the candidate is, like apt's policy, the version
// from the repository with the highest RepoPriority, and among those the
// highest version (so a repository pinned higher wins over a higher
// version elsewhere). Identical versions from several repositories are
// ordered by repository name. A negative RepoPriority never yields a
// candidate. A zero RepoPriority means the apt default, 500.
//
// A version pin (Request.Version or Options.Pins) replaces the candidate of
// that name with the highest version matching the pin, whatever the
// priorities. A pin matches a version v if it is the exact string v, or v
// without its Debian revision ("1:16.1" for "1:16.1-1.pgdg120+1"), or the
// bare upstream version ("16.1"). Matching is by string equality, so "16.1"
// never matches "16.13-1.pgdg120+1" nor "16.10-1".
//
// # Dependencies
//
// Resolution follows apt's pkgDepCache::MarkInstall on an empty status:
//
//  1. All requested packages are selected first, then their dependencies
//     are followed depth-first, in request order and, per package, in field
//     order: Pre-Depends, Depends, then Recommends (only with
//     Options.Recommends). Unsatisfiable Recommends are ignored.
//  2. An OR group ("a | b") that any member already satisfies through a
//     selected package (or an excluded one, see Options.Exclude) is done:
//     this is how apt prefers an alternative that is already being
//     installed, and why the order of requests matters.
//  3. Otherwise the possible solutions are listed alternative by
//     alternative: for each member, the package of that name if its
//     candidate satisfies the relation, and every package whose candidate
//     Provides the name with a satisfying version (an unversioned Provides
//     never satisfies a versioned relation). Within one member they are
//     ordered like apt's CompareProviders: the real package before
//     providers, Essential before non-essential, then by Debian Priority
//     (required, important, standard, optional, extra; a missing Priority
//     sorts first, as in apt), then by name (apt falls back to its internal
//     package id, which depends on index order; the name is a stable
//     stand-in). That is why "awk" resolves to mawk in bookworm: mawk is
//     Priority: required, the other providers optional.
//  4. The first solution whose own Pre-Depends/Depends all have some
//     solution among selected packages and candidates is selected (apt's
//     IsInstallOkDependenciesSatisfiableByCandidates). If none passes that
//     check, the first solution is selected anyway so that the error names
//     the real missing piece. There is no deeper backtracking.
//  5. Only the candidate is considered for each name: if it does not
//     satisfy a versioned relation (and no provider does), resolution fails
//     naming both, as apt does ("but 2-1 is to be installed").
//
// A requested name that is only virtual resolves to its provider when
// there is exactly one; with several, the request is an error listing them
// (apt: "You should explicitly select one to install").
//
// Architecture: the index keeps packages of the target architecture and
// "all". Relations whose [arch] list excludes the architecture are dropped,
// build profiles are ignored. "name:any" is satisfied only by packages
// (and their Provides) that are Multi-Arch: allowed; "name:native" and
// "name:<arch>" for the target architecture behave like plain "name";
// other architecture qualifiers are never satisfied.
//
// After the closure, Conflicts and Breaks of every selected package are
// checked against the selected packages and what they provide (a package
// never conflicts with itself, so "Provides: x, Conflicts: x" is fine);
// the first clash is an error naming both packages.
package resolve

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ci-images/ci-images/tools/debversion"
)

// Package is one version of a binary package as the resolver sees it.
type Package struct {
	Name, Version, Architecture string // Architecture: the target architecture or "all"

	// Raw relation fields, parsed lazily for the packages a resolution visits.
	Depends, PreDepends, Recommends, Provides, Conflicts, Breaks string

	MultiArch string // "same", "foreign", "allowed" or ""
	Essential bool
	Priority  string // Debian "Priority:" field: required, important, standard, optional, extra

	Repo         string // source repository name, e.g. "debian", "pgdg"
	RepoPriority int    // apt pin priority of the repository; 0 means the default 500
	Ref          any    // opaque pointer back to the caller's record
}

// Key identifies a package version: "name_version_arch".
func Key(p *Package) string {
	return p.Name + "_" + p.Version + "_" + p.Architecture
}

// entry is one indexed package with its lazily parsed relations.
type entry struct {
	pkg   *Package
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
				e.err = fmt.Errorf("%s: %s: %w", Key(p), f.name, err)
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

// NewIndex indexes pkgs for the architecture arch (e.g. "amd64"). Packages
// of other architectures than arch and "all" are left out. The Provides
// field of every package is parsed here (it is needed to find virtual
// packages); unparsable Provides fields make NewIndex ignore that field and
// are reported by Resolve if the package is selected.
func NewIndex(pkgs []Package, arch string) *Index {
	ix := &Index{
		arch:     arch,
		byName:   make(map[string][]*entry, len(pkgs)),
		provides: make(map[string][]provide),
	}
	entries := make([]entry, len(pkgs))
	n := 0
	for i := range pkgs {
		p := &pkgs[i]
		if p.Architecture != arch && p.Architecture != "all" {
			continue
		}
		e := &entries[n]
		n++
		e.pkg = p
		e.prio = p.RepoPriority
		if e.prio == 0 {
			e.prio = 500
		}
		e.prio2 = debPriority(p.Priority)
		ix.byName[p.Name] = append(ix.byName[p.Name], e)
		if p.Provides == "" {
			continue
		}
		rels, err := debversion.ParseRelations(p.Provides)
		if err != nil {
			if ix.badProv == nil {
				ix.badProv = make(map[*entry]string)
			}
			ix.badProv[e] = err.Error()
			continue
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
	return ix
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

// Arch returns the architecture the index was built for.
func (ix *Index) Arch() string { return ix.arch }

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
