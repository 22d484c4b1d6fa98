package resolve

import (
	"fmt"
	"sort"

	"github.com/ci-images/ci-images/tools/debversion"
)

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
						return fmt.Errorf("%s %s %s (%s: %s)", e.pkg.Key(), f.verb, o.pkg.Key(), f.field, rel.String())
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
