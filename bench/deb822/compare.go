package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"pault.ag/go/debian/control"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"

	"github.com/ci-images/ci-images/tools/deb822"
	"github.com/ci-images/ci-images/tools/debversion"
)

// compare runs every correctness comparison and returns the report lines.
func compare(data []byte, c *corpus) []string {
	var out []string
	out = append(out, compareParagraphs(data, c.paras)...)
	out = append(out, compareVersions(c)...)
	return append(out, compareRelations(c)...)
}

// tally counts disagreements and keeps the first few examples.
type tally struct {
	n        int
	examples []string
}

func (t *tally) add(format string, args ...any) {
	t.n++
	if len(t.examples) < 3 {
		t.examples = append(t.examples, fmt.Sprintf(format, args...))
	}
}

func (t *tally) lines(what string) []string {
	out := []string{fmt.Sprintf("  %s: %d", what, t.n)}
	for _, e := range t.examples {
		out = append(out, "      e.g. "+e)
	}
	return out
}

// compareParagraphs compares field names and values. pault's values follow another
// convention for multi-line values (a trailing "\n", no leading "\n" when the first line
// is empty, " ." read as an empty line); "normalized" undoes that difference.
func compareParagraphs(data []byte, ours []deb822.Paragraph) []string {
	r, err := control.NewParagraphReader(bytes.NewReader(data), nil)
	if err != nil {
		return []string{"paragraphs: pault: " + err.Error()}
	}
	theirs, err := r.All()
	if err != nil {
		return []string{"paragraphs: pault: " + err.Error()}
	}
	out := []string{fmt.Sprintf("paragraphs: ours %d, pault %d", len(ours), len(theirs))}
	var names, raw, norm tally
	for i := 0; i < min(len(ours), len(theirs)); i++ {
		o, t := ours[i], theirs[i]
		var on []string
		for _, f := range o.Fields {
			on = append(on, f.Name)
		}
		if strings.Join(on, ",") != strings.Join(t.Order, ",") {
			names.add("paragraph %d: %v vs %v", i+1, on, t.Order)
			continue
		}
		for _, f := range o.Fields {
			tv := t.Values[f.Name]
			if f.Value == tv {
				continue
			}
			raw.add("%s of %s: %s", f.Name, o.Get("Package"), where(f.Value, tv))
			if normOurs(f.Value) != strings.TrimSuffix(tv, "\n") {
				norm.add("%s of %s: %s", f.Name, o.Get("Package"), where(f.Value, tv))
			}
		}
	}
	out = append(out, names.lines("paragraphs with other field names")...)
	out = append(out, raw.lines("values that differ as returned (multi-line value conventions)")...)
	return append(out, norm.lines("values that differ after normalizing the conventions")...)
}

// normOurs converts a deb822 value to pault's convention, without the final "\n".
func normOurs(v string) string {
	lines := strings.Split(strings.TrimPrefix(v, "\n"), "\n")
	for i, l := range lines {
		if l == "." {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// where shows ours and pault's value around their first difference.
func where(ours, pault string) string {
	i := 0
	for i < len(ours) && i < len(pault) && ours[i] == pault[i] {
		i++
	}
	from := max(i-12, 0)
	return fmt.Sprintf("ours %q, pault %q (from byte %d)", clip(ours[from:]), clip(pault[from:]), from)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// compareVersions parses every version with pault and compares every pair both ways;
// dpkg --compare-versions decides the disagreements.
func compareVersions(c *corpus) []string {
	var perr, disagree tally
	parsed := map[string]version.Version{}
	for _, v := range c.versions {
		pv, err := version.Parse(v)
		if err != nil {
			perr.add("%q: %v", v, err)
		}
		parsed[v] = pv
	}
	var dpkgSides []string
	for _, p := range c.pairs {
		o, t := sign(debversion.Compare(p[0], p[1])), sign(version.Compare(parsed[p[0]], parsed[p[1]]))
		if o != t {
			disagree.add("%s vs %s: ours %d, pault %d, dpkg %s", p[0], p[1], o, t, dpkgOrder(p[0], p[1]))
			dpkgSides = append(dpkgSides, dpkgSide(p[0], p[1], o, t))
		}
	}
	sorted := append([]string(nil), c.versions...)
	sort.Slice(sorted, func(i, j int) bool { return debversion.Compare(sorted[i], sorted[j]) < 0 })
	var order tally
	for i := 1; i < len(sorted); i++ {
		if version.Compare(parsed[sorted[i-1]], parsed[sorted[i]]) > 0 {
			order.add("%s > %s for pault", sorted[i-1], sorted[i])
		}
	}
	out := []string{fmt.Sprintf("versions: %d distinct, %d pairs compared", len(c.versions), len(c.pairs))}
	out = append(out, perr.lines("versions pault's Parse rejects")...)
	out = append(out, disagree.lines("pairs ordered differently")...)
	if len(dpkgSides) > 0 {
		out = append(out, "      dpkg agrees with: "+strings.Join(dpkgSides, ", "))
	}
	return append(out, order.lines("neighbours in our sorted order that pault orders the other way")...)
}

// dpkgOrder asks dpkg for the order of a and b ("<", "=", ">", or "?" without dpkg).
func dpkgOrder(a, b string) string {
	for _, op := range []struct{ name, sym string }{{"lt", "<"}, {"eq", "="}, {"gt", ">"}} {
		err := exec.Command("dpkg", "--compare-versions", a, op.name, b).Run()
		if err == nil {
			return op.sym
		}
		if _, ok := err.(*exec.ExitError); !ok {
			return "?"
		}
	}
	return "?"
}

// dpkgSide says whose order dpkg confirms for one disagreement.
func dpkgSide(a, b string, ours, pault int) string {
	want := map[string]int{"<": -1, "=": 0, ">": 1}
	d, ok := want[dpkgOrder(a, b)]
	switch {
	case !ok:
		return "unknown"
	case d == ours:
		return "ours"
	case d == pault:
		return "pault"
	}
	return "neither"
}

// compareRelations parses every relation field with both parsers and compares the
// canonical forms (name:arch (op version) [archs] <profiles>, ", " and " | ").
func compareRelations(c *corpus) []string {
	var oerr, terr, diff tally
	for _, f := range c.relations {
		o, oe := debversion.ParseRelations(f)
		t, te := dependency.Parse(f)
		if oe != nil {
			oerr.add("%q: %v", clip(f), oe)
		}
		if te != nil {
			terr.add("%q: %v", clip(f), te)
		}
		if oe != nil || te != nil {
			continue
		}
		var groups []string
		for _, alts := range o {
			groups = append(groups, alts.String())
		}
		if ours, theirs := strings.Join(groups, ", "), t.String(); ours != theirs {
			diff.add("%q: ours %q, pault %q", clip(f), clip(ours), clip(theirs))
		}
	}
	out := []string{fmt.Sprintf("relations: %d fields", len(c.relations))}
	out = append(out, oerr.lines("fields ours rejects")...)
	out = append(out, terr.lines("fields pault rejects")...)
	return append(out, diff.lines("fields parsed differently")...)
}
