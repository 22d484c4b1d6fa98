// Package debversion implements Debian package version ordering (the
// algorithm of dpkg's verrevcmp) and parsing of dependency fields such as
// Depends, Pre-Depends, Provides, Conflicts and Breaks.
//
// Compare works directly on version strings and allocates nothing, so it can
// be called millions of times while resolving dependencies. Parse validates
// a version against Debian policy 5.6.12 and is meant for inputs that come
// from people (pins, requests) rather than from repository indexes.
package debversion

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed Debian version: [epoch:]upstream[-revision].
type Version struct {
	Epoch    uint
	Upstream string
	Revision string
}

// String returns the canonical form: the epoch is omitted when zero and the
// revision (with its hyphen) when empty.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.FormatUint(uint64(v.Epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Parse splits s into epoch, upstream version and Debian revision and
// validates it per Debian policy 5.6.12:
//   - the epoch, if present, is a non-empty unsigned decimal number;
//   - the upstream version is non-empty, starts with a digit and contains
//     only alphanumerics and . + ~ and - (the hyphen only when there is a
//     revision, since the revision starts after the last hyphen);
//   - the revision, if present, is non-empty and contains only
//     alphanumerics and . + ~.
//
// Surrounding whitespace is an error. Errors quote the input.
func Parse(s string) (Version, error) {
	var v Version
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("invalid version %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	rest := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		ep := s[:i]
		if ep == "" {
			return bad("epoch is empty")
		}
		for j := 0; j < len(ep); j++ {
			if !isDigit(ep[j]) {
				return bad("epoch is not a number")
			}
		}
		n, err := strconv.ParseUint(ep, 10, 31) // dpkg limits epochs to INT_MAX
		if err != nil {
			return bad("epoch is too large")
		}
		v.Epoch = uint(n)
		rest = s[i+1:]
		if rest == "" {
			return bad("nothing after the epoch")
		}
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.Upstream, v.Revision = rest[:i], rest[i+1:]
		if v.Revision == "" {
			return bad("revision is empty")
		}
	} else {
		v.Upstream = rest
	}
	if v.Upstream == "" {
		return bad("upstream version is empty")
	}
	if !isDigit(v.Upstream[0]) {
		return bad("upstream version does not start with a digit")
	}
	for i := 0; i < len(v.Upstream); i++ {
		c := v.Upstream[i]
		if !isAlnum(c) && c != '.' && c != '+' && c != '~' && c != '-' {
			return bad(fmt.Sprintf("invalid character %q in upstream version", c))
		}
	}
	for i := 0; i < len(v.Revision); i++ {
		c := v.Revision[i]
		if !isAlnum(c) && c != '.' && c != '+' && c != '~' {
			return bad(fmt.Sprintf("invalid character %q in revision", c))
		}
	}
	return v, nil
}

// Compare orders two version strings like `dpkg --compare-versions`: it
// returns a negative number if a sorts before b, zero if they are equal and
// a positive number if a sorts after b. Only the sign is meaningful.
//
// Epochs compare numerically, then upstream versions and revisions with
// dpkg's verrevcmp: runs of non-digits compare character by character with
// '~' before everything (even the end of the string), then the end of the
// string, then letters, then other characters; runs of digits compare
// numerically. A missing revision equals "0" (so "1.0" == "1.0-0").
//
// An empty version sorts before every other version, as in dpkg.
// Compare never fails: like dpkg on invalid input it does its best
// (leading/trailing blanks are ignored, a non-numeric epoch counts as 0).
// It does not allocate.
func Compare(a, b string) int {
	a = strings.TrimSpace(a)
	b = strings.TrimSpace(b)
	if a == b {
		return 0
	}
	// dpkg --compare-versions treats an empty (absent) version as earlier
	// than every version, even "~".
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	ea, ua, ra := split(a)
	eb, ub, rb := split(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// split returns the epoch, upstream and revision of s without allocating.
func split(s string) (epoch uint64, upstream, revision string) {
	upstream = s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		for j := 0; j < i; j++ {
			c := s[j]
			if !isDigit(c) {
				epoch = 0
				break
			}
			if epoch < 1<<40 { // saturate instead of overflowing
				epoch = epoch*10 + uint64(c-'0')
			}
		}
		upstream = s[i+1:]
	}
	if i := strings.LastIndexByte(upstream, '-'); i >= 0 {
		revision = upstream[i+1:]
		upstream = upstream[:i]
	}
	return epoch, upstream, revision
}

// order is dpkg's character weight for the non-digit parts; 0 stands for
// both "end of string" and "digit".
func order(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	default:
		return int(c) + 256
	}
}

// verrevcmp is dpkg's lib/dpkg/version.c verrevcmp on Go strings.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			if i < len(a) && j < len(b) && a[i] == b[j] {
				// Same non-digit on both sides (the common "." or "+").
				i++
				j++
				continue
			}
			ac, bc := order(a, i), order(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
