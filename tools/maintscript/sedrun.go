package maintscript

import (
	"fmt"
	"strings"
)

// sedArgs are sed's command line.
type sedArgs struct {
	script   []string
	quiet    bool
	extended bool
	inPlace  bool
	files    []string
}

// parseSedArgs reads sed's options; ok is false for an option it does not emulate.
func parseSedArgs(args []string) (a sedArgs, ok bool) {
	scriptGiven := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			a.files = append(a.files, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(arg, "--expression="):
			a.script, scriptGiven = append(a.script, arg[len("--expression="):]), true
		case arg == "--quiet" || arg == "--silent":
			a.quiet = true
		case arg == "--regexp-extended":
			a.extended = true
		case arg == "--in-place" || strings.HasPrefix(arg, "--in-place="):
			a.inPlace = true
		case strings.HasPrefix(arg, "--"):
			return a, false
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			var given bool
			if i, given, ok = a.short(args, i); !ok {
				return a, false
			}
			scriptGiven = scriptGiven || given
		default:
			a.files = append(a.files, arg)
		}
	}
	if !scriptGiven {
		if len(a.files) == 0 {
			return a, false
		}
		a.script, a.files = []string{a.files[0]}, a.files[1:]
	}
	return a, true
}

// short reads one word of short options; it returns the index of the last argument used and
// whether a script was given.
func (a *sedArgs) short(args []string, i int) (int, bool, bool) {
	arg := args[i]
	for k := 1; k < len(arg); k++ {
		switch arg[k] {
		case 'n':
			a.quiet = true
		case 'E', 'r':
			a.extended = true
		case 's', 'u':
		case 'i':
			a.inPlace = true
			return i, false, true // the rest is a backup suffix
		case 'e':
			if k+1 < len(arg) {
				a.script = append(a.script, arg[k+1:])
			} else if i+1 < len(args) {
				i++
				a.script = append(a.script, args[i])
			}
			return i, true, true
		default:
			return i, false, false
		}
	}
	return i, false, true
}

func runSed(c *cmdCtx) int {
	a, ok := parseSedArgs(c.args)
	if !ok {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "sed "+strings.Join(c.args, " "))
		return 1
	}
	p := &sedParser{src: strings.Join(a.script, "\n"), extended: a.extended}
	cmds, err := p.commands(false)
	if err != nil {
		c.sys().unknown(c.run.pkg.Name, c.run.script, fmt.Sprintf("sed %q (%v)", p.src, err))
		return 1
	}
	if !a.inPlace {
		in, err := c.input(a.files)
		if err != nil {
			return c.fail("%s", errorText(err))
		}
		fmt.Fprint(c.stdout, sedProgram(cmds, a.quiet, in))
		return 0
	}
	for _, f := range a.files {
		in, err := c.fs().read(c.dir, f)
		if err != nil {
			return c.fail("can't read %s: %s", f, errorText(err))
		}
		if err := c.fs().write(c.dir, f, []byte(sedProgram(cmds, a.quiet, in)), 0o644, false); err != nil {
			return c.fail("couldn't edit %s: %s", f, errorText(err))
		}
	}
	return 0
}

// sedState is one run of a sed script over an input.
type sedState struct {
	out    strings.Builder
	quiet  bool
	lineNo int
	last   bool
	quit   bool
}

// sedProgram runs cmds over in and returns the output.
func sedProgram(cmds []*sedCmd, quiet bool, in []byte) string {
	resetSed(cmds)
	st := &sedState{quiet: quiet}
	ls := lines(in)
	noFinalNewline := len(in) > 0 && in[len(in)-1] != '\n'
	for i, l := range ls {
		st.lineNo, st.last = i+1, i == len(ls)-1
		ps, printIt := st.cycle(cmds, l)
		if printIt && !st.quiet {
			st.out.WriteString(ps)
			if !(st.last && noFinalNewline) {
				st.out.WriteByte('\n')
			}
		}
		if st.quit {
			break
		}
	}
	return st.out.String()
}

