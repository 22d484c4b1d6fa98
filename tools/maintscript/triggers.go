package maintscript

import (
	"strings"
)

// Triggers, as dpkg processes them: a package's control "triggers" file declares interests
// ("interest[-await|-noawait] NAME": NAME is a trigger name, or an absolute path for a file
// trigger) and activations ("activate[-await|-noawait] NAME"). Unpacking a package activates
// the file triggers whose path is one of its files or a parent of one, and its declared
// activations; dpkg-trigger activates a name. After the packages of an Install are
// configured, each interested package's postinst runs with "triggered" and the names, in
// configuration order, until nothing is pending.

// Interest is one trigger interest, in the order dpkg records them.
type Interest struct {
	Name    string // trigger name, or an absolute path
	Package string
	NoAwait bool
}

type triggerState struct {
	interests []Interest
	pending   map[string][]string // package -> activated names, in activation order
}

// controlLines returns the (directive, argument) pairs of a triggers control file.
func controlLines(b []byte) [][2]string {
	var out [][2]string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			out = append(out, [2]string{f[0], f[1]})
		}
	}
	return out
}

// addInterests records the interests of p.
func (t *triggerState) addInterests(p *Package) {
	for _, d := range controlLines(p.Members["triggers"]) {
		switch d[0] {
		case "interest", "interest-await", "interest-noawait":
			t.interests = append(t.interests, Interest{Name: d[1], Package: p.Name, NoAwait: d[0] == "interest-noawait"})
		}
	}
}

// activate marks trigger name pending for every package interested in it.
func (t *triggerState) activate(name string) {
	for _, in := range t.interests {
		if in.Name == name {
			t.mark(in.Package, name)
		}
	}
}

func (t *triggerState) mark(pkg, name string) {
	if t.pending == nil {
		t.pending = map[string][]string{}
	}
	for _, n := range t.pending[pkg] {
		if n == name {
			return
		}
	}
	t.pending[pkg] = append(t.pending[pkg], name)
}

// activateByPackage activates the file triggers p's files fall under and p's declared
// activations.
func (t *triggerState) activateByPackage(p *Package) {
	for _, in := range t.interests {
		if !strings.HasPrefix(in.Name, "/") {
			continue
		}
		for _, f := range p.Files {
			if f == in.Name || strings.HasPrefix(f, in.Name+"/") {
				t.mark(in.Package, in.Name)
				break
			}
		}
	}
	for _, d := range controlLines(p.Members["triggers"]) {
		switch d[0] {
		case "activate", "activate-await", "activate-noawait":
			t.activate(d[1])
		}
	}
}

// maxTriggerRounds bounds triggers activating triggers.
const maxTriggerRounds = 10

// runTriggers runs the postinst of every package with pending triggers.
func (s *System) runTriggers() {
	for round := 0; round < maxTriggerRounds && len(s.triggers.pending) > 0; round++ {
		pending := s.triggers.pending
		s.triggers.pending = nil
		for _, p := range s.configured {
			if names := pending[p.Name]; len(names) > 0 {
				s.runScript(p, "postinst", "triggered", strings.Join(names, " "))
			}
		}
	}
	if len(s.triggers.pending) > 0 {
		s.warnf("triggers still pending after %d rounds", maxTriggerRounds)
	}
}

// Interests returns the trigger interests of the installed packages, in the order they were
// recorded.
func (s *System) Interests() []Interest { return append([]Interest(nil), s.triggers.interests...) }
