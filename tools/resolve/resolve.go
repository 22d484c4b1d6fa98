package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/debversion"
)

// Request asks for one package, optionally pinned to a version (see the
// package documentation for how a pin matches).
type Request struct {
	Name    string
	Version string
}

// Options tune a resolution.
type Options struct {
	// Arch is the target architecture; "" means the index's. It must match
	// the architecture the index was built for.
	Arch string
	// Recommends follows Recommends like Depends (apt's default); the
	// zero value behaves like --no-install-recommends.
	Recommends bool
	// Pins replaces the candidate of a package name by the highest version
	// matching the pin (same matching as Request.Version), whenever that
	// name is pulled in. A pin of an unknown package or of a version that
	// does not exist is an error.
	Pins map[string]string
	// Exclude lists packages assumed present (provided by the base image):
	// they are never selected, any relation on their name counts as
	// satisfied whatever its version constraint, and so does any relation
	// on a name that some indexed version of them Provides. Requesting an
	// excluded package is a no-op.
	Exclude []string
}

// Result is the closure of a request.
type Result struct {
	// Packages are the selected packages, sorted by name.
	Packages []*Package
	// Deps maps a package key to the sorted keys of the selected packages
	// that satisfied its Pre-Depends, Depends (and Recommends).
	Deps map[string][]string
	// Reasons tells why each package (by key) was selected: "requested",
	// "dep of <key>" or "recommended by <key>".
	Reasons map[string]string
}

type resolver struct {
	ix       *Index
	opts     Options
	pins     map[string]*entry // name -> pinned version
	exclude  map[string]bool
	selected map[string]*entry // name -> selected version
	order    []*entry
	deps     map[*entry][]*entry
	reasons  map[*entry]string
}

// Resolve computes the closure of reqs. Errors are one line naming the
// offending request, relation or package pair.
func (ix *Index) Resolve(reqs []Request, opts Options) (*Result, error) {
	if opts.Arch != "" && opts.Arch != ix.arch {
		return nil, fmt.Errorf("resolve for architecture %q with an index built for %q", opts.Arch, ix.arch)
	}
	r := &resolver{
		ix:       ix,
		opts:     opts,
		pins:     map[string]*entry{},
		exclude:  map[string]bool{},
		selected: map[string]*entry{},
		deps:     map[*entry][]*entry{},
		reasons:  map[*entry]string{},
	}
	for _, n := range opts.Exclude {
		r.exclude[n] = true
	}
	pinNames := make([]string, 0, len(opts.Pins))
	for n := range opts.Pins {
		pinNames = append(pinNames, n)
	}
	sort.Strings(pinNames)
	for _, n := range pinNames {
		if len(ix.byName[n]) == 0 {
			return nil, fmt.Errorf("pin %s=%s: unknown package %q", n, opts.Pins[n], n)
		}
		e, err := ix.pinned(n, opts.Pins[n])
		if err != nil {
			return nil, fmt.Errorf("pin %w", err)
		}
		r.pins[n] = e
	}

	// Phase 1: select every requested package (apt marks the command line
	// first and installs dependencies afterwards).
	var requested []*entry
	for _, q := range reqs {
		if r.exclude[q.Name] {
			continue
		}
		e, err := r.request(q)
		if err != nil {
			return nil, err
		}
		if s := r.selected[e.pkg.Name]; s != nil {
			if s != e {
				return nil, fmt.Errorf("%s requested twice with different versions: %s and %s", e.pkg.Name, s.pkg.Version, e.pkg.Version)
			}
			continue
		}
		r.mark(e, "requested")
		requested = append(requested, e)
	}
	// Phase 2: dependencies, depth-first in request order.
	for _, e := range requested {
		if err := r.visit(e); err != nil {
			return nil, err
		}
	}
	if err := r.checkConflicts(); err != nil {
		return nil, err
	}
	return r.result(), nil
}

