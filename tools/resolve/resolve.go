package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/aptrepo"
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
	Packages []*aptrepo.Package
	// Deps maps a package key to the sorted keys of the selected packages
	// that satisfied its Pre-Depends, Depends (and Recommends).
	Deps map[string][]string
}

type resolver struct {
	ix       *Index
	opts     Options
	pins     map[string]*entry // name -> pinned version
	exclude  map[string]bool
	selected map[string]*entry // name -> selected version
	order    []*entry
	deps     map[*entry][]*entry
}

// Resolve computes the closure of reqs. Errors are one line naming the
// offending request, relation or package pair.
func (ix *Index) Resolve(reqs []Request, opts Options) (*Result, error) {
	if opts.Arch != "" && opts.Arch != ix.arch {
		return nil, fmt.Errorf("resolve for architecture %q with an index built for %q", opts.Arch, ix.arch)
	}
	r, err := newResolver(ix, opts)
	if err != nil {
		return nil, err
	}
	// Phase 1: select every requested package (apt marks the command line
	// first and installs dependencies afterwards).
	requested, err := r.selectRequests(reqs)
	if err != nil {
		return nil, err
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

// newResolver returns a resolver with the pins of opts applied.
func newResolver(ix *Index, opts Options) (*resolver, error) {
	r := &resolver{
		ix:       ix,
		opts:     opts,
		pins:     map[string]*entry{},
		exclude:  map[string]bool{},
		selected: map[string]*entry{},
		deps:     map[*entry][]*entry{},
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
	return r, nil
}

// selectRequests selects the requested packages, in order, and returns
// them (each once).
func (r *resolver) selectRequests(reqs []Request) ([]*entry, error) {
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
		r.mark(e)
		requested = append(requested, e)
	}
	return requested, nil
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

// mark selects e.
func (r *resolver) mark(e *entry) {
	r.selected[e.pkg.Name] = e
	r.order = append(r.order, e)
}

// result lists the selected packages and what satisfied their dependencies.
func (r *resolver) result() *Result {
	res := &Result{
		Packages: make([]*aptrepo.Package, 0, len(r.order)),
		Deps:     make(map[string][]string, len(r.order)),
	}
	for _, e := range r.order {
		k := e.pkg.Key()
		res.Packages = append(res.Packages, e.pkg)
		var ds []string
		for _, d := range r.deps[e] {
			ds = append(ds, d.pkg.Key())
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
