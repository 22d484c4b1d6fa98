package debversion

import "strings"

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
