package deb822

import "strings"

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
	v, _ := p.Lookup(name)
	return v
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

// String returns the paragraph in control-file syntax (without the
// separating blank line). Invalid names are written as they are.
func (p Paragraph) String() string {
	var b []byte
	b, _ = appendParagraph(b, p, false)
	return string(b)
}
