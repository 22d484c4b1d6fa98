// Package pamauth generates what Debian's pam-auth-update (libpam-runtime) writes: the
// /etc/pam.d/common-{auth,account,password,session,session-noninteractive} files, filled in
// from the profiles of /usr/share/pam-configs into the templates of /usr/share/pam, and the
// saved state of /var/lib/pam (seen, and one file per type). It follows pam-auth-update's
// Perl code line by line where the output depends on it: profile parsing, the order of the
// profiles (priority, then name, both descending), the *-Initial variants for the first
// module of a block, the jump counts that replace "end", and the pam_permit.so line of an
// empty Primary block.
package pamauth

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Types are the PAM stacks pam-auth-update writes, in its order.
func Types() []string {
	return []string{"auth", "account", "password", "session", "session-noninteractive"}
}

// Profile is one file of /usr/share/pam-configs.
type Profile struct {
	// Fields hold the profile's fields ("Name", "Default", "Priority", "Auth-Type",
	// "Auth", "Auth-Initial", ...); multi-line values are joined with "\n".
	Fields    map[string]string
	Conflicts map[string]bool
	// Disabled is set when the profile uses a module pam-auth-update refuses (pam_tally).
	Disabled bool
}

var fieldLine = regexp.MustCompile(`^(\S+):\s+(.*)\s*$`)

// Parse parses a profile as parse_pam_profile does.
func Parse(data []byte) Profile {
	p := Profile{Fields: map[string]string{}, Conflicts: map[string]bool{}}
	var field string
	for _, line := range splitLinesKeepEmpty(string(data)) {
		if m := fieldLine.FindStringSubmatch(line + "\n"); m != nil {
			field = strings.TrimSuffix(m[1], "-Final")
			if field == "Conflicts" {
				for _, c := range strings.Split(m[2], ", ") {
					p.Conflicts[c] = true
				}
			} else {
				p.Fields[field] = m[2]
			}
			continue
		}
		v := strings.TrimSpace(line)
		if v != "" {
			p.Fields[field] += "\n" + v
		}
		if strings.Contains(p.Fields[field], "pam_tally") {
			p.Disabled = true
		}
		p.Fields[field] = strings.TrimLeft(p.Fields[field], "\n\t ")
	}
	if _, ok := p.Fields["Session-Interactive-Only"]; !ok {
		for _, suffix := range []string{"-Type", "", "-Initial"} {
			if v, ok := p.Fields["Session"+suffix]; ok {
				p.Fields["Session-noninteractive"+suffix] = v
			}
		}
	}
	return p
}

func splitLinesKeepEmpty(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func (p Profile) priority() int {
	n, _ := strconv.Atoi(p.Fields["Priority"])
	return n
}

// Sort orders profile names as pam-auth-update does: by priority, then by name, both
// descending.
func Sort(profiles map[string]Profile, names []string) []string {
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := profiles[out[i]].priority(), profiles[out[j]].priority()
		if a != b {
			return a > b
		}
		return out[i] > out[j]
	})
	return out
}

// Select returns the enabled profiles: those of selected that exist, plus the profiles
// whose Default is yes and that were not seen before (all of them when nothing remains
// selected), sorted and without duplicates; conflicting lower-priority profiles are dropped.
func Select(profiles map[string]Profile, sorted, selected []string, seen map[string]bool) []string {
	var enabled []string
	for _, n := range selected {
		if _, ok := profiles[n]; ok {
			enabled = append(enabled, n)
		}
	}
	if len(enabled) == 0 {
		seen = nil
	}
	for _, n := range sorted {
		if profiles[n].Fields["Default"] == "yes" && !seen[n] {
			enabled = append(enabled, n)
		}
	}
	enabled = Sort(profiles, enabled)
	var out []string
	for i, n := range enabled {
		if i == 0 || n != enabled[i-1] {
			out = append(out, n)
		}
	}
	return dropConflicts(profiles, out)
}

// dropConflicts removes, for each enabled profile, the enabled ones it conflicts with.
func dropConflicts(profiles map[string]Profile, enabled []string) []string {
	for k := 0; k < len(enabled); k++ {
		elem := enabled[k]
		for i := len(enabled) - 1; i >= 0; i-- {
			if profiles[elem].Conflicts[enabled[i]] {
				enabled = append(enabled[:i], enabled[i+1:]...)
			}
		}
	}
	return enabled
}

// linesFor is lines_for_module_and_type: the -Initial variant for the first module of a
// block, when the profile has one.
func linesFor(p Profile, uctype string, pos int) string {
	if v := p.Fields[uctype+"-Initial"]; pos == 0 && v != "" {
		return v
	}
	return p.Fields[uctype]
}

// ucfirst is the type's field prefix: "Auth", "Session-noninteractive".
func ucfirst(typ string) string { return strings.ToUpper(typ[:1]) + typ[1:] }

