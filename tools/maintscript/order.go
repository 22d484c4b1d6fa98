package maintscript

import (
	"sort"

	"github.com/ci-images/ci-images/tools/debversion"
)

// configureOrder returns ps in the order dpkg would configure them: a package after the
// packages of ps it depends on (Pre-Depends and Depends, through Provides), ties and cycles
// broken by name, so that the order depends only on the set.
func configureOrder(ps []*Package, _ map[string]*Package) []*Package {
	byName := map[string]*Package{}
	provides := map[string][]string{}
	for _, p := range ps {
		byName[p.Name] = p
		rels, _ := debversion.ParseRelations(p.field("Provides"))
		for _, alts := range rels {
			for _, r := range alts {
				provides[r.Name] = append(provides[r.Name], p.Name)
			}
		}
	}
	deps := map[string]map[string]bool{} // package -> the packages of ps it waits for
	for _, p := range ps {
		deps[p.Name] = map[string]bool{}
		for _, field := range []string{"Pre-Depends", "Depends"} {
			rels, _ := debversion.ParseRelations(p.field(field))
			for _, alts := range rels {
				for _, r := range alts {
					for _, n := range append([]string{r.Name}, provides[r.Name]...) {
						if byName[n] != nil && n != p.Name {
							deps[p.Name][n] = true
						}
					}
				}
			}
		}
	}
	return topoOrder(byName, deps)
}

// topoOrder orders the packages so that each comes after those it waits for, picking the
// smallest name among the ready ones; in a cycle, the smallest name goes first.
func topoOrder(byName map[string]*Package, deps map[string]map[string]bool) []*Package {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	done := map[string]bool{}
	var out []*Package
	for len(out) < len(names) {
		next := ""
		for _, n := range names {
			if !done[n] && ready(deps[n], done) {
				next = n
				break
			}
		}
		if next == "" {
			for _, n := range names {
				if !done[n] {
					next = n
					break
				}
			}
		}
		done[next] = true
		out = append(out, byName[next])
	}
	return out
}

func ready(waits map[string]bool, done map[string]bool) bool {
	for d := range waits {
		if !done[d] {
			return false
		}
	}
	return true
}
