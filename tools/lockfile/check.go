package lockfile

import (
	"sort"
	"strings"
)

// Status is the result of Check.
type Status struct {
	// InputsChanged: inputs_sha256 differs from the hash of the current inputs.
	InputsChanged bool
	// Changed are locked sets whose set inputs changed; Removed are locked sets that the
	// inputs no longer define; Missing are defined sets that are not locked.
	Changed, Removed, Missing []string
}

// Stale reports whether the lockfile must be re-locked. Missing sets alone are not stale.
func (s Status) Stale() bool { return s.InputsChanged || len(s.Changed) > 0 || len(s.Removed) > 0 }

// String describes the status in one line.
func (s Status) String() string {
	var parts []string
	if len(s.Changed) > 0 {
		parts = append(parts, "changed sets: "+strings.Join(s.Changed, ", "))
	}
	if len(s.Removed) > 0 {
		parts = append(parts, "removed sets: "+strings.Join(s.Removed, ", "))
	}
	if s.InputsChanged && len(parts) == 0 {
		parts = append(parts, "inputs changed (sources, keyrings, pg_versions.bzl or unlocked sets' requests)")
	}
	if len(s.Missing) > 0 {
		parts = append(parts, "not locked: "+strings.Join(s.Missing, ", "))
	}
	if len(parts) == 0 {
		return "up to date"
	}
	return strings.Join(parts, "; ")
}

// Check compares lf (nil: no lockfile) with the current inputs.
func Check(lf *Lockfile, in Inputs) Status {
	var st Status
	if lf == nil {
		st.InputsChanged = true
		st.Missing = in.SetNames()
		return st
	}
	st.InputsChanged = lf.InputsSHA256 != in.Hash()
	for _, name := range in.SetNames() {
		if _, ok := lf.Sets[name]; !ok {
			st.Missing = append(st.Missing, name)
			continue
		}
		if lf.SetInputsSHA256[name] != in.SetHash(name) {
			st.Changed = append(st.Changed, name)
		}
	}
	for name := range lf.Sets {
		if _, ok := in.Sets[name]; !ok {
			st.Removed = append(st.Removed, name)
		}
	}
	sort.Strings(st.Removed)
	return st
}
