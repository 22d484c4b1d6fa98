package maintscript

import (
	"regexp"
	"strings"
)

// compileRegex compiles a POSIX regular expression, basic (BRE, with the GNU extensions \+,
// \?, \| and \< \>) unless extended is set, into Go's syntax, matching leftmost-longest.
func compileRegex(re string, extended, ignoreCase bool) (*regexp.Regexp, error) {
	goRe := translateRegex(re, extended)
	if ignoreCase {
		goRe = "(?i)" + goRe
	}
	r, err := regexp.Compile(goRe)
	if err != nil {
		return nil, err
	}
	r.Longest()
	return r, nil
}

// translateRegex rewrites a POSIX BRE or ERE into Go's syntax.
func translateRegex(re string, extended bool) string {
	var b strings.Builder
	atStart := true // where * is literal in a BRE and ^ is an anchor
	for i := 0; i < len(re); i++ {
		ch := re[i]
		switch {
		case ch == '[':
			end := bracketEnd(re, i)
			b.WriteString(translateBracket(re[i:end]))
			i = end - 1
			atStart = false
			continue
		case ch == '\\' && i+1 < len(re):
			i++
			atStart = translateEscape(&b, re[i], extended)
			continue
		case ch == '^':
			if atStart || extended {
				b.WriteByte('^')
			} else {
				b.WriteString(`\^`)
			}
			continue // a * after ^ is still literal in a BRE
		case ch == '$':
			if extended || i == len(re)-1 || strings.HasPrefix(re[i+1:], `\)`) || strings.HasPrefix(re[i+1:], `\|`) {
				b.WriteByte('$')
			} else {
				b.WriteString(`\$`)
			}
		case ch == '*' && atStart && !extended:
			b.WriteString(`\*`)
		case !extended && strings.IndexByte("(){}+?|", ch) >= 0:
			b.WriteByte('\\')
			b.WriteByte(ch)
		case extended && ch == '(':
			b.WriteByte(ch)
			atStart = true
			continue
		case extended && ch == '|':
			b.WriteByte(ch)
			atStart = true
			continue
		default:
			b.WriteByte(ch)
		}
		atStart = false
	}
	return b.String()
}

// translateEscape writes the Go form of the escaped character ch and reports whether what
// follows is at the start of a (sub)expression.
func translateEscape(b *strings.Builder, ch byte, extended bool) bool {
	switch {
	case !extended && (ch == '(' || ch == '|'):
		b.WriteByte(ch)
		return true
	case !extended && strings.IndexByte("){}+?", ch) >= 0:
		b.WriteByte(ch)
	case ch == '<' || ch == '>':
		b.WriteString(`\b`)
	case ch == 'n':
		b.WriteString(`\n`)
	case ch == 't':
		b.WriteString(`\t`)
	case strings.IndexByte("wWsSbB", ch) >= 0:
		b.WriteByte('\\')
		b.WriteByte(ch)
	case ch >= '1' && ch <= '9':
		b.WriteByte('\\') // back-references are not supported by Go; this fails to compile
		b.WriteByte(ch)
	default:
		b.WriteString(regexp.QuoteMeta(string(ch)))
	}
	return false
}

// bracketEnd returns the index after the bracket expression that starts at re[i].
func bracketEnd(re string, i int) int {
	j := i + 1
	if j < len(re) && re[j] == '^' {
		j++
	}
	if j < len(re) && re[j] == ']' {
		j++
	}
	for j < len(re) {
		switch {
		case strings.HasPrefix(re[j:], "[:") || strings.HasPrefix(re[j:], "[=") || strings.HasPrefix(re[j:], "[."):
			if k := strings.Index(re[j+2:], re[j+1:j+2]+"]"); k >= 0 {
				j += k + 4
				continue
			}
		case re[j] == ']':
			return j + 1
		}
		j++
	}
	return len(re)
}

// translateBracket rewrites a bracket expression: a leading ] and backslashes are literal in
// POSIX and must be escaped for Go.
func translateBracket(br string) string {
	var b strings.Builder
	b.WriteByte('[')
	i := 1
	if i < len(br) && br[i] == '^' {
		b.WriteByte('^')
		i++
	}
	if i < len(br) && br[i] == ']' {
		b.WriteString(`\]`)
		i++
	}
	for ; i < len(br); i++ {
		switch br[i] {
		case '\\':
			b.WriteString(`\\`)
		case '[':
			if i+1 < len(br) && br[i+1] == ':' {
				k := strings.Index(br[i:], ":]")
				b.WriteString(br[i : i+k+2])
				i += k + 1
			} else {
				b.WriteString(`\[`)
			}
		default:
			b.WriteByte(br[i])
		}
	}
	return b.String()
}