// modules returns the enabled profiles whose block for typ is block, with their lines.
func modules(profiles map[string]Profile, enabled []string, typ, block string) (names []string, texts []string) {
	uctype := ucfirst(typ)
	for _, n := range enabled {
		if profiles[n].Fields[uctype+"-Type"] != block {
			continue
		}
		names = append(names, n)
		texts = append(texts, linesFor(profiles[n], uctype, len(texts)))
	}
	return names, texts
}

var (
	primaryMarker    = regexp.MustCompile(`^# here are the per-package modules \(the "Primary" block\)`)
	fallbackMarker   = regexp.MustCompile(`^# here's the fallback if no module succeeds`)
	additionalMarker = regexp.MustCompile(`^# and here are more per-package modules \(the "Additional" block\)`)
	endMarker        = regexp.MustCompile(`^# end of pam-auth-update config`)
	moduleLine       = regexp.MustCompile(`^((\[[^]]+\]|\w+)\s+\S+)\s*(.*)`)
)

// Config fills the template (a /usr/share/pam/common-TYPE file) for typ with the enabled
// profiles, as create_from_template does; ok is false when the template lacks a marker.
func Config(template []byte, typ string, profiles map[string]Profile, enabled []string) (out []byte, ok bool) {
	stackType := strings.TrimSuffix(typ, "-noninteractive")
	var b strings.Builder
	state := 0
	for _, line := range strings.SplitAfter(string(template), "\n") {
		if line == "" {
			continue
		}
		switch {
		case state == 1 || state == 3:
			if state == 1 && fallbackMarker.MatchString(line) || state == 3 && endMarker.MatchString(line) {
				b.WriteString(line)
				state++
			}
			continue
		}
		b.WriteString(line)
		switch {
		case state == 0 && primaryMarker.MatchString(line):
			writeBlock(&b, profiles, enabled, typ, stackType, "Primary")
			state++
		case state == 2 && additionalMarker.MatchString(line):
			writeBlock(&b, profiles, enabled, typ, stackType, "Additional")
			state++
		}
	}
	return []byte(b.String()), state >= 4
}

// writeBlock writes the module lines of one block with their jump counts.
func writeBlock(b *strings.Builder, profiles map[string]Profile, enabled []string, typ, stackType, block string) {
	_, texts := modules(profiles, enabled, typ, block)
	count := 0
	for _, t := range texts {
		count += len(strings.FieldsFunc(t, func(r rune) bool { return r == '\n' }))
	}
	if block == "Additional" {
		count--
	}
	if block == "Primary" && count == 0 {
		b.WriteString(stackType + "\t[default=1]\t\t\tpam_permit.so\n")
	}
	for _, t := range texts {
		for _, line := range strings.Split(t, "\n") {
			b.WriteString(stackType + "\t" + mergeLine(line, count))
			count--
		}
	}
}

// mergeLine is merge_one_line without local changes: "end" in the control becomes the
// number of lines left to skip.
func mergeLine(line string, count int) string {
	m := moduleLine.FindStringSubmatch(line)
	if m == nil {
		return " \n"
	}
	mod := strings.ReplaceAll(m[1], "end", strconv.Itoa(count))
	return mod + " " + strings.Join(strings.Fields(m[3]), " ") + "\n"
}

// Saved is the /var/lib/pam/TYPE file: "Module: NAME" and the profile's lines for each
// module of the Primary block (or the pam_permit.so stand-in), then of the Additional one.
func Saved(typ string, profiles map[string]Profile, enabled []string) []byte {
	var b strings.Builder
	names, texts := modules(profiles, enabled, typ, "Primary")
	for i, n := range names {
		if texts[i] != "" {
			b.WriteString("Module: " + n + "\n" + texts[i] + "\n")
		}
	}
	if len(names) == 0 {
		b.WriteString("Module: null\n[default=1]\t\t\tpam_permit.so\n")
	}
	names, texts = modules(profiles, enabled, typ, "Additional")
	for i, n := range names {
		if texts[i] != "" {
			b.WriteString("Module: " + n + "\n" + texts[i] + "\n")
		}
	}
	return []byte(b.String())
}

// Seen is the /var/lib/pam/seen file: every profile, sorted.
func Seen(sorted []string) []byte {
	var b strings.Builder
	for _, n := range sorted {
		b.WriteString(n + "\n")
	}
	return []byte(b.String())
}

// SavedModules returns the modules named in a saved /var/lib/pam/TYPE file (not "null").
func SavedModules(saved []byte) []string {
	var out []string
	for _, l := range strings.Split(string(saved), "\n") {
		if n, ok := strings.CutPrefix(l, "Module: "); ok && n != "null" {
			out = append(out, n)
		}
	}
	return out
}
