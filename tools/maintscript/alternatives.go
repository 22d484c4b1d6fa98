package maintscript

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// update-alternatives, as dpkg's utils/update-alternatives.c does it: the link group's state
// is var/lib/dpkg/alternatives/NAME (read, changed, written back with slaves and choices
// sorted by name); in auto mode the highest priority wins (the current choice on a tie), and
// the links LINK -> /etc/alternatives/NAME -> PATH are made for the master and for every
// slave whose file exists.

const (
	altAdminDir = "/var/lib/dpkg/alternatives"
	altDir      = "/etc/alternatives"
)

type altSlave struct{ name, link string }

type altChoice struct {
	path     string
	priority int
	slaves   map[string]string // slave name -> path
}

type altGroup struct {
	name, link string
	manual     bool
	slaves     []altSlave
	choices    []altChoice
}

// loadAlt reads the link group's admin file (nil when there is none).
func (s *System) loadAlt(name string) *altGroup {
	b, err := s.fs.read("/", altAdminDir+"/"+name)
	if err != nil {
		return nil
	}
	ls := strings.Split(string(b), "\n")
	if len(ls) < 3 {
		return nil
	}
	g := &altGroup{name: name, manual: ls[0] == "manual", link: ls[1]}
	i := 2
	for ; i+1 < len(ls) && ls[i] != ""; i += 2 {
		g.slaves = append(g.slaves, altSlave{ls[i], ls[i+1]})
	}
	for i++; i+1 < len(ls) && ls[i] != ""; {
		c := altChoice{path: ls[i], slaves: map[string]string{}}
		c.priority, _ = strconv.Atoi(ls[i+1])
		i += 2
		for _, sl := range g.slaves {
			if i < len(ls) && ls[i] != "" {
				c.slaves[sl.name] = ls[i]
			}
			i++
		}
		g.choices = append(g.choices, c)
	}
	return g
}

// adminFile renders the admin file, dropping slaves no choice has.
func (g *altGroup) adminFile() []byte {
	var slaves []altSlave
	for _, sl := range g.slaves {
		for _, c := range g.choices {
			if c.slaves[sl.name] != "" {
				slaves = append(slaves, sl)
				break
			}
		}
	}
	sort.Slice(slaves, func(i, j int) bool { return slaves[i].name < slaves[j].name })
	g.slaves = slaves
	sort.Slice(g.choices, func(i, j int) bool { return g.choices[i].path < g.choices[j].path })
	var b strings.Builder
	b.WriteString(map[bool]string{false: "auto", true: "manual"}[g.manual] + "\n" + g.link + "\n")
	for _, sl := range g.slaves {
		b.WriteString(sl.name + "\n" + sl.link + "\n")
	}
	b.WriteString("\n")
	for _, c := range g.choices {
		fmt.Fprintf(&b, "%s\n%d\n", c.path, c.priority)
		for _, sl := range g.slaves {
			b.WriteString(c.slaves[sl.name] + "\n")
		}
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// current is the choice /etc/alternatives/NAME points to.
func (s *System) altCurrent(name string) string {
	_, n, err := s.fs.stat("/", altDir+"/"+name, false)
	if err != nil || n.Kind != KindSymlink {
		return ""
	}
	return n.Link
}

// lexists reports whether something is at p, a dangling symlink too (update-alternatives
// checks choices with lstat).
func (s *System) lexists(p string) bool {
	_, _, err := s.fs.stat("/", p, false)
	return err == nil
}

// best is the choice auto mode selects.
func (g *altGroup) best(current string) *altChoice {
	var best *altChoice
	for i := range g.choices {
		if g.choices[i].path == current {
			best = &g.choices[i]
		}
	}
	for i := range g.choices {
		if best == nil || g.choices[i].priority > best.priority {
			best = &g.choices[i]
		}
	}
	return best
}

// install makes the links of choice c.
func (s *System) altLink(g *altGroup, c *altChoice) error {
	if err := s.fs.mkdirAll("/", altDir, 0o755); err != nil {
		return err
	}
	link := func(name, link, path string) error {
		if _, err := s.fs.put("/", altDir+"/"+name, Node{Kind: KindSymlink, Mode: 0o777, Link: path}, nil, true); err != nil {
			return err
		}
		_, err := s.fs.put("/", link, Node{Kind: KindSymlink, Mode: 0o777, Link: altDir + "/" + name}, nil, true)
		return err
	}
	if err := link(g.name, g.link, c.path); err != nil {
		return err
	}
	for _, sl := range g.slaves {
		p := c.slaves[sl.name]
		if p != "" && s.lexists(p) {
			if err := link(sl.name, sl.link, p); err != nil {
				return err
			}
			continue
		}
		if p != "" {
			s.logf("update-alternatives: warning: skip creation of %s because associated file %s (of link group %s) does not exist\n", sl.link, p, g.name)
		}
		if _, n, err := s.fs.stat("/", sl.link, false); err == nil && n.Kind == KindSymlink {
			s.fs.remove("/", sl.link)
		}
		s.fs.remove("/", altDir+"/"+sl.name)
	}
	return nil
}

// save writes the admin file and makes the links of the selected choice ("" for none).
func (s *System) altSave(g *altGroup, selected string) error {
	data := g.adminFile()
	if err := s.fs.mkdirAll("/", altAdminDir, 0o755); err != nil {
		return err
	}
	if err := s.fs.write("/", altAdminDir+"/"+g.name, data, 0o644, false); err != nil {
		return err
	}
	for i := range g.choices {
		if g.choices[i].path == selected {
			return s.altLink(g, &g.choices[i])
		}
	}
	return nil
}
