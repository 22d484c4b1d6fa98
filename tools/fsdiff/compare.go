package fsdiff

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Category is why a difference is allowed. Every Rule and Normalizer names one.
type Category string

// Rule allows some differences at the paths it matches.
type Rule struct {
	// Path is a pattern over slash-separated paths: each segment is a path.Match pattern,
	// and a "**" segment matches any number of segments (also none).
	Path string
	// Target, when set, is a path.Match pattern that the symlink target of the entry (the
	// wanted one, or the one that was made when it is missing) must match.
	Target string
	// Aspects are the differences the rule allows; a difference with any other aspect stays
	// unexplained. Empty means every aspect.
	Aspects []Aspect
	// Category and Reason say why.
	Category Category
	Reason   string
}

// Normalizer rewrites the content of the files it matches before their second hash
// (Entry.NormSHA256), to ignore one named part of it, such as a date. Every normalizer that
// matches a path is applied, in order; a difference one of them explains alone is allowed
// under its category, one that needs several under the first one's, with all their reasons.
type Normalizer struct {
	// Path is a pattern, as in Rule.
	Path     string
	Category Category
	Reason   string
	Apply    func([]byte) []byte
}

// Policy is an allow-list: the normalizers to read both trees with and the rules to compare
// them with.
type Policy struct {
	Normalizers []Normalizer
	Rules       []Rule
}

// Report is the result of Compare.
type Report struct {
	// Compared counts the paths of either tree, Equal those whose entries are equal.
	Compared, Equal int
	// Allowed holds the allowed differences by category, Unexplained the others; both are
	// sorted by path.
	Allowed     map[Category][]Diff
	Unexplained []Diff
}

// Compare compares the tree that was made (got) with the wanted one (want), both read with
// p.Normalizers.
func Compare(want, got Tree, p Policy) *Report {
	r := &Report{Allowed: map[Category][]Diff{}}
	paths := want.Paths()
	for _, q := range got.Paths() {
		if want[q] == nil {
			paths = append(paths, q)
		}
	}
	sort.Strings(paths)
	for _, q := range paths {
		r.Compared++
		d := Diff{Path: q, Want: want[q], Got: got[q], Aspects: aspects(want[q], got[q])}
		if len(d.Aspects) == 0 {
			r.Equal++
			continue
		}
		if p.explain(&d) {
			r.Allowed[d.Category] = append(r.Allowed[d.Category], d)
		} else {
			r.Unexplained = append(r.Unexplained, d)
		}
	}
	return r
}

// explain sets d's category and reason from the first normalizer or rule that explains it.
func (p Policy) explain(d *Diff) bool {
	if len(d.Aspects) == 1 && d.Aspects[0] == Content && d.Want.NormSHA256 != "" && d.Want.NormSHA256 == d.Got.NormSHA256 {
		p.explainNormalized(d)
		return true
	}
	for _, rule := range p.Rules {
		if rule.explains(*d) {
			d.Category, d.Reason = rule.Category, rule.Reason
			return true
		}
	}
	return false
}

// explainNormalized names the normalizers that explain a content difference: the first that
// does alone, else all of them.
func (p Policy) explainNormalized(d *Diff) {
	var matching []Normalizer
	for _, n := range p.Normalizers {
		if Match(n.Path, d.Path) {
			matching = append(matching, n)
		}
	}
	w, g := d.Want.NormSHA256s, d.Got.NormSHA256s
	for i, n := range matching {
		if len(matching) == 1 || i < len(w) && i < len(g) && w[i] == g[i] {
			d.Category, d.Reason = n.Category, n.Reason
			return
		}
	}
	var reasons []string
	for _, n := range matching {
		reasons = append(reasons, n.Reason)
	}
	d.Category, d.Reason = matching[0].Category, strings.Join(reasons, "; ")
}

func (rule Rule) explains(d Diff) bool {
	if !Match(rule.Path, d.Path) {
		return false
	}
	if rule.Target != "" {
		e := d.Want
		if e == nil {
			e = d.Got
		}
		if e.Kind != Symlink {
			return false
		}
		if ok, _ := path.Match(rule.Target, e.Link); !ok {
			return false
		}
	}
	if len(rule.Aspects) == 0 {
		return true
	}
	for _, a := range d.Aspects {
		if !rule.allows(a) {
			return false
		}
	}
	return true
}

func (rule Rule) allows(a Aspect) bool {
	for _, x := range rule.Aspects {
		if x == a {
			return true
		}
	}
	return false
}

// Match reports whether the slash-separated path p matches pattern: each segment is a
// path.Match pattern, and a "**" segment matches any number of segments (also none). A
// malformed pattern matches nothing.
func Match(pattern, p string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// AllowedCount is the number of allowed differences.
func (r *Report) AllowedCount() int {
	n := 0
	for _, ds := range r.Allowed {
		n += len(ds)
	}
	return n
}

// Summary gives the counts in a few lines: entries compared, equal, allowed differences by
// category, unexplained differences.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "entries compared: %d\n", r.Compared)
	fmt.Fprintf(&b, "equal:            %d\n", r.Equal)
	fmt.Fprintf(&b, "allowed:          %d\n", r.AllowedCount())
	var cats []string
	for c := range r.Allowed {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		fmt.Fprintf(&b, "  %-28s %d\n", c+":", len(r.Allowed[Category(c)]))
	}
	fmt.Fprintf(&b, "unexplained:      %d\n", len(r.Unexplained))
	return b.String()
}
