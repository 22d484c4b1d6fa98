package deb822

import (
	"errors"
	"fmt"
	"strings"
)

// SyntaxError is returned for malformed input; Line is 1-based.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("deb822: line %d: %s", e.Line, e.Msg) }

// ParseAll parses every paragraph of data. The returned strings share one
// copy of data.
func ParseAll(data []byte) ([]Paragraph, error) {
	return ParseAllString(string(data))
}

// ParseAllString is ParseAll for a string; the returned strings are
// substrings of s (no copy).
func ParseAllString(s string) ([]Paragraph, error) {
	p := parser{s: s, line: 1}
	// A rough guess (one paragraph per ~700 bytes in Packages files)
	// avoids most regrowth of the result slice.
	out := make([]Paragraph, 0, len(s)/700+1)
	for {
		para, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, para)
	}
}

// Parse parses exactly one paragraph from s (blank lines and comments
// around it are allowed). It is an error if s holds no paragraph or more
// than one.
func Parse(s string) (Paragraph, error) {
	p := parser{s: s, line: 1}
	para, ok, err := p.next()
	if err != nil {
		return Paragraph{}, err
	}
	if !ok {
		return Paragraph{}, errors.New("deb822: no paragraph")
	}
	line := p.line
	if _, more, err := p.next(); err != nil || more {
		return Paragraph{}, &SyntaxError{Line: line, Msg: "more than one paragraph"}
	}
	return para, nil
}

// parser reads paragraphs from one string.
type parser struct {
	s       string
	pos     int
	line    int // 1-based number of the line starting at pos
	scratch []Field
	arena   []Field // fields of returned paragraphs are carved from here
}

// arenaChunk is the most fields one arena allocation holds; a short input
// (one control file) gets an arena sized to it instead: one field per
// arenaBytesPerField bytes of input is a generous upper bound.
const (
	arenaChunk         = 8192
	arenaBytesPerField = 16
)

// next returns the next paragraph; ok is false at the end of the input.
func (p *parser) next() (para Paragraph, ok bool, err error) {
	p.skipSeparators()
	if p.pos >= len(p.s) {
		return Paragraph{}, false, nil
	}
	p.scratch = p.scratch[:0]
	for p.pos < len(p.s) {
		lineNo := p.line
		line := p.advance()
		if isBlank(line) {
			break // end of paragraph
		}
		if line[0] == '#' {
			continue
		}
		f, err := p.field(lineNo, line)
		if err != nil {
			return Paragraph{}, false, err
		}
		p.scratch = append(p.scratch, f)
	}
	return p.carve(), true, nil
}

// advance returns the line at pos and moves to the next one.
func (p *parser) advance() string {
	line, next := lineAt(p.s, p.pos)
	p.pos, p.line = next, p.line+1
	return line
}

// skipSeparators skips blank lines and comments before a paragraph.
func (p *parser) skipSeparators() {
	for p.pos < len(p.s) {
		line, next := lineAt(p.s, p.pos)
		if !isBlank(line) && line[0] != '#' {
			return
		}
		p.pos, p.line = next, p.line+1
	}
}

// field parses the field starting with line (number lineNo) and its
// continuation lines.
func (p *parser) field(lineNo int, line string) (Field, error) {
	if c := line[0]; c == ' ' || c == '\t' {
		return Field{}, p.errorf(lineNo, "continuation line without a field: %q", clip(line))
	}
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return Field{}, p.errorf(lineNo, "expected \"Name: value\", got %q", clip(line))
	}
	name := line[:colon]
	if strings.ContainsAny(name, " \t\r") {
		return Field{}, p.errorf(lineNo, "blank in field name %q", clip(name))
	}
	if name == "" {
		return Field{}, p.errorf(lineNo, "empty field name")
	}
	value := trimBlank(line[colon+1:])
	if p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '#') {
		value = p.continuation(value)
	}
	for i := range p.scratch {
		if n := p.scratch[i].Name; len(n) == len(name) && strings.EqualFold(n, name) {
			return Field{}, p.errorf(lineNo, "duplicate field %q", name)
		}
	}
	return Field{Name: name, Value: value}, nil
}

// carve moves the scratch fields into the arena and returns them as a
// paragraph whose slice cannot grow into its neighbour's fields.
func (p *parser) carve() Paragraph {
	n := len(p.scratch)
	if len(p.arena)+n > cap(p.arena) {
		p.arena = make([]Field, 0, max(n, min(arenaChunk, len(p.s)/arenaBytesPerField)))
	}
	start := len(p.arena)
	p.arena = append(p.arena, p.scratch...)
	return Paragraph{Fields: p.arena[start : start+n : start+n]}
}

// continuation consumes the continuation lines (and interleaved comments)
// after a field's first line and returns the joined value. It returns
// first unchanged (no allocation) when only comments follow.
func (p *parser) continuation(first string) string {
	var b strings.Builder
	multi := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c != ' ' && c != '\t' && c != '#' {
			break
		}
		line, next := lineAt(p.s, p.pos)
		if c != '#' && isBlank(line) {
			break // paragraph separator
		}
		p.pos, p.line = next, p.line+1
		if c == '#' {
			continue
		}
		if !multi {
			multi = true
			b.Grow(len(first) + 2*len(line))
			b.WriteString(first)
		}
		b.WriteByte('\n')
		b.WriteString(trimRightBlank(line[1:]))
	}
	if !multi {
		return first
	}
	return b.String()
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lineAt returns the line starting at pos without its "\n" and a final
// "\r", and the position of the following line.
func lineAt(s string, pos int) (string, int) {
	i := strings.IndexByte(s[pos:], '\n')
	var line string
	next := len(s)
	if i < 0 {
		line = s[pos:]
	} else {
		line = s[pos : pos+i]
		next = pos + i + 1
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, next
}

func isBlankByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// isBlank reports whether line is empty or only blanks.
func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		if !isBlankByte(line[i]) {
			return false
		}
	}
	return true
}

func trimBlank(s string) string {
	i, j := 0, len(s)
	for i < j && isBlankByte(s[i]) {
		i++
	}
	for j > i && isBlankByte(s[j-1]) {
		j--
	}
	return s[i:j]
}

func trimRightBlank(s string) string {
	j := len(s)
	for j > 0 && isBlankByte(s[j-1]) {
		j--
	}
	return s[:j]
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