// request finds the entry a request asks for.
func (r *resolver) request(q Request) (*entry, error) {
	ix := r.ix
	if q.Version != "" {
		if len(ix.byName[q.Name]) == 0 {
			if len(ix.provides[q.Name]) > 0 {
				return nil, fmt.Errorf("%s=%s: %q is a virtual package and cannot be pinned (requested)", q.Name, q.Version, q.Name)
			}
			return nil, fmt.Errorf("unknown package %q (requested)", q.Name)
		}
		e, err := ix.pinned(q.Name, q.Version)
		if err != nil {
			return nil, err
		}
		if p, ok := r.pins[q.Name]; ok && p != e {
			return nil, fmt.Errorf("%s=%s: request selects %s but Options.Pins selects %s", q.Name, q.Version, e.pkg.Version, p.pkg.Version)
		}
		r.pins[q.Name] = e
		return e, nil
	}
	if e := r.candidate(q.Name); e != nil {
		return e, nil
	}
	if len(ix.byName[q.Name]) > 0 {
		return nil, fmt.Errorf("package %q has no installation candidate: all its versions have a negative priority (requested)", q.Name)
	}
	var provs []*entry
	for _, pv := range ix.provides[q.Name] {
		if c := r.candidate(pv.e.pkg.Name); c == pv.e && (len(provs) == 0 || provs[len(provs)-1] != c) {
			provs = append(provs, c)
		}
	}
	switch len(provs) {
	case 0:
		return nil, fmt.Errorf("unknown package %q (requested)", q.Name)
	case 1:
		return provs[0], nil
	}
	names := make([]string, len(provs))
	for i, p := range provs {
		names[i] = p.pkg.Name
	}
	return nil, fmt.Errorf("package %q is virtual and provided by %s: request one of them (requested)", q.Name, strings.Join(names, ", "))
}

// candidate returns the version of name that would be installed, or nil.
func (r *resolver) candidate(name string) *entry {
	if e, ok := r.pins[name]; ok {
		return e
	}
	list := r.ix.byName[name]
	if len(list) == 0 || list[0].prio < 0 {
		return nil
	}
	return list[0]
}

func (r *resolver) mark(e *entry, reason string) {
	r.selected[e.pkg.Name] = e
	r.order = append(r.order, e)
	r.reasons[e] = reason
}

// qualOK checks the architecture qualifier of rel against package e.
func (r *resolver) qualOK(rel *debversion.Relation, e *entry) bool {
	switch rel.ArchQual {
	case "", "native", r.ix.arch:
		return true
	case "any":
		return e.pkg.MultiArch == "allowed"
	}
	return false
}

// matchReal reports whether e (named rel.Name) satisfies rel.
func (r *resolver) matchReal(rel *debversion.Relation, e *entry) bool {
	return r.qualOK(rel, e) && rel.SatisfiedBy(e.pkg.Version)
}

// matchProvide reports whether the Provides entry pv satisfies rel.
func (r *resolver) matchProvide(rel *debversion.Relation, pv provide) bool {
	if !r.qualOK(rel, pv.e) {
		return false
	}
	if rel.Op == debversion.OpNone {
		return true
	}
	return pv.version != "" && rel.SatisfiedBy(pv.version)
}

// satisfied reports whether a selected or excluded package satisfies rel;
// by is the selected package (nil when an excluded one does).
func (r *resolver) satisfied(rel *debversion.Relation) (by *entry, ok bool) {
	if r.exclude[rel.Name] {
		return nil, true
	}
	if s := r.selected[rel.Name]; s != nil && r.matchReal(rel, s) {
		return s, true
	}
	for _, pv := range r.ix.provides[rel.Name] {
		n := pv.e.pkg.Name
		if r.selected[n] == pv.e && r.matchProvide(rel, pv) {
			return pv.e, true
		}
	}
	for _, pv := range r.ix.provides[rel.Name] {
		if r.exclude[pv.e.pkg.Name] && r.matchProvide(rel, pv) {
			return nil, true
		}
	}
	return nil, false
}

