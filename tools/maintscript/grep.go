package maintscript

import (
	"fmt"
	"regexp"
	"strings"
)

// grepOpts are grep's options that the emulation supports.
type grepOpts struct {
	patterns                            []string
	extended, fixed, invert, line, word bool
	quiet, count, ignoreCase, filesOnly bool
	noMessages, withNames, lineNumbers  bool
	files                               []string
}

// parseGrep reads grep's command line; mode is "E" for egrep, "F" for fgrep.
func parseGrep(args []string, mode string) (grepOpts, bool) {
	g := grepOpts{extended: mode == "E", fixed: mode == "F"}
	var operands []string
	flags := map[byte]*bool{'E': &g.extended, 'F': &g.fixed, 'v': &g.invert, 'x': &g.line, 'w': &g.word,
		'q': &g.quiet, 'c': &g.count, 'i': &g.ignoreCase, 'l': &g.filesOnly, 's': &g.noMessages, 'H': &g.withNames, 'n': &g.lineNumbers}
	long := map[string]*bool{"extended-regexp": &g.extended, "fixed-strings": &g.fixed, "invert-match": &g.invert,
		"line-regexp": &g.line, "word-regexp": &g.word, "quiet": &g.quiet, "silent": &g.quiet, "count": &g.count,
		"ignore-case": &g.ignoreCase, "files-with-matches": &g.filesOnly, "no-messages": &g.noMessages}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case a == "-e" && i+1 < len(args):
			i++
			g.patterns = append(g.patterns, args[i])
		case strings.HasPrefix(a, "--regexp="):
			g.patterns = append(g.patterns, a[len("--regexp="):])
		case strings.HasPrefix(a, "--"):
			p, ok := long[a[2:]]
			if !ok {
				return g, false
			}
			*p = true
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for k := 1; k < len(a); k++ {
				p, ok := flags[a[k]]
				if !ok {
					return g, false
				}
				*p = true
			}
		default:
			operands = append(operands, a)
		}
	}
	if len(g.patterns) == 0 {
		if len(operands) == 0 {
			return g, false
		}
		g.patterns, operands = strings.Split(operands[0], "\n"), operands[1:]
	}
	g.files = operands
	return g, true
}

// matcher returns the line test of the patterns.
func (g grepOpts) matcher() (func(string) bool, error) {
	var res []*regexp.Regexp
	for _, p := range g.patterns {
		expr := p
		if g.fixed {
			expr = regexp.QuoteMeta(p)
		} else {
			expr = translateRegex(p, g.extended)
		}
		switch {
		case g.line:
			expr = "^(?:" + expr + ")$"
		case g.word:
			expr = `\b(?:` + expr + `)\b`
		}
		if g.ignoreCase {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		res = append(res, re)
	}
	return func(l string) bool {
		for _, re := range res {
			if re.MatchString(l) {
				return !g.invert
			}
		}
		return g.invert
	}, nil
}

// runGrep is grep, egrep and fgrep: 0 when a line matched, 1 when none did, 2 on errors.
func runGrep(mode string) func(c *cmdCtx) int {
	return func(c *cmdCtx) int {
		g, ok := parseGrep(c.args, mode)
		if !ok {
			c.sys().unknown(c.run.pkg.Name, c.run.script, "grep "+strings.Join(c.args, " "))
			return 2
		}
		match, err := g.matcher()
		if err != nil {
			fmt.Fprintf(c.stderr, "grep: %v\n", err)
			return 2
		}
		files := g.files
		if len(files) == 0 {
			files = []string{"-"}
		}
		found, status := false, 0
		for _, f := range files {
			b, err := c.input([]string{f})
			if err != nil {
				if !g.noMessages {
					fmt.Fprintf(c.stderr, "grep: %s: No such file or directory\n", f)
				}
				status = 2
				continue
			}
			if g.scan(c, f, lines(b), match, len(files) > 1) {
				found = true
				if g.quiet {
					return 0
				}
			}
		}
		if found {
			return 0
		}
		if status == 0 {
			status = 1
		}
		return status
	}
}

// scan prints the matching lines of one file (as the options say) and reports whether any
// matched.
func (g grepOpts) scan(c *cmdCtx, name string, ls []string, match func(string) bool, many bool) bool {
	n := 0
	for i, l := range ls {
		if !match(l) {
			continue
		}
		n++
		if g.quiet || g.count || g.filesOnly {
			continue
		}
		prefix := ""
		if many || g.withNames {
			prefix = name + ":"
		}
		if g.lineNumbers {
			prefix += fmt.Sprint(i+1) + ":"
		}
		fmt.Fprintln(c.stdout, prefix+l)
	}
	switch {
	case g.quiet:
	case g.count:
		fmt.Fprintln(c.stdout, n)
	case g.filesOnly && n > 0:
		fmt.Fprintln(c.stdout, name)
	}
	return n > 0
}
