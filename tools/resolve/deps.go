package resolve

import (
	"fmt"
	"strings"

	"github.com/ci-images/ci-images/tools/debversion"
)

// visit follows the dependencies of the selected package e.
func (r *resolver) visit(e *entry) error {
	rels, err := e.parsed()
	if err != nil {
		return err
	}
	if msg, bad := r.ix.badProv[e]; bad {
		return fmt.Errorf("%s: Provides: %s", e.pkg.Key(), msg)
	}
	for _, g := range rels.preDepends {
		if err := r.group(e, g, true); err != nil {
			return err
		}
	}
	for _, g := range rels.depends {
		if err := r.group(e, g, true); err != nil {
			return err
		}
	}
	if r.opts.Recommends {
		for _, g := range rels.recommends {
			if err := r.group(e, g, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// group satisfies one OR group of e's relations.
func (r *resolver) group(e *entry, alts debversion.Alternatives, critical bool) error {
	alts = r.applicable(alts)
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
	sols := r.groupSolutions(alts)
	if len(sols) == 0 {
		if !critical {
			return nil
		}
		return fmt.Errorf("%s needed by %s: %s", alts.String(), e.pkg.Key(), r.explain(alts))
	}
	choice := sols[0]
	for _, s := range sols {
		if r.installable(s) {
			choice = s
			break
		}
	}
	r.mark(choice)
	r.deps[e] = append(r.deps[e], choice)
	return r.visit(choice)
}

// applicable drops the members restricted to other architectures.
func (r *resolver) applicable(alts debversion.Alternatives) debversion.Alternatives {
	for i := range alts {
		if !alts[i].AppliesTo(r.ix.arch) {
			kept := make(debversion.Alternatives, 0, len(alts))
			for _, a := range alts {
				if a.AppliesTo(r.ix.arch) {
					kept = append(kept, a)
				}
			}
			return kept
		}
	}
	return alts
}

// groupSolutions lists the solutions of every member of alts, in order,
// each once.
func (r *resolver) groupSolutions(alts debversion.Alternatives) []*entry {
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
	return uniq
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
