package maintscript

import (
	"io"
	"strings"

	"mvdan.cc/sh/v3/interp"
)

// mvdan.cc/sh's read builtin splits a line on every IFS character as if it were white
// space, so `IFS='#' read -r line _` gives a comment line "# text" to line, where POSIX
// shells give line the empty field before the "#". posixRead carries out `read -r VAR...`
// itself when IFS holds other characters than white space: it reads the line and returns
// shell code that assigns the fields (run with eval, so the variables are the shell's),
// ending in a failing command at the end of the input, as read fails there.

// posixRead returns the code for read's arguments, or false to leave read to the
// interpreter.
func posixRead(hc interp.HandlerContext, args []string) (string, bool) {
	ifs := hc.Env.Get("IFS")
	if !ifs.IsSet() || strings.Trim(ifs.String(), " \t\n") == "" {
		return "", false
	}
	var names []string
	raw := false
	for _, a := range args {
		switch {
		case a == "-r":
			raw = true
		case strings.HasPrefix(a, "-"):
			return "", false
		default:
			names = append(names, a)
		}
	}
	if !raw || len(names) == 0 {
		return "", false
	}
	line, eof := readLine(hc.Stdin)
	fields := splitFields(line, ifs.String(), len(names))
	var b strings.Builder
	for i, n := range names {
		v := ""
		if i < len(fields) {
			v = fields[i]
		}
		b.WriteString(n + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'; ")
	}
	if eof && line == "" {
		b.WriteString("false")
	} else {
		b.WriteString(":")
	}
	return b.String(), true
}

// readLine reads one line (without its newline) a byte at a time, so that nothing after it
// is consumed; eof reports that the input ended before a newline.
func readLine(r io.Reader) (string, bool) {
	if r == nil {
		return "", true
	}
	var b []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return string(b), false
			}
			b = append(b, buf[0])
		}
		if err != nil {
			return string(b), true
		}
	}
}

// splitFields splits a line into n fields as POSIX read does: IFS white space is trimmed
// and collapsed, every other IFS character ends a field (with the white space around it),
// and the last field keeps the rest of the line.
func splitFields(line, ifs string, n int) []string {
	isWS := func(c byte) bool { return (c == ' ' || c == '\t' || c == '\n') && strings.IndexByte(ifs, c) >= 0 }
	isDelim := func(c byte) bool { return strings.IndexByte(ifs, c) >= 0 && !isWS(c) }
	i := 0
	for i < len(line) && isWS(line[i]) {
		i++
	}
	var fields []string
	for len(fields) < n-1 && i < len(line) {
		start := i
		for i < len(line) && !isWS(line[i]) && !isDelim(line[i]) {
			i++
		}
		fields = append(fields, line[start:i])
		for i < len(line) && isWS(line[i]) {
			i++
		}
		if i < len(line) && isDelim(line[i]) {
			i++
			for i < len(line) && isWS(line[i]) {
				i++
			}
		}
	}
	rest := line[i:]
	for len(rest) > 0 && isWS(rest[len(rest)-1]) {
		rest = rest[:len(rest)-1]
	}
	if rest != "" || len(fields) < n {
		fields = append(fields, rest)
	}
	return fields
}