// solutions lists the candidates that would satisfy rel, ordered like
// apt's CompareProviders (see the package documentation).
func (r *resolver) solutions(rel *debversion.Relation, out []*entry) []*entry {
	if c := r.candidate(rel.Name); c != nil && r.matchReal(rel, c) {
		out = append(out, c)
	}
	start := len(out)
	for _, pv := range r.ix.provides[rel.Name] {
		c := r.candidate(pv.e.pkg.Name)
		if c != pv.e || !r.matchProvide(rel, pv) || contains(out, c) {
			continue
		}
		out = append(out, c)
	}
	provs := out[start:]
	sort.SliceStable(provs, func(i, j int) bool {
		a, b := provs[i].pkg, provs[j].pkg
		if a.Essential != b.Essential {
			return a.Essential
		}
		if pa, pb := provs[i].prio2, provs[j].prio2; pa != pb {
			return pa < pb
		}
		return a.Name < b.Name
	})
	return out
}

func contains(list []*entry, e *entry) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// hasSolution reports whether rel could be satisfied by something selected,
// excluded or by some candidate.
func (r *resolver) hasSolution(rel *debversion.Relation) bool {
	if _, ok := r.satisfied(rel); ok {
		return true
	}
	if c := r.candidate(rel.Name); c != nil && r.matchReal(rel, c) {
		return true
	}
	for _, pv := range r.ix.provides[rel.Name] {
		if r.candidate(pv.e.pkg.Name) == pv.e && r.matchProvide(rel, pv) {
			return true
		}
	}
	return false
}

// installable is apt's look-ahead: every critical dependency of e has
// some solution.
func (r *resolver) installable(e *entry) bool {
	rels, err := e.parsed()
	if err != nil {
		return false
	}
	for _, groups := range [][]debversion.Alternatives{rels.preDepends, rels.depends} {
	group:
		for _, alts := range groups {
			applies := false
			for i := range alts {
				if !alts[i].AppliesTo(r.ix.arch) {
					continue
				}
				applies = true
				if r.hasSolution(&alts[i]) {
					continue group
				}
			}
			if applies {
				return false
			}
		}
	}
	return true
}

// visit follows the dependencies of the selected package e.
func (r *resolver) visit(e *entry) error {
	rels, err := e.parsed()
	if err != nil {
		return err
	}
	if msg, bad := r.ix.badProv[e]; bad {
		return fmt.Errorf("%s: Provides: %s", Key(e.pkg), msg)
	}
	for _, g := range rels.preDepends {
		if err := r.group(e, g, true, "dep of "); err != nil {
			return err
		}
	}
	for _, g := range rels.depends {
		if err := r.group(e, g, true, "dep of "); err != nil {
			return err
		}
	}
	if r.opts.Recommends {
		for _, g := range rels.recommends {
			if err := r.group(e, g, false, "recommended by "); err != nil {
				return err
			}
		}
	}
	return nil
}

// group satisfies one OR group of e's relations.
func (r *resolver) group(e *entry, alts debversion.Alternatives, critical bool, why string) error {
	// Drop members restricted to other architectures.
	for i := range alts {
		if !alts[i].AppliesTo(r.ix.arch) {
			kept := make(debversion.Alternatives, 0, len(alts))
			for _, a := range alts {
				if a.AppliesTo(r.ix.arch) {
					kept = append(kept, a)
				}
			}
			alts = kept
			break
		}
	}
	if len(alts) == 0 {
		return nil
	}
	for i := range alts {
		if by, ok := r.satisfied(&alts[i]); ok {
			if by != nil {
				r.deps[e] = append(r.deps[e], by)
			}
			return nil
		}
	}
	var sols []*entry
	for i := range alts {
		sols = r.solutions(&alts[i], sols)
	}
	// solutions de-duplicates within one member only.
	uniq := sols[:0]
	for _, s := range sols {
		if !contains(uniq, s) {
			uniq = append(uniq, s)
		}
	}
	sols = uniq
	if len(sols) == 0 {
		if !critical {
			return nil
		}
		return fmt.Errorf("%s needed by %s: %s", alts.String(), Key(e.pkg), r.explain(alts))
	}
	choice := sols[0]
	for _, s := range sols {
		if r.installable(s) {
			choice = s
			break
		}
	}
	r.mark(choice, why+Key(e.pkg))
	r.deps[e] = append(r.deps[e], choice)
	return r.visit(choice)
}