func resetSed(cmds []*sedCmd) {
	for _, c := range cmds {
		c.inRange, c.done = false, false
		resetSed(c.block)
	}
}

// cycle runs the commands on one line; it returns the pattern space and whether it is to be
// printed at the end of the cycle.
func (st *sedState) cycle(cmds []*sedCmd, ps string) (string, bool) {
	for _, c := range cmds {
		if st.selected(c, ps) == c.negate {
			continue
		}
		switch c.name {
		case '{':
			var keep bool
			if ps, keep = st.cycle(c.block, ps); !keep || st.quit {
				return ps, keep
			}
		case 's':
			var done bool
			if ps, done = substitute(c, ps); done && c.print {
				st.out.WriteString(ps + "\n")
			}
		case 'y':
			ps = transliterate(c, ps)
		case 'p':
			st.out.WriteString(ps + "\n")
		case '=':
			fmt.Fprintf(&st.out, "%d\n", st.lineNo)
		case 'd':
			return ps, false
		case 'q':
			st.quit = true
			return ps, true
		case 'Q':
			st.quit = true
			return ps, false
		}
	}
	return ps, true
}

// matches reports whether a (set) address matches the current line.
func (st *sedState) matches(a sedAddr, ps string) bool {
	switch {
	case a.re != nil:
		return a.re.MatchString(ps)
	case a.last:
		return st.last
	}
	return a.line == st.lineNo
}

func (a sedAddr) set() bool { return a.re != nil || a.last || a.line > 0 || a.zero }

// selected applies the command's address (or range) to the current line.
func (st *sedState) selected(c *sedCmd, ps string) bool {
	switch {
	case !c.a1.set():
		return true
	case !c.hasA2:
		return st.matches(c.a1, ps)
	case c.inRange:
		if c.a2.re == nil && !c.a2.last {
			c.inRange = st.lineNo < c.a2.line
		} else {
			c.inRange = !st.matches(c.a2, ps)
		}
		return true
	case c.a1.zero:
		if c.done || st.lineNo != 1 {
			return false
		}
		c.done = true
		c.inRange = !st.matches(c.a2, ps)
		return true
	case st.matches(c.a1, ps):
		if c.a2.re == nil && !c.a2.last {
			c.inRange = c.a2.line > st.lineNo
		} else {
			c.inRange = !(c.a2.last && st.last)
		}
		return true
	}
	return false
}

// substitute applies an s command; done reports whether a replacement was made.
func substitute(c *sedCmd, ps string) (string, bool) {
	matches := c.re.FindAllStringSubmatchIndex(ps, -1)
	var b strings.Builder
	prev, done := 0, false
	for k, m := range matches {
		n := k + 1
		if !c.global && n != max(c.nth, 1) || c.global && n < c.nth {
			continue
		}
		b.WriteString(ps[prev:m[0]])
		b.WriteString(expandReplacement(c.repl, ps, m))
		prev, done = m[1], true
		if !c.global {
			break
		}
	}
	if !done {
		return ps, false
	}
	b.WriteString(ps[prev:])
	return b.String(), true
}

// expandReplacement expands &, \1..\9, \n and escapes in a replacement.
func expandReplacement(repl, ps string, m []int) string {
	var b strings.Builder
	group := func(g int) {
		if 2*g+1 < len(m) && m[2*g] >= 0 {
			b.WriteString(ps[m[2*g]:m[2*g+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		ch := repl[i]
		switch {
		case ch == '&':
			group(0)
		case ch == '\\' && i+1 < len(repl):
			i++
			switch e := repl[i]; {
			case e >= '0' && e <= '9':
				group(int(e - '0'))
			case e == 'n':
				b.WriteByte('\n')
			case e == 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func transliterate(c *sedCmd, ps string) string {
	var b strings.Builder
	for _, r := range ps {
		if i := indexRune(c.from, r); i >= 0 {
			r = c.to[i]
		}
		b.WriteRune(r)
	}
	return b.String()
}
