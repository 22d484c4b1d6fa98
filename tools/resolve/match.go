package resolve

import (
	"sort"

	"github.com/ci-images/ci-images/tools/debversion"
)

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
