package maintscript

import (
	"fmt"
	"strings"
)

// awkNode is a node of a parsed awk program: an expression or a statement.
type awkNode struct {
	op   string // "str", "num", "var", "field", "re", "concat", "call", "=", "==", "~", "&&", "!", "print", "if", "block", ...
	text string // a literal, a name, a print redirection's operator
	kids []awkNode
}

type awkRule struct {
	begin, end bool
	pattern    *awkNode
	action     []awkNode
}

type awkToken struct {
	kind string // "str", "num", "name", "re", "op", "nl", "eof"
	text string
}

type awkParser struct {
	toks []awkToken
	i    int
}

// parseAwkProgram parses a program of the emulated subset.
func parseAwkProgram(src string) ([]awkRule, error) {
	toks, err := awkLex(src)
	if err != nil {
		return nil, err
	}
	p := &awkParser{toks: toks}
	var rules []awkRule
	for p.skipNewlines(); p.peek().kind != "eof"; p.skipNewlines() {
		r, err := p.rule()
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (p *awkParser) peek() awkToken { return p.toks[p.i] }
func (p *awkParser) next() awkToken {
	t := p.toks[p.i]
	if t.kind != "eof" {
		p.i++
	}
	return t
}
func (p *awkParser) is(text string) bool {
	t := p.peek()
	return (t.kind == "op" || t.kind == "name") && t.text == text
}
func (p *awkParser) expect(text string) error {
	if !p.is(text) {
		return fmt.Errorf("expected %q, got %q", text, p.peek().text)
	}
	p.next()
	return nil
}
func (p *awkParser) skipNewlines() {
	for p.peek().kind == "nl" || p.is(";") {
		p.next()
	}
}

func (p *awkParser) rule() (awkRule, error) {
	var r awkRule
	switch {
	case p.is("BEGIN"):
		p.next()
		r.begin = true
	case p.is("END"):
		p.next()
		r.end = true
	case !p.is("{"):
		e, err := p.expr(false)
		if err != nil {
			return r, err
		}
		r.pattern = &e
	}
	if !p.is("{") {
		r.action = []awkNode{{op: "print"}}
		return r, nil
	}
	b, err := p.block()
	r.action = b.kids
	return r, err
}

func (p *awkParser) block() (awkNode, error) {
	if err := p.expect("{"); err != nil {
		return awkNode{}, err
	}
	b := awkNode{op: "block"}
	for p.skipNewlines(); !p.is("}"); p.skipNewlines() {
		if p.peek().kind == "eof" {
			return b, fmt.Errorf("unterminated block")
		}
		s, err := p.stmt()
		if err != nil {
			return b, err
		}
		b.kids = append(b.kids, s)
	}
	p.next()
	return b, nil
}

func (p *awkParser) stmt() (awkNode, error) {
	switch {
	case p.is("{"):
		return p.block()
	case p.is("if"):
		return p.ifStmt()
	case p.is("print"):
		return p.printStmt()
	}
	return p.expr(false)
}

func (p *awkParser) body() (awkNode, error) {
	p.skipNewlines()
	if p.is("{") {
		return p.block()
	}
	s, err := p.stmt()
	return awkNode{op: "block", kids: []awkNode{s}}, err
}

func (p *awkParser) ifStmt() (awkNode, error) {
	p.next()
	if err := p.expect("("); err != nil {
		return awkNode{}, err
	}
	cond, err := p.expr(false)
	if err == nil {
		err = p.expect(")")
	}
	if err != nil {
		return awkNode{}, err
	}
	then, err := p.body()
	if err != nil {
		return awkNode{}, err
	}
	n := awkNode{op: "if", kids: []awkNode{cond, then}}
	save := p.i
	p.skipNewlines()
	if !p.is("else") {
		p.i = save
		return n, nil
	}
	p.next()
	els, err := p.body()
	n.kids = append(n.kids, els)
	return n, err
}

func (p *awkParser) printStmt() (awkNode, error) {
	p.next()
	n := awkNode{op: "print"}
	for !p.is(";") && !p.is("}") && !p.is(">") && !p.is(">>") && p.peek().kind != "nl" && p.peek().kind != "eof" {
		e, err := p.expr(true)
		if err != nil {
			return n, err
		}
		n.kids = append(n.kids, e)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if p.is(">") || p.is(">>") {
		p.next()
		t := p.next()
		if t.kind != "str" {
			return n, fmt.Errorf("print redirection to a non-literal file")
		}
		n.text = t.text
	}
	return n, nil
}

// expr parses an expression; inPrint makes ">" a redirection rather than a comparison.
func (p *awkParser) expr(inPrint bool) (awkNode, error) {
	left, err := p.binary(0, inPrint)
	if err != nil {
		return left, err
	}
	if p.is("=") && (left.op == "var" || left.op == "field") {
		p.next()
		right, err := p.expr(inPrint)
		return awkNode{op: "=", kids: []awkNode{left, right}}, err
	}
	return left, nil
}

// awkLevels are the binary operators by increasing precedence; "" is concatenation.
func awkLevels() [][]string {
	return [][]string{{"||"}, {"&&"}, {"~", "!~"}, {"==", "!=", "<", "<=", ">", ">="}, {""}}
}

func (p *awkParser) binary(level int, inPrint bool) (awkNode, error) {
	levels := awkLevels()
	if level == len(levels) {
		return p.unary(inPrint)
	}
	left, err := p.binary(level+1, inPrint)
	for err == nil {
		op := ""
		switch {
		case levels[level][0] == "" && p.startsOperand():
		case p.peek().kind == "op" && contains(levels[level], p.peek().text) && !(inPrint && p.peek().text == ">"):
			op = p.next().text
		default:
			return left, nil
		}
		var right awkNode
		right, err = p.binary(level+1, inPrint)
		if op == "" {
			op = "concat"
		}
		left = awkNode{op: op, kids: []awkNode{left, right}}
	}
	return left, err
}

// startsOperand reports whether the next token can begin a concatenated operand.
func (p *awkParser) startsOperand() bool {
	t := p.peek()
	switch t.kind {
	case "str", "num", "re":
		return true
	case "name":
		return !contains([]string{"if", "else", "print", "BEGIN", "END", "in"}, t.text)
	case "op":
		return t.text == "$" || t.text == "(" || t.text == "!"
	}
	return false
}

func (p *awkParser) unary(inPrint bool) (awkNode, error) {
	if p.is("!") {
		p.next()
		e, err := p.unary(inPrint)
		return awkNode{op: "!", kids: []awkNode{e}}, err
	}
	if p.is("-") {
		p.next()
		e, err := p.unary(inPrint)
		return awkNode{op: "neg", kids: []awkNode{e}}, err
	}
	return p.primary(inPrint)
}

func (p *awkParser) primary(inPrint bool) (awkNode, error) {
	t := p.next()
	switch {
	case t.kind == "str" || t.kind == "num" || t.kind == "re":
		return awkNode{op: t.kind, text: t.text}, nil
	case t.kind == "op" && t.text == "$":
		e, err := p.primary(inPrint)
		return awkNode{op: "field", kids: []awkNode{e}}, err
	case t.kind == "op" && t.text == "(":
		e, err := p.expr(false)
		if err == nil {
			err = p.expect(")")
		}
		return e, err
	case t.kind == "name" && p.is("("):
		return p.call(t.text)
	case t.kind == "name":
		return awkNode{op: "var", text: t.text}, nil
	}
	return awkNode{}, fmt.Errorf("unexpected %q", t.text)
}

func (p *awkParser) call(name string) (awkNode, error) {
	p.next()
	n := awkNode{op: "call", text: name}
	for !p.is(")") {
		e, err := p.expr(false)
		if err != nil {
			return n, err
		}
		n.kids = append(n.kids, e)
		if p.is(",") {
			p.next()
		} else if !p.is(")") {
			return n, fmt.Errorf("expected , or ) in call of %s", name)
		}
	}
	p.next()
	return n, nil
}

// awkLex splits a program into tokens; a "/" where an operand is expected starts a regex.
func awkLex(src string) ([]awkToken, error) {
	var toks []awkToken
	operand := true // a regex may start here
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i++
			if c == '\\' {
				i++
			}
			continue
		case c == '\n':
			toks = append(toks, awkToken{kind: "nl"})
			i++
			operand = true
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '"':
			s, n, err := awkString(src[i:])
			if err != nil {
				return nil, err
			}
			toks, i, operand = append(toks, awkToken{kind: "str", text: s}), i+n, false
			continue
		case c == '/' && operand:
			end := i + 1
			for end < len(src) && src[end] != '/' {
				if src[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(src) {
				return nil, fmt.Errorf("unterminated regex")
			}
			toks, i, operand = append(toks, awkToken{kind: "re", text: src[i+1 : end]}), end+1, false
			continue
		}
		tok, n := awkWord(src[i:])
		if n == 0 {
			return nil, fmt.Errorf("unexpected character %q", c)
		}
		toks, i = append(toks, tok), i+n
		operand = tok.kind == "op" && tok.text != ")"
	}
	return append(toks, awkToken{kind: "eof"}), nil
}

// awkWord reads a number, a name or an operator at the start of s.
func awkWord(s string) (awkToken, int) {
	isName := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9' || c == '.':
		n := 1
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.') {
			n++
		}
		return awkToken{kind: "num", text: s[:n]}, n
	case isName(c):
		n := 1
		for n < len(s) && isName(s[n]) {
			n++
		}
		return awkToken{kind: "name", text: s[:n]}, n
	}
	for _, op := range []string{"&&", "||", "==", "!=", "<=", ">=", "!~", ">>", "{", "}", "(", ")", ";", ",", "$", "=", "<", ">", "~", "!", "-"} {
		if strings.HasPrefix(s, op) {
			return awkToken{kind: "op", text: op}, len(op)
		}
	}
	return awkToken{}, 0
}

// awkString reads a string literal with its escapes; it returns the value and the length
// read.
func awkString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			if e, ok := map[byte]byte{'n': '\n', 't': '\t'}[s[i]]; ok {
				b.WriteByte(e)
			} else {
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}
