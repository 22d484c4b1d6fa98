// Package deb822 parses and writes Debian control paragraphs (deb822(5)):
// Packages and Sources indexes, Release files, dpkg status, debian/control.
//
// A Paragraph is an ordered list of (Name, Value) pairs. Parsing is built
// for large indexes: names and single-line values are substrings of one
// string per input (ParseAll) or per paragraph (Reader), so they allocate
// nothing on their own; only multi-line values are assembled into a new
// string. Note the consequence: keeping any field of a ParseAll result alive
// keeps the whole input alive. Use Reader (one string per paragraph) or
// strings.Clone when only a few values are retained.
//
// Value conventions (the same as python-debian's deb822 and dpkg):
//   - the first line of a value has surrounding blanks trimmed;
//   - each continuation line (starting with a space or tab) loses exactly
//     that one leading character and its trailing blanks, and is joined to
//     the previous line with "\n";
//   - a field whose first line is empty ("Files:" followed by continuation
//     lines) has a value starting with "\n";
//   - the " ." convention for empty lines inside a value is not decoded:
//     " ." reads back as "." (so parse and write round-trip); Write encodes
//     an empty inner line as " .".
//
// Lines starting with '#' are comments and are ignored, CRLF line endings
// are accepted, a missing final newline is accepted, and whitespace-only
// lines separate paragraphs like empty ones.
package deb822

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Field is one "Name: Value" entry of a paragraph.
type Field struct{ Name, Value string }

// Paragraph is an ordered list of fields. Names are unique
// (case-insensitively) in parsed paragraphs.
type Paragraph struct{ Fields []Field }

// index returns the position of the field called name (ASCII
// case-insensitive), or -1.
func (p Paragraph) index(name string) int {
	for i := range p.Fields {
		n := p.Fields[i].Name
		if len(n) == len(name) && (n == name || strings.EqualFold(n, name)) {
			return i
		}
	}
	return -1
}

// Get returns the value of the field called name (case-insensitive), or ""
// if it is absent.
func (p Paragraph) Get(name string) string {
	if i := p.index(name); i >= 0 {
		return p.Fields[i].Value
	}
	return ""
}

// Lookup is Get that also reports whether the field is present.
func (p Paragraph) Lookup(name string) (string, bool) {
	if i := p.index(name); i >= 0 {
		return p.Fields[i].Value, true
	}
	return "", false
}

// Has reports whether the paragraph has a field called name
// (case-insensitive).
func (p Paragraph) Has(name string) bool { return p.index(name) >= 0 }

// Set replaces the value of the field called name (case-insensitive; the
// field keeps its position and takes the new spelling of the name) or
// appends a new field.
func (p *Paragraph) Set(name, value string) {
	if i := p.index(name); i >= 0 {
		p.Fields[i] = Field{Name: name, Value: value}
		return
	}
	p.Fields = append(p.Fields, Field{Name: name, Value: value})
}

// Del removes the field called name (case-insensitive) if present.
func (p *Paragraph) Del(name string) {
	if i := p.index(name); i >= 0 {
		p.Fields = append(p.Fields[:i:i], p.Fields[i+1:]...)
	}
}

// Clone returns a deep copy whose strings do not share memory with p.
func (p Paragraph) Clone() Paragraph {
	fs := make([]Field, len(p.Fields))
	for i, f := range p.Fields {
		fs[i] = Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)}
	}
	return Paragraph{Fields: fs}
}

// String returns the paragraph in control-file syntax (without the
// separating blank line). Invalid names are written as they are.
func (p Paragraph) String() string {
	var b []byte
	b, _ = appendParagraph(b, p, false)
	return string(b)
}

// ---------------------------------------------------------------------------
// Parsing

// parser reads paragraphs from one string.
type parser struct {
	s       string
	pos     int
	line    int // 1-based number of the line starting at pos
	scratch []Field
	arena   []Field // fields of returned paragraphs are carved from here
}

