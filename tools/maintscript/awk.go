package maintscript

import (
	"fmt"
	"strings"
)

// The awk emulation: a program of rules "[BEGIN|END|pattern] [{ action }]", where a pattern
// is an expression (a /regex/ alone matches $0) and actions are print (with > or >> to a
// file), assignments, gsub, sub, length, substr, if/else and blocks. Expressions have
// fields ($N, $NF), NR, NF, variables, string and number literals, concatenation,
// comparisons, ~ and !~, &&, || and !. Other programs are reported as not reproduced.

func runAwk(c *cmdCtx) int {
	o := parseOpts(c.args, "Fvf", "field-separator", "assign")
	if len(o.args) == 0 {
		return c.fail("no program")
	}
	prog, err := parseAwkProgram(o.args[0])
	if err != nil {
		c.sys().unknown(c.run.pkg.Name, c.run.script, fmt.Sprintf("awk %q (%v)", o.args[0], err))
		return 2
	}
	in, err := c.input(o.args[1:])
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	m := &awkMachine{vars: map[string]string{}, out: &strings.Builder{}, c: c}
	m.fs, _ = o.get("F", "field-separator")
	if v, ok := o.get("v", "assign"); ok {
		if k, val, ok := strings.Cut(v, "="); ok {
			m.vars[k] = val
		}
	}
	if err := m.run(prog, lines(in)); err != nil {
		c.sys().unknown(c.run.pkg.Name, c.run.script, fmt.Sprintf("awk %q (%v)", o.args[0], err))
		return 2
	}
	fmt.Fprint(c.stdout, m.out.String())
	return 0
}

// awkMachine runs a parsed program.
type awkMachine struct {
	c      *cmdCtx
	vars   map[string]string
	fs     string
	record string
	fields []string
	nr     int
	out    *strings.Builder
}

func (m *awkMachine) run(prog []awkRule, ls []string) error {
	for _, r := range prog {
		if r.begin {
			if err := m.exec(r.action); err != nil {
				return err
			}
		}
	}
	for i, l := range ls {
		m.nr = i + 1
		m.setRecord(l)
		for _, r := range prog {
			if r.begin || r.end {
				continue
			}
			if r.pattern != nil {
				v, err := m.eval(*r.pattern)
				if err != nil {
					return err
				}
				if !truthy(v) {
					continue
				}
			}
			if err := m.exec(r.action); err != nil {
				return err
			}
		}
	}
	for _, r := range prog {
		if r.end {
			if err := m.exec(r.action); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *awkMachine) setRecord(l string) {
	m.record = l
	m.fields = awkFields(l, m.fs)
}

// awkFields splits a record: on runs of blanks by default, else on the separator.
func awkFields(line, fs string) []string {
	if fs == "" || fs == " " {
		return strings.Fields(line)
	}
	if len(fs) == 1 {
		return strings.Split(line, fs)
	}
	re, err := compileRegex(fs, true, false)
	if err != nil {
		return strings.Split(line, fs)
	}
	return re.Split(line, -1)
}

func (m *awkMachine) field(n int) string {
	switch {
	case n == 0:
		return m.record
	case n > 0 && n <= len(m.fields):
		return m.fields[n-1]
	}
	return ""
}

func (m *awkMachine) setField(n int, v string) {
	if n == 0 {
		m.setRecord(v)
		return
	}
	for len(m.fields) < n {
		m.fields = append(m.fields, "")
	}
	m.fields[n-1] = v
	m.record = strings.Join(m.fields, " ")
}

// exec runs statements.
func (m *awkMachine) exec(stmts []awkNode) error {
	for _, s := range stmts {
		if err := m.stmt(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *awkMachine) stmt(s awkNode) error {
	switch s.op {
	case "print":
		return m.print(s)
	case "if":
		v, err := m.eval(s.kids[0])
		if err != nil {
			return err
		}
		if truthy(v) {
			return m.exec(s.kids[1].kids)
		}
		if len(s.kids) > 2 {
			return m.exec(s.kids[2].kids)
		}
		return nil
	case "block":
		return m.exec(s.kids)
	}
	_, err := m.eval(s)
	return err
}

func (m *awkMachine) print(s awkNode) error {
	var parts []string
	for _, k := range s.kids {
		v, err := m.eval(k)
		if err != nil {
			return err
		}
		parts = append(parts, v)
	}
	if len(s.kids) == 0 {
		parts = []string{m.record}
	}
	line := strings.Join(parts, " ") + "\n"
	if s.text == "" {
		m.out.WriteString(line)
		return nil
	}
	return m.c.fs().write(m.c.dir, s.text, []byte(line), 0o644, true)
}
