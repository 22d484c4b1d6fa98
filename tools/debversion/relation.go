package debversion

import (
	"fmt"
	"strings"
)

// Op is a version relation operator of a dependency field.
type Op string

// The operators of Debian policy 7.1. ParseRelations also accepts the
// obsolete "<" and ">" and, like dpkg, reads them as "<=" and ">=".
const (
	OpNone Op = ""
	OpLT   Op = "<<"
	OpLE   Op = "<="
	OpEQ   Op = "="
	OpGE   Op = ">="
	OpGT   Op = ">>"
)

// Relation is one package reference of a dependency field:
//
//	name[:archqual] [(op version)] [[arch ...]] [<profile ...> ...]
type Relation struct {
	Name     string
	ArchQual string // after ':' — "any", "native" or an architecture; "" if absent
	Op       Op     // OpNone when there is no version constraint
	Version  string
	Archs    []string // architecture restriction list, e.g. {"amd64", "!i386"}; nil if absent
	Profiles string   // build-profile restriction formulas kept raw, e.g. "<!nocheck> <stage1>"
}

// Alternatives is an OR group ("a | b"); it is satisfied when any member is.
type Alternatives []Relation

// String formats the group with " | " between members.
func (alts Alternatives) String() string {
	parts := make([]string, len(alts))
	for i, r := range alts {
		parts[i] = r.String()
	}
	return strings.Join(parts, " | ")
}

// String formats the relation the way it appears in a control file.
func (r Relation) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.ArchQual != "" {
		b.WriteByte(':')
		b.WriteString(r.ArchQual)
	}
	if r.Op != OpNone {
		b.WriteString(" (")
		b.WriteString(string(r.Op))
		b.WriteByte(' ')
		b.WriteString(r.Version)
		b.WriteByte(')')
	}
	if r.Archs != nil {
		b.WriteString(" [")
		b.WriteString(strings.Join(r.Archs, " "))
		b.WriteByte(']')
	}
	if r.Profiles != "" {
		b.WriteByte(' ')
		b.WriteString(r.Profiles)
	}
	return b.String()
}

// SatisfiedBy reports whether a package of the given version satisfies the
// version constraint of r (the name is not looked at). A relation without
// operator is satisfied by every version.
func (r Relation) SatisfiedBy(version string) bool {
	if r.Op == OpNone {
		return true
	}
	c := Compare(version, r.Version)
	switch r.Op {
	case OpLT:
		return c < 0
	case OpLE:
		return c <= 0
	case OpEQ:
		return c == 0
	case OpGE:
		return c >= 0
	case OpGT:
		return c > 0
	}
	return false
}

// AppliesTo reports whether r is in effect on the host architecture arch
// according to its [arch] restriction list (always true without one). As in
// dpkg, a list is either all positive ("[amd64 arm64]": only those) or all
// negated ("[!i386]": all but those). Wildcards such as "any", "linux-any"
// and "any-amd64" are understood for the common Linux architectures.
func (r Relation) AppliesTo(arch string) bool {
	if len(r.Archs) == 0 {
		return true
	}
	negated := strings.HasPrefix(r.Archs[0], "!")
	for _, a := range r.Archs {
		a = strings.TrimPrefix(a, "!")
		if archMatches(arch, a) {
			return !negated
		}
	}
	return negated
}

// archMatches reports whether the Debian architecture arch (e.g. "amd64")
// matches the architecture or wildcard pattern ("amd64", "any",
// "linux-any", "any-amd64", "all").
func archMatches(arch, pattern string) bool {
	if arch == pattern || pattern == "any" {
		return true
	}
	os, cpu := splitArch(arch)
	if p, ok := strings.CutSuffix(pattern, "-any"); ok {
		return p == os || p == "any"
	}
	if p, ok := strings.CutPrefix(pattern, "any-"); ok {
		return p == cpu
	}
	if pos, pcpu, ok := strings.Cut(pattern, "-"); ok {
		return pos == os && pcpu == cpu
	}
	return false
}

// splitArch splits a Debian architecture name into os and cpu, e.g.
// "amd64" -> ("linux", "amd64"), "kfreebsd-amd64" -> ("kfreebsd", "amd64").
// ABI-specific names (musl-linux-amd64) are reduced to their last two parts.
func splitArch(arch string) (os, cpu string) {
	i := strings.LastIndexByte(arch, '-')
	if i < 0 {
		return "linux", arch
	}
	os, cpu = arch[:i], arch[i+1:]
	if j := strings.LastIndexByte(os, '-'); j >= 0 {
		os = os[j+1:]
	}
	return os, cpu
}

