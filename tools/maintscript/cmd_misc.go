package maintscript

import (
	"fmt"
	"regexp"
	"strings"
)

var pythonName = regexp.MustCompile(`^python3(\.[0-9]+)?$`)

// runPython runs no Python program: byte-compiling (py_compile, compileall) only fills
// caches that Python fills itself on import; anything else is reported.
func runPython(c *cmdCtx) int {
	for _, a := range c.args {
		if strings.HasSuffix(a, "/py_compile.py") || strings.HasSuffix(a, "/compileall.py") || a == "py_compile" || a == "compileall" {
			return 0
		}
	}
	c.sys().unknown(c.run.pkg.Name, c.run.script, c.name)
	return 0
}

// runPamGetenv is libpam-runtime's pam_getenv [-l] [-s] VAR: the value of VAR in
// /etc/security/pam_env.conf (OVERRIDE, else DEFAULT) or /etc/environment, which wins.
func runPamGetenv(c *cmdCtx) int {
	var name string
	for _, a := range c.args {
		if a != "-l" && a != "-s" {
			name = a
			break
		}
	}
	if name == "" {
		return c.fail("Usage: pam_getenv [-l] [-s] env_var")
	}
	vars := map[string]string{}
	conf, _ := c.fs().read("/", "/etc/security/pam_env.conf")
	for _, l := range pamEnvLines(conf) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "DEFAULT="); ok && vars[f[0]] == "" {
				vars[f[0]] = strings.Trim(v, `"`)
			}
			if v, ok := strings.CutPrefix(kv, "OVERRIDE="); ok && v != "" {
				vars[f[0]] = strings.Trim(v, `"`)
			}
		}
	}
	env, _ := c.fs().read("/", "/etc/environment")
	for _, l := range pamEnvLines(env) {
		if k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "="); ok && v != "" {
			vars[k] = strings.Trim(v, `"'`)
		}
	}
	if v, ok := vars[name]; ok {
		fmt.Fprintln(c.stdout, v)
	}
	return 0
}

// pamEnvLines returns the lines of a pam_env file without comments, continuations joined.
func pamEnvLines(b []byte) []string {
	var out []string
	cur := ""
	for _, l := range lines(b) {
		l, _, _ = strings.Cut(strings.TrimLeft(l, " \t"), "#")
		if strings.HasSuffix(strings.TrimRight(l, " \t"), `\`) {
			cur += strings.TrimSuffix(strings.TrimRight(l, " \t"), `\`)
			continue
		}
		if cur+l != "" {
			out = append(out, cur+l)
		}
		cur = ""
	}
	return out
}

// runExpr is expr STRING : REGEX (the length of the anchored match, or its first group),
// and integer arithmetic and comparisons of two operands; the status is 1 when the result is
// 0 or empty.
func runExpr(c *cmdCtx) int {
	a := c.args
	if len(a) != 3 {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "expr "+strings.Join(a, " "))
		return 2
	}
	var out string
	switch a[1] {
	case ":":
		re, err := regexp.Compile("^(?:" + translateRegex(a[2], false) + ")")
		if err != nil {
			return c.fail("%v", err)
		}
		re.Longest()
		m := re.FindStringSubmatch(a[0])
		switch {
		case re.NumSubexp() > 0 && m != nil:
			out = m[1]
		case re.NumSubexp() > 0:
			out = ""
		case m != nil:
			out = fmt.Sprint(len(m[0]))
		default:
			out = "0"
		}
	default:
		var ok bool
		if out, ok = exprArith(a[0], a[1], a[2]); !ok {
			c.sys().unknown(c.run.pkg.Name, c.run.script, "expr "+strings.Join(a, " "))
			return 2
		}
	}
	fmt.Fprintln(c.stdout, out)
	if out == "" || out == "0" {
		return 1
	}
	return 0
}

// exprArith evaluates one binary expr operation on integers (comparisons also on strings).
func exprArith(x, op, y string) (string, bool) {
	var a, b int
	_, e1 := fmt.Sscan(x, &a)
	_, e2 := fmt.Sscan(y, &b)
	numeric := e1 == nil && e2 == nil
	cmp := strings.Compare(x, y)
	if numeric {
		cmp = map[bool]int{true: -1}[a < b] + map[bool]int{true: 1}[a > b]
	}
	switch op {
	case "+", "-", "*", "/", "%":
		if !numeric || (op == "/" || op == "%") && b == 0 {
			return "", false
		}
		return fmt.Sprint(map[string]int{"+": a + b, "-": a - b, "*": a * b, "/": a / max(b, 1), "%": a % max(b, 1)}[op]), true
	case "=", "!=", "<", "<=", ">", ">=":
		res := map[string]bool{"=": cmp == 0, "!=": cmp != 0, "<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}[op]
		return boolStr(res), true
	}
	return "", false
}
