package maintscript

import (
	"fmt"
	"strconv"
	"strings"
)

// eval evaluates an expression to its string value.
func (m *awkMachine) eval(n awkNode) (string, error) {
	switch n.op {
	case "str", "num":
		return n.text, nil
	case "re":
		ok, err := m.matches(m.record, n)
		return boolStr(ok), err
	case "var":
		return m.variable(n.text), nil
	case "field":
		i, err := m.eval(n.kids[0])
		return m.field(int(awkNumber(i))), err
	case "=":
		return m.assign(n)
	case "call":
		return m.call(n)
	case "!", "neg":
		v, err := m.eval(n.kids[0])
		if n.op == "neg" {
			return awkFormat(-awkNumber(v)), err
		}
		return boolStr(!truthy(v)), err
	case "&&", "||":
		return m.logic(n)
	}
	return m.binaryOp(n)
}

func (m *awkMachine) variable(name string) string {
	switch name {
	case "NR":
		return strconv.Itoa(m.nr)
	case "NF":
		return strconv.Itoa(len(m.fields))
	}
	return m.vars[name]
}

func (m *awkMachine) assign(n awkNode) (string, error) {
	v, err := m.eval(n.kids[1])
	if err != nil {
		return "", err
	}
	return v, m.store(n.kids[0], v)
}

// store assigns to a variable or a field.
func (m *awkMachine) store(lv awkNode, v string) error {
	switch lv.op {
	case "var":
		m.vars[lv.text] = v
	case "field":
		i, err := m.eval(lv.kids[0])
		if err != nil {
			return err
		}
		m.setField(int(awkNumber(i)), v)
	default:
		return fmt.Errorf("cannot assign to %s", lv.op)
	}
	return nil
}

func (m *awkMachine) logic(n awkNode) (string, error) {
	a, err := m.eval(n.kids[0])
	if err != nil || truthy(a) == (n.op == "||") {
		return boolStr(truthy(a)), err
	}
	b, err := m.eval(n.kids[1])
	return boolStr(truthy(b)), err
}

func (m *awkMachine) binaryOp(n awkNode) (string, error) {
	a, err := m.eval(n.kids[0])
	if err != nil {
		return "", err
	}
	if n.op == "~" || n.op == "!~" {
		ok, err := m.matches(a, n.kids[1])
		return boolStr(ok == (n.op == "~")), err
	}
	b, err := m.eval(n.kids[1])
	if err != nil {
		return "", err
	}
	if n.op == "concat" {
		return a + b, nil
	}
	cmp := strings.Compare(a, b)
	if isAwkNumber(a) && isAwkNumber(b) {
		x, y := awkNumber(a), awkNumber(b)
		cmp = map[bool]int{true: -1, false: 0}[x < y] + map[bool]int{true: 1, false: 0}[x > y]
	}
	switch n.op {
	case "==":
		return boolStr(cmp == 0), nil
	case "!=":
		return boolStr(cmp != 0), nil
	case "<":
		return boolStr(cmp < 0), nil
	case "<=":
		return boolStr(cmp <= 0), nil
	case ">":
		return boolStr(cmp > 0), nil
	case ">=":
		return boolStr(cmp >= 0), nil
	}
	return "", fmt.Errorf("operator %q is not emulated", n.op)
}

// matches matches s against a regex literal or the value of an expression.
func (m *awkMachine) matches(s string, re awkNode) (bool, error) {
	pat := re.text
	if re.op != "re" {
		var err error
		if pat, err = m.eval(re); err != nil {
			return false, err
		}
	}
	r, err := compileRegex(pat, true, false)
	if err != nil {
		return false, err
	}
	return r.MatchString(s), nil
}

func (m *awkMachine) call(n awkNode) (string, error) {
	args := make([]string, len(n.kids))
	for i, k := range n.kids {
		if (n.text == "sub" || n.text == "gsub") && i == 0 && k.op == "re" {
			args[i] = k.text
			continue
		}
		v, err := m.eval(k)
		if err != nil {
			return "", err
		}
		args[i] = v
	}
	switch {
	case n.text == "sub" || n.text == "gsub":
		return m.substitute(n, args)
	case n.text == "length":
		if len(args) == 0 {
			return strconv.Itoa(len(m.record)), nil
		}
		return strconv.Itoa(len(args[0])), nil
	case n.text == "substr" && len(args) >= 2:
		return awkSubstr(args), nil
	case n.text == "index" && len(args) == 2:
		return strconv.Itoa(strings.Index(args[0], args[1]) + 1), nil
	case n.text == "tolower" && len(args) == 1:
		return strings.ToLower(args[0]), nil
	case n.text == "toupper" && len(args) == 1:
		return strings.ToUpper(args[0]), nil
	}
	return "", fmt.Errorf("function %s is not emulated", n.text)
}

// substitute is sub and gsub: the target is the third argument (a variable or field) or $0.
func (m *awkMachine) substitute(n awkNode, args []string) (string, error) {
	if len(args) < 2 {
		return "", fmt.Errorf("%s needs two arguments", n.text)
	}
	re, err := compileRegex(args[0], true, false)
	if err != nil {
		return "", err
	}
	target, lv := m.record, awkNode{op: "field", kids: []awkNode{{op: "num", text: "0"}}}
	if len(n.kids) > 2 {
		lv = n.kids[2]
		target = args[2]
	}
	count := 0
	out := re.ReplaceAllStringFunc(target, func(match string) string {
		count++
		if n.text == "sub" && count > 1 {
			return match
		}
		return strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(args[1], `\&`, "\x00"), "&", match), "\x00", "&")
	})
	if n.text == "sub" {
		count = min(count, 1)
	}
	if count > 0 {
		if err := m.store(lv, out); err != nil {
			return "", err
		}
	}
	return strconv.Itoa(count), nil
}

func awkSubstr(args []string) string {
	s := args[0]
	start := int(awkNumber(args[1]))
	end := len(s) + 1
	if len(args) > 2 {
		end = start + int(awkNumber(args[2]))
	}
	start, end = max(start, 1), min(end, len(s)+1)
	if start >= end {
		return ""
	}
	return s[start-1 : end-1]
}

func isAwkNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

func awkNumber(s string) float64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || end == 0 && (s[end] == '-' || s[end] == '+')) {
		end++
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	return f
}

func awkFormat(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func truthy(s string) bool {
	if isAwkNumber(s) {
		return awkNumber(s) != 0
	}
	return s != ""
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
