package deb822

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Write writes the paragraphs in control-file syntax: fields in stored
// order, one blank line between paragraphs, a final newline. A value's
// lines after the first are written as continuation lines (" line", and
// " ." for an empty one). An empty paragraph or a field name that cannot be
// read back (empty, containing ':' or blanks or a newline, or starting with
// '#') is an error.
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
		first, rest, multi := strings.Cut(f.Value, "\n")
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
