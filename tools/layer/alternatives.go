package layer

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
)

// Alternatives (Effects.Alternatives) reproduce update-alternatives: every
// "update-alternatives --install" (with --slave) in the postinst scripts of the packages
// (new and Installed) is collected (maintscript.Alternatives), and the highest-priority choice
// of each name whose path is in the tree is linked: <link> -> /etc/alternatives/<name> ->
// <path>, the same for each slave the choice provides, plus var/lib/dpkg/alternatives/<name>
// in update-alternatives' format (choices in path order).

// alternative is one link group: every choice registered for a name.
type alternative struct {
	name   string
	link   string              // from the first --install of the name
	slaves []maintscript.Slave // names and links of the slaves, in first-seen order (no paths)
	choice []altChoice
}

type altChoice struct {
	path     string
	priority int
	slaves   map[string]string // slave name -> path
	pkg      string
}

// collectAlternatives reads the postinst scripts of the (sorted) packages.
func collectAlternatives(pkgs []*pkgInfo) (map[string]*alternative, []string) {
	alts := map[string]*alternative{}
	var warnings []string
	for _, p := range pkgs {
		s, ok := p.deb.Members["postinst"]
		if !ok {
			continue
		}
		installs, w := maintscript.Alternatives(string(s), p.deb.Package)
		warnings = append(warnings, w...)
		for _, in := range installs {
			alt := alts[in.Name]
			if alt == nil {
				alt = &alternative{name: in.Name, link: in.Link}
				alts[in.Name] = alt
			}
			alt.add(in, p.deb.Package)
		}
	}
	return alts, warnings
}

// add records the choice an --install call registers.
func (alt *alternative) add(in maintscript.Install, pkg string) {
	c := altChoice{path: in.Path, priority: in.Priority, slaves: map[string]string{}, pkg: pkg}
	for _, s := range in.Slaves {
		c.slaves[s.Name] = s.Path
		if !slices.ContainsFunc(alt.slaves, func(o maintscript.Slave) bool { return o.Name == s.Name }) {
			alt.slaves = append(alt.slaves, maintscript.Slave{Name: s.Name, Link: s.Link})
		}
	}
	alt.choice = append(alt.choice, c)
}

func applyAlternatives(t *tree) []string {
	alts, warnings := collectAlternatives(t.pkgs)
	names := make([]string, 0, len(alts))
	for n := range alts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		alt := alts[n]
		var valid []altChoice
		for _, c := range alt.choice {
			if t.exists(c.path) {
				valid = append(valid, c)
			} else {
				warnings = append(warnings, fmt.Sprintf("%s: alternative %s: %s not in the layer; skipped", c.pkg, n, c.path))
			}
		}
		if len(valid) > 0 {
			t.linkAlternative(alt, valid)
		}
	}
	return warnings
}

// linkAlternative links the best of the valid choices and writes the alternative's file.
func (t *tree) linkAlternative(alt *alternative, valid []altChoice) {
	sort.SliceStable(valid, func(i, j int) bool {
		if valid[i].priority != valid[j].priority {
			return valid[i].priority > valid[j].priority
		}
		return valid[i].path < valid[j].path
	})
	best := valid[0]
	t.putDirs("etc", "etc/alternatives")
	t.putSymlink("etc/alternatives/"+alt.name, best.path)
	t.putSymlink(t.resolve(alt.link), "/etc/alternatives/"+alt.name)
	for _, s := range alt.slaves {
		sp, ok := best.slaves[s.Name]
		if !ok || !t.exists(sp) {
			continue
		}
		t.putSymlink("etc/alternatives/"+s.Name, sp)
		t.putSymlink(t.resolve(s.Link), "/etc/alternatives/"+s.Name)
	}
	sort.SliceStable(valid, func(i, j int) bool { return valid[i].path < valid[j].path })
	t.putDirs("var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/alternatives")
	t.putFile("var/lib/dpkg/alternatives/"+alt.name, 0o644, alt.adminFile(valid))
}

// adminFile renders var/lib/dpkg/alternatives/<name>: mode, link, slaves, a blank line, then
// each choice's path, priority and slave paths, and a final blank line.
func (alt *alternative) adminFile(choices []altChoice) []byte {
	var b strings.Builder
	b.WriteString("auto\n" + alt.link + "\n")
	for _, s := range alt.slaves {
		b.WriteString(s.Name + "\n" + s.Link + "\n")
	}
	b.WriteString("\n")
	for _, c := range choices {
		fmt.Fprintf(&b, "%s\n%d\n", c.path, c.priority)
		for _, s := range alt.slaves {
			b.WriteString(c.slaves[s.Name] + "\n")
		}
	}
	b.WriteString("\n")
	return []byte(b.String())
}
