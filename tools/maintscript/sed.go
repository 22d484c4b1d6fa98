package maintscript

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The sed emulation: addresses (N, $, /RE/, \cREc, 0,/RE/, ranges, !), the commands s
// (flags g, p, N, I), d, p, q, y and { } blocks; -n, -e, -E/-r, -i[SUFFIX] and -s. Other
// commands are reported as not reproduced.

type sedAddr struct {
	line int            // > 0: a line number; 0 with re == nil and last == false: none
	last bool           // $
	re   *regexp.Regexp // /RE/
	zero bool           // the 0 of "0,/RE/"
}

type sedCmd struct {
	a1, a2  sedAddr
	hasA2   bool
	negate  bool
	name    byte
	re      *regexp.Regexp // s
	repl    string         // s
	global  bool           // s///g
	nth     int            // s///N
	print   bool           // s///p
	from    []rune         // y
	to      []rune         // y
	block   []*sedCmd      // {
	inRange bool           // state of a range address
	done    bool           // a 0,/RE/ or N,M range that ended
}

// sedParser reads a sed script.
type sedParser struct {
	src      string
	i        int
	extended bool
}

func (p *sedParser) eof() bool { return p.i >= len(p.src) }
func (p *sedParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.i]
}

func (p *sedParser) skipSpace(newlines bool) {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || newlines && (p.peek() == '\n' || p.peek() == ';')) {
		p.i++
	}
}

// commands parses commands until the end or a closing brace.
func (p *sedParser) commands(inBlock bool) ([]*sedCmd, error) {
	var out []*sedCmd
	for {
		p.skipSpace(true)
		if p.eof() {
			if inBlock {
				return nil, fmt.Errorf("unmatched `{'")
			}
			return out, nil
		}
		if p.peek() == '}' {
			if !inBlock {
				return nil, fmt.Errorf("unexpected `}'")
			}
			p.i++
			return out, nil
		}
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func (p *sedParser) command() (*sedCmd, error) {
	c := &sedCmd{}
	var err error
	if c.a1, err = p.address(); err != nil {
		return nil, err
	}
	if p.peek() == ',' {
		p.i++
		c.hasA2 = true
		if c.a2, err = p.address(); err != nil {
			return nil, err
		}
	}
	p.skipSpace(false)
	if p.peek() == '!' {
		c.negate = true
		p.i++
		p.skipSpace(false)
	}
	if p.eof() {
		return nil, fmt.Errorf("missing command")
	}
	c.name = p.src[p.i]
	p.i++
	return c, p.arguments(c)
}

// arguments parses what follows the command letter.
func (p *sedParser) arguments(c *sedCmd) error {
	var err error
	switch c.name {
	case '{':
		c.block, err = p.commands(true)
	case 's':
		err = p.substitute(c)
	case 'y':
		err = p.transliterate(c)
	case 'd', 'p', 'q', 'Q', '=':
		p.skipSpace(false)
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' { // q's exit code
			p.i++
		}
	default:
		return fmt.Errorf("command `%c' is not emulated", c.name)
	}
	return err
}

// address parses an optional address.
func (p *sedParser) address() (sedAddr, error) {
	switch ch := p.peek(); {
	case ch == '$':
		p.i++
		return sedAddr{last: true}, nil
	case ch >= '0' && ch <= '9':
		j := p.i
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
			p.i++
		}
		n, _ := strconv.Atoi(p.src[j:p.i])
		return sedAddr{line: n, zero: n == 0}, nil
	case ch == '/' || ch == '\\':
		if ch == '\\' {
			p.i++
		}
		re, err := p.regex(p.src[p.i])
		if err != nil {
			return sedAddr{}, err
		}
		for p.peek() == 'I' {
			p.i++
			re = regexp.MustCompile("(?i)" + re.String())
		}
		return sedAddr{re: re}, nil
	}
	return sedAddr{}, nil
}

// delimited reads text up to the unescaped delimiter d (p.src[p.i] is the opening one),
// turning \d into d.
func (p *sedParser) delimited(d byte) (string, error) {
	p.i++
	var b strings.Builder
	for !p.eof() {
		ch := p.src[p.i]
		switch {
		case ch == '\\' && p.i+1 < len(p.src):
			if p.src[p.i+1] == d {
				b.WriteByte(d)
			} else {
				b.WriteString(p.src[p.i : p.i+2])
			}
			p.i += 2
			continue
		case ch == d:
			p.i++
			return b.String(), nil
		}
		b.WriteByte(ch)
		p.i++
	}
	return "", fmt.Errorf("unterminated address regex")
}

func (p *sedParser) regex(d byte) (*regexp.Regexp, error) {
	s, err := p.delimited(d)
	if err != nil {
		return nil, err
	}
	return compileRegex(s, p.extended, false)
}

func (p *sedParser) substitute(c *sedCmd) error {
	d := p.peek()
	pat, err := p.delimited(d)
	if err != nil {
		return err
	}
	p.i-- // the closing delimiter opens the replacement
	if c.repl, err = p.delimited(d); err != nil {
		return err
	}
	ignoreCase := false
	for !p.eof() && strings.IndexByte("gpiI0123456789", p.peek()) >= 0 {
		switch ch := p.peek(); {
		case ch == 'g':
			c.global = true
		case ch == 'p':
			c.print = true
		case ch == 'i' || ch == 'I':
			ignoreCase = true
		default:
			c.nth = c.nth*10 + int(ch-'0')
		}
		p.i++
	}
	c.re, err = compileRegex(pat, p.extended, ignoreCase)
	return err
}

func (p *sedParser) transliterate(c *sedCmd) error {
	d := p.peek()
	from, err := p.delimited(d)
	if err != nil {
		return err
	}
	p.i--
	to, err := p.delimited(d)
	if err != nil {
		return err
	}
	c.from, c.to = []rune(from), []rune(to)
	if len(c.from) != len(c.to) {
		return fmt.Errorf("strings for `y' command are different lengths")
	}
	return nil
}