const arenaChunk = 8192

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
func isBlank[T string | []byte](line T) bool {
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

// SyntaxError is returned for malformed input; Line is 1-based.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("deb822: line %d: %s", e.Line, e.Msg) }

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next paragraph; ok is false at the end of the input.
func (p *parser) next() (para Paragraph, ok bool, err error) {
	s := p.s
	// Skip blank lines and comments before the paragraph.
	for p.pos < len(s) {
		line, next := lineAt(s, p.pos)
		if isBlank(line) || line[0] == '#' {
			p.pos, p.line = next, p.line+1
			continue
		}
		break
	}
	if p.pos >= len(s) {
		return Paragraph{}, false, nil
	}
	p.scratch = p.scratch[:0]
	for p.pos < len(s) {
		lineNo := p.line
		line, next := lineAt(s, p.pos)
		p.pos, p.line = next, p.line+1
		if isBlank(line) {
			break // end of paragraph
		}
		c := line[0]
		if c == '#' {
			continue
		}
		if c == ' ' || c == '\t' {
			return Paragraph{}, false, p.errorf(lineNo, "continuation line without a field: %q", clip(line))
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return Paragraph{}, false, p.errorf(lineNo, "expected \"Name: value\", got %q", clip(line))
		}
		name := line[:colon]
		for i := 0; i < len(name); i++ {
			if isBlankByte(name[i]) {
				return Paragraph{}, false, p.errorf(lineNo, "blank in field name %q", clip(name))
			}
		}
		if name == "" {
			return Paragraph{}, false, p.errorf(lineNo, "empty field name")
		}
		value := trimBlank(line[colon+1:])
		if p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '#') {
			value = p.continuation(value)
		}
		for i := range p.scratch {
			if n := p.scratch[i].Name; len(n) == len(name) && strings.EqualFold(n, name) {
				return Paragraph{}, false, p.errorf(lineNo, "duplicate field %q", name)
			}
		}
		p.scratch = append(p.scratch, Field{Name: name, Value: value})
	}
	n := len(p.scratch)
	if len(p.arena)+n > cap(p.arena) {
		p.arena = make([]Field, 0, max(arenaChunk, n))
	}
	start := len(p.arena)
	p.arena = append(p.arena, p.scratch...)
	return Paragraph{Fields: p.arena[start : start+n : start+n]}, true, nil
}

// continuation consumes the continuation lines (and interleaved comments)
// after a field's first line and returns the joined value. It returns
// first unchanged (no allocation) when only comments follow.
func (p *parser) continuation(first string) string {
	s := p.s
	var b strings.Builder
	multi := false
	for p.pos < len(s) {
		c := s[p.pos]
		if c != ' ' && c != '\t' && c != '#' {
			break
		}
		line, next := lineAt(s, p.pos)
		if c == '#' {
			p.pos, p.line = next, p.line+1
			continue
		}
		if isBlank(line) {
			break // paragraph separator
		}
		p.pos, p.line = next, p.line+1
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

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

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

// Reader reads paragraphs one at a time from a stream, holding only the
// current paragraph in memory.
type Reader struct {
	br   *bufio.Reader
	line int // number of lines consumed so far
	buf  []byte
	p    parser
	err  error // sticky
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10)}
}

// Next returns the next paragraph, or io.EOF after the last one. Syntax
// errors are *SyntaxError with the line number in the whole stream.
func (r *Reader) Next() (Paragraph, error) {
	if r.err != nil {
		return Paragraph{}, r.err
	}
	r.buf = r.buf[:0]
	started := false // a field line has been read
	startLine := r.line + 1
	for {
		line, err := r.readLine()
		if len(line) > 0 {
			r.line++
			content := line
			if content[len(content)-1] == '\n' {
				content = content[:len(content)-1]
			}
			if blank := isBlank(content); blank && started {
				break
			} else if !blank && content[0] != '#' {
				started = true
			}
			r.buf = append(r.buf, line...)
		}
		if err == io.EOF {
			if !started {
				r.err = io.EOF
				return Paragraph{}, io.EOF
			}
			break
		}
		if err != nil {
			r.err = fmt.Errorf("deb822: read: %w", err)
			return Paragraph{}, r.err
		}
	}
	r.p.s, r.p.pos, r.p.line = string(r.buf), 0, startLine
	para, _, err := r.p.next()
	if err != nil {
		r.err = err
		return Paragraph{}, err
	}
	return para, nil
}