// explain says why no member of alts has a solution.
func (r *resolver) explain(alts debversion.Alternatives) string {
	var parts []string
	for i := range alts {
		rel := &alts[i]
		c := r.candidate(rel.Name)
		var provs []string
		for _, pv := range r.ix.provides[rel.Name] {
			if r.candidate(pv.e.pkg.Name) != pv.e {
				continue
			}
			s := pv.e.pkg.Name + " " + pv.e.pkg.Version
			if pv.version != "" {
				s += " provides " + rel.Name + " (= " + pv.version + ")"
			} else {
				s += " provides " + rel.Name + " unversioned"
			}
			provs = append(provs, s)
		}
		var why string
		switch {
		case c != nil && !r.qualOK(rel, c):
			if rel.ArchQual == "any" {
				why = fmt.Sprintf("candidate %s %s is not Multi-Arch: allowed", c.pkg.Name, c.pkg.Version)
			} else {
				why = fmt.Sprintf("no %s package for architecture %q", rel.Name, rel.ArchQual)
			}
		case c != nil:
			why = fmt.Sprintf("candidate %s %s does not satisfy", c.pkg.Name, c.pkg.Version)
		case len(r.ix.byName[rel.Name]) > 0:
			why = fmt.Sprintf("%s has no installation candidate (negative priority)", rel.Name)
		case len(provs) == 0:
			why = fmt.Sprintf("no package or provider named %q", rel.Name)
		}
		if len(provs) > 0 {
			if why != "" {
				why += ", and "
			}
			why += "no provider satisfies (" + strings.Join(provs, ", ") + ")"
		}
		parts = append(parts, why)
	}
	return strings.Join(parts, "; ")
}

// checkConflicts reports the first Conflicts or Breaks clash among the
// selected packages, in name order.
func (r *resolver) checkConflicts() error {
	sel := make([]*entry, len(r.order))
	copy(sel, r.order)
	sort.Slice(sel, func(i, j int) bool { return sel[i].pkg.Name < sel[j].pkg.Name })
	for _, e := range sel {
		rels, err := e.parsed()
		if err != nil {
			return err
		}
		for _, f := range []struct {
			field string
			verb  string
			rels  []debversion.Alternatives
		}{{"Conflicts", "conflicts with", rels.conflicts}, {"Breaks", "breaks", rels.breaks}} {
			for _, alts := range f.rels {
				for i := range alts {
					rel := &alts[i]
					if !rel.AppliesTo(r.ix.arch) {
						continue
					}
					if o := r.clash(e, rel); o != nil {
						return fmt.Errorf("%s %s %s (%s: %s)", Key(e.pkg), f.verb, Key(o.pkg), f.field, rel.String())
					}
				}
			}
		}
	}
	return nil
}

// clash returns a selected package other than e that rel matches.
func (r *resolver) clash(e *entry, rel *debversion.Relation) *entry {
	if s := r.selected[rel.Name]; s != nil && s != e && r.matchReal(rel, s) {
		return s
	}
	for _, pv := range r.ix.provides[rel.Name] {
		if pv.e != e && r.selected[pv.e.pkg.Name] == pv.e && r.matchProvide(rel, pv) {
			return pv.e
		}
	}
	return nil
}

func (r *resolver) result() *Result {
	res := &Result{
		Packages: make([]*Package, 0, len(r.order)),
		Deps:     make(map[string][]string, len(r.order)),
		Reasons:  make(map[string]string, len(r.order)),
	}
	for _, e := range r.order {
		k := Key(e.pkg)
		res.Packages = append(res.Packages, e.pkg)
		res.Reasons[k] = r.reasons[e]
		var ds []string
		for _, d := range r.deps[e] {
			ds = append(ds, Key(d.pkg))
		}
		sort.Strings(ds)
		ds = compact(ds)
		if ds == nil {
			ds = []string{}
		}
		res.Deps[k] = ds
	}
	sort.Slice(res.Packages, func(i, j int) bool {
		a, b := res.Packages[i], res.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return debversion.Compare(a.Version, b.Version) < 0
	})
	return res
}

func compact(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
