package lock

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/resolve"
)

// setResult is one resolved set.
type setResult struct {
	keys  []string
	pkgs  map[string]lockfile.Package
	notes []string
}

// resolveSets resolves every selected set; sets with the same sources share one index.
func resolveSets(in lockfile.Inputs, selected []string, indexes map[string]*aptrepo.Index, log io.Writer) (map[string]*setResult, error) {
	sources := map[string]aptrepo.Source{}
	for _, src := range in.Sources {
		sources[src.Name] = src
	}
	shared := map[string]*resolve.Index{}
	results := map[string]*setResult{}
	for _, name := range selected {
		s := in.Sets[name]
		r, err := resolveSet(setIndex(shared, in, s, indexes), in, name, sources)
		if err != nil {
			return nil, err
		}
		results[name] = r
		for _, n := range r.notes {
			fmt.Fprintf(log, "  note: %s: %s\n", name, n)
		}
	}
	return results, nil
}

// setIndex returns the index of the sources of s (in sources.json order), from shared
// when another set with the same sources built it already.
func setIndex(shared map[string]*resolve.Index, in lockfile.Inputs, s lockfile.SetInputs, indexes map[string]*aptrepo.Index) *resolve.Index {
	names := append([]string(nil), s.Sources...)
	sort.Strings(names)
	key := strings.Join(names, ",")
	if ix := shared[key]; ix != nil {
		return ix
	}
	var repos []*aptrepo.Index
	for _, src := range in.Sources {
		for _, n := range names {
			if n == src.Name {
				repos = append(repos, indexes[n])
			}
		}
	}
	ix := resolve.NewIndex(in.Arch, repos...)
	shared[key] = ix
	return ix
}

// Requests returns the requests of a set as the resolver gets them: base priorities first
// (sorted by name, minus names requested explicitly), then the requests in order, optional
// requests of names that ix does not know dropped (with a note each).
func Requests(ix *resolve.Index, s lockfile.SetInputs) ([]resolve.Request, []string, error) {
	var explicit []Request
	named := map[string]bool{}
	for _, raw := range s.Requests {
		r, err := ParseRequest(raw)
		if err != nil {
			return nil, nil, err
		}
		explicit = append(explicit, r)
		named[r.Name] = true
	}
	var reqs []resolve.Request
	var notes []string
	seen := map[string]bool{}
	for _, prio := range s.BasePriorities {
		for _, n := range ix.WithPriority(prio) {
			if !named[n] && !seen[n] {
				seen[n] = true
				reqs = append(reqs, resolve.Request{Name: n})
			}
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	for i, r := range explicit {
		if r.Optional && !ix.Known(r.Name) {
			notes = append(notes, fmt.Sprintf("optional request %s dropped: no package %s in sources %s", s.Requests[i], r.Name, strings.Join(s.Sources, ", ")))
			continue
		}
		reqs = append(reqs, resolve.Request{Name: r.Name, Version: r.Version})
	}
	return reqs, notes, nil
}

// resolveSet resolves the set name against ix; sources maps source names to the sources
// the lockfile records (canonical URLs and mirrors).
func resolveSet(ix *resolve.Index, in lockfile.Inputs, name string, sources map[string]aptrepo.Source) (*setResult, error) {
	s := in.Sets[name]
	reqs, notes, err := Requests(ix, s)
	if err != nil {
		return nil, fmt.Errorf("set %s (%s): %w", name, s.File, err)
	}
	res, err := ix.Resolve(reqs, resolve.Options{Arch: in.Arch, Recommends: in.Recommends, Exclude: s.Exclude})
	if err != nil {
		return nil, fmt.Errorf("set %s (%s): %w", name, s.File, err)
	}
	out := &setResult{pkgs: map[string]lockfile.Package{}, notes: notes}
	for _, p := range res.Packages {
		key := p.Key()
		out.pkgs[key] = lockfile.NewPackage(p, sources[p.Repo], res.Deps[key])
		out.keys = append(out.keys, key)
	}
	sort.Strings(out.keys)
	return out, nil
}