// readLine returns the next line including its "\n". The slice is valid
// until the next read. Lines longer than the buffer are assembled.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		line, err = r.br.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// ---------------------------------------------------------------------------
// Writing

// Write writes the paragraphs in control-file syntax: fields in stored
// order, one blank line between paragraphs, a final newline. An empty
// paragraph or a field name that cannot be read back (empty, containing
// ':' or blanks or a newline, or starting with '#') is an error.
func Write(w io.Writer, ps ...Paragraph) error {
	var b []byte
	for i, p := range ps {
		if len(p.Fields) == 0 {
			return fmt.Errorf("deb822: write: paragraph %d has no fields", i)
		}
		if i > 0 {
			b = append(b, '\n')
		}
		var err error
		if b, err = appendParagraph(b, p, true); err != nil {
			return fmt.Errorf("deb822: write: paragraph %d: %w", i, err)
		}
		if len(b) >= 64<<10 {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("deb822: write: %w", err)
			}
			b = b[:0]
		}
	}
	if len(b) > 0 {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("deb822: write: %w", err)
		}
	}
	return nil
}

// Format returns the paragraphs as Write would write them.
func Format(ps ...Paragraph) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, ps...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("empty field name")
	}
	if name[0] == '#' {
		return fmt.Errorf("field name %q starts with '#'", name)
	}
	if strings.ContainsAny(name, ": \t\r\n") {
		return fmt.Errorf("invalid field name %q", name)
	}
	return nil
}

func appendParagraph(b []byte, p Paragraph, check bool) ([]byte, error) {
	for _, f := range p.Fields {
		if check {
			if err := checkName(f.Name); err != nil {
				return b, err
			}
		}
		b = append(b, f.Name...)
		b = append(b, ':')
		v := f.Value
		first, rest, multi := strings.Cut(v, "\n")
		if first != "" {
			b = append(b, ' ')
			b = append(b, first...)
		}
		for multi {
			var line string
			line, rest, multi = strings.Cut(rest, "\n")
			b = append(b, '\n', ' ')
			if isBlank(line) {
				b = append(b, '.')
			} else {
				b = append(b, line...)
			}
		}
		b = append(b, '\n')
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// Clearsigned input

const (
	beginSigned = "-----BEGIN PGP SIGNED MESSAGE-----"
	beginSig    = "-----BEGIN PGP SIGNATURE-----"
	endSig      = "-----END PGP SIGNATURE-----"
)

// ParseSigned strips an OpenPGP cleartext-signature armor (as in InRelease
// files) and returns the signed text with dash-escaping undone, for
// parsing. It does NOT verify anything. Input that does not start with a
// "BEGIN PGP SIGNED MESSAGE" line is returned unchanged; a signed message
// without a complete signature block is an error.
func ParseSigned(data []byte) (body []byte, err error) {
	s := string(data)
	pos := 0
	// Leading blank lines are tolerated.
	for pos < len(s) {
		line, next := lineAt(s, pos)
		if !isBlank(line) {
			break
		}
		pos = next
	}
	line, next := lineAt(s, pos)
	if trimRightBlank(line) != beginSigned {
		return data, nil
	}
	pos = next
	// Armor headers ("Hash: SHA512") up to an empty line.
	for {
		if pos >= len(s) {
			return nil, errors.New("deb822: clearsigned message: no blank line after the armor headers")
		}
		line, next = lineAt(s, pos)
		pos = next
		if isBlank(line) {
			break
		}
		if !strings.Contains(line, ": ") {
			return nil, fmt.Errorf("deb822: clearsigned message: bad armor header %q", clip(line))
		}
	}
	out := make([]byte, 0, len(s)-pos)
	for {
		if pos >= len(s) {
			return nil, errors.New("deb822: clearsigned message: missing " + beginSig)
		}
		line, next = lineAt(s, pos)
		pos = next
		if trimRightBlank(line) == beginSig {
			break
		}
		if strings.HasPrefix(line, "- ") {
			line = line[2:]
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	for {
		if pos >= len(s) {
			return nil, errors.New("deb822: clearsigned message: missing " + endSig)
		}
		line, next = lineAt(s, pos)
		pos = next
		if trimRightBlank(line) == endSig {
			return out, nil
		}
	}
}
