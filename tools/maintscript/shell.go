// Package maintscript reads what Debian maintainer scripts would do, without running them: the
// update-alternatives --install calls of a postinst and the dpkg-divert --add calls of a preinst
// or postinst. Only what can be read statically is returned; a call whose arguments depend on
// the shell (variables, command substitution) is reported as a warning instead.
package maintscript

import "strings"

// logicalLines joins backslash-continued lines and splits the script into lines.
func logicalLines(script string) []string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	return strings.Split(script, "\n")
}

// shellWords splits one logical shell line into words, handling quotes and stopping at a
// comment or a command separator; rest is what follows the separator. Words containing
// unexpanded $ or ` are returned as they are (the callers reject them).
func shellWords(line string) (words []string, rest string) {
	var cur strings.Builder
	in := false
	quote := byte(0)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !in:
			return words, ""
		case c == ';' || c == '&' || c == '|' || c == '>' || c == '<' || c == ')':
			flush()
			return words, line[i+1:]
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	return words, ""
}

// call is one invocation of a command found in a script.
type call struct {
	args []string // the words after the command name
	text string   // the invocation as written, for messages
}

// commandCalls returns every invocation of the command cmd (by bare name or by path) in one
// logical shell line.
func commandCalls(line, cmd string) []call {
	var calls []call
	rest := line
	for rest != "" {
		var words []string
		words, rest = shellWords(rest)
		for k, w := range words {
			if w == cmd || strings.HasSuffix(w, "/"+cmd) {
				calls = append(calls, call{args: words[k+1:], text: strings.Join(words[k:], " ")})
				break
			}
		}
	}
	return calls
}