// ParseRelations parses a dependency field (Depends, Pre-Depends,
// Recommends, Provides, Conflicts, Breaks, Build-Depends, ...) into its
// comma-separated groups of alternatives. Whitespace (including newlines of
// folded fields) is insignificant between tokens. An empty or blank field
// yields no groups. Errors quote the field.
func ParseRelations(field string) ([]Alternatives, error) {
	p := relParser{s: field}
	var out []Alternatives
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	for {
		var alts Alternatives
		for {
			r, err := p.relation()
			if err != nil {
				return nil, fmt.Errorf("parse relations %q: %w", field, err)
			}
			alts = append(alts, r)
			p.skipSpace()
			if p.peek() != '|' {
				break
			}
			p.i++
		}
		out = append(out, alts)
		p.skipSpace()
		if p.eof() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("parse relations %q: unexpected %q at offset %d", field, p.peek(), p.i)
		}
		p.i++
		p.skipSpace()
		if p.eof() {
			// dpkg rejects a trailing comma; apt tolerates it. Tolerate it:
			// such fields exist in the wild and mean nothing more.
			return out, nil
		}
	}
}

type relParser struct {
	s string
	i int
}

func (p *relParser) eof() bool { return p.i >= len(p.s) }

func (p *relParser) peek() byte {
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *relParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// word reads a run of characters that are not blanks and not in stop.
func (p *relParser) word(stop string) string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || strings.IndexByte(stop, c) >= 0 {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// relation reads one package reference.
func (p *relParser) relation() (Relation, error) {
	var r Relation
	p.skipSpace()
	if err := p.name(&r); err != nil {
		return r, err
	}
	p.skipSpace()
	if p.peek() == '(' {
		if err := p.constraint(&r); err != nil {
			return r, err
		}
	}
	if p.peek() == '[' {
		if err := p.archList(&r); err != nil {
			return r, err
		}
	}
	return r, p.profiles(&r)
}

// name reads "name[:archqual]".
func (p *relParser) name(r *Relation) error {
	r.Name = p.word(":(),|[]<>")
	if r.Name == "" {
		if p.eof() {
			return fmt.Errorf("missing package name at end")
		}
		return fmt.Errorf("missing package name at offset %d", p.i)
	}
	if err := checkName(r.Name); err != nil {
		return err
	}
	if p.peek() == ':' {
		p.i++
		r.ArchQual = p.word(":(),|[]<>")
		if r.ArchQual == "" {
			return fmt.Errorf("empty architecture qualifier after %q", r.Name)
		}
	}
	return nil
}

// constraint reads "(op version)" and the blanks after it.
func (p *relParser) constraint(r *Relation) error {
	p.i++
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("<=>", p.s[p.i]) >= 0 {
		p.i++
	}
	switch op := p.s[start:p.i]; op {
	case "<<", "<=", "=", ">=", ">>":
		r.Op = Op(op)
	case "<":
		r.Op = OpLE
	case ">":
		r.Op = OpGE
	case "":
		return fmt.Errorf("missing version operator for %q", r.Name)
	default:
		return fmt.Errorf("invalid version operator %q for %q", op, r.Name)
	}
	p.skipSpace()
	r.Version = p.word("()")
	if r.Version == "" {
		return fmt.Errorf("missing version for %q", r.Name)
	}
	p.skipSpace()
	if p.peek() != ')' {
		return fmt.Errorf("missing ')' after version of %q", r.Name)
	}
	p.i++
	p.skipSpace()
	return nil
}

// archList reads "[arch ...]" (all entries negated or none) and the blanks
// after it.
func (p *relParser) archList(r *Relation) error {
	p.i++
	r.Archs = []string{}
	for {
		p.skipSpace()
		if p.eof() {
			return fmt.Errorf("unterminated architecture list of %q", r.Name)
		}
		if p.peek() == ']' {
			p.i++
			break
		}
		a := p.word("[]")
		if a == "" || a == "!" {
			return fmt.Errorf("invalid architecture list of %q", r.Name)
		}
		r.Archs = append(r.Archs, a)
	}
	if len(r.Archs) == 0 {
		return fmt.Errorf("empty architecture list of %q", r.Name)
	}
	neg := strings.HasPrefix(r.Archs[0], "!")
	for _, a := range r.Archs[1:] {
		if strings.HasPrefix(a, "!") != neg {
			return fmt.Errorf("architecture list of %q mixes negated and plain entries", r.Name)
		}
	}
	p.skipSpace()
	return nil
}

// profiles reads any number of "<profile ...>" formulas, kept raw.
func (p *relParser) profiles(r *Relation) error {
	var profiles []string
	for p.peek() == '<' {
		start := p.i
		end := strings.IndexByte(p.s[p.i:], '>')
		if end < 0 {
			return fmt.Errorf("unterminated build profile list of %q", r.Name)
		}
		p.i += end + 1
		profiles = append(profiles, strings.Join(strings.Fields(p.s[start:p.i]), " "))
		p.skipSpace()
	}
	r.Profiles = strings.Join(profiles, " ")
	return nil
}

// checkName accepts package names of policy 5.6.1 ([a-z0-9][a-z0-9+.-]*),
// leniently allowing upper case and '_' which appear in third-party
// repositories, and rejecting anything else.
func checkName(n string) error {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if isAlnum(c) || (i > 0 && (c == '+' || c == '.' || c == '-' || c == '_')) {
			continue
		}
		return fmt.Errorf("invalid package name %q", n)
	}
	return nil
}
