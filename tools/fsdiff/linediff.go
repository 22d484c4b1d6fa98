package fsdiff

import (
	"bytes"
	"strings"
)

// IsText reports whether b looks like text (no NUL byte).
func IsText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 }

// LineDiff lists the lines of want that got lacks ("-line") and the lines of got that want
// lacks ("+line"), each in file order, counting repeated lines. It is not a minimal edit
// script: moved lines do not show, which is what a report on generated files needs.
func LineDiff(want, got []byte) []string {
	wl, gl := lines(want), lines(got)
	var out []string
	for _, l := range subtract(wl, gl) {
		out = append(out, "-"+l)
	}
	for _, l := range subtract(gl, wl) {
		out = append(out, "+"+l)
	}
	return out
}

func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// subtract returns the lines of a, in order, left after removing one occurrence per line of b.
func subtract(a, b []string) []string {
	n := map[string]int{}
	for _, l := range b {
		n[l]++
	}
	var out []string
	for _, l := range a {
		if n[l] > 0 {
			n[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
