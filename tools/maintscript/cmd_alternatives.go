package maintscript

import (
	"fmt"
	"strconv"
	"strings"
)

// runUpdateAlternatives is update-alternatives --install (with --slave), --remove, --auto,
// --display and --query.
func runUpdateAlternatives(c *cmdCtx) int {
	if !c.sys().opts.Alternatives {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "update-alternatives (disabled by the layer configuration)")
		return 0
	}
	args := c.args
	for len(args) > 0 {
		switch a := args[0]; a {
		case "--quiet", "--verbose", "--force", "--debug", "--skip-auto":
			args = args[1:]
		case "--altdir", "--admindir", "--log", "--root", "--instdir":
			args = args[min(2, len(args)):]
		case "--install":
			return c.altInstall(args[1:])
		case "--remove", "--set":
			if len(args) < 3 {
				return c.altUsage(a)
			}
			return c.altRemove(args[1], args[2], a == "--set")
		case "--auto", "--display", "--query":
			if len(args) < 2 {
				return c.altUsage(a)
			}
			return c.altShow(a, args[1])
		default:
			c.sys().unknown(c.run.pkg.Name, c.run.script, "update-alternatives "+a)
			return 0
		}
	}
	return c.altUsage("")
}

func (c *cmdCtx) altUsage(action string) int {
	fmt.Fprintf(c.stderr, "update-alternatives: error: bad usage of %s\n", action)
	return 2
}

// altInstall is --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...
func (c *cmdCtx) altInstall(args []string) int {
	if len(args) < 4 {
		return c.altUsage("--install")
	}
	link, name, path := args[0], args[1], args[2]
	prio, err := strconv.Atoi(args[3])
	if err != nil {
		fmt.Fprintf(c.stderr, "update-alternatives: error: priority must be an integer\n")
		return 2
	}
	choice := altChoice{path: path, priority: prio, slaves: map[string]string{}}
	var slaves []altSlave
	rest := args[4:]
	for len(rest) > 0 {
		if rest[0] != "--slave" || len(rest) < 4 {
			return c.altUsage("--slave")
		}
		slaves = append(slaves, altSlave{name: rest[2], link: rest[1]})
		choice.slaves[rest[2]] = rest[3]
		rest = rest[4:]
	}
	if !c.sys().lexists(path) {
		fmt.Fprintf(c.stderr, "update-alternatives: error: alternative path %s doesn't exist\n", path)
		return 2
	}
	s := c.sys()
	g := s.loadAlt(name)
	if g == nil {
		g = &altGroup{name: name}
	}
	g.link = link
	for _, sl := range slaves {
		g.addSlave(sl)
	}
	g.addChoice(choice)
	selected := s.altCurrent(name)
	if !g.manual {
		selected = g.best(selected).path
	}
	if err := s.altSave(g, selected); err != nil {
		fmt.Fprintf(c.stderr, "update-alternatives: error: %v\n", err)
		return 2
	}
	return 0
}

func (g *altGroup) addSlave(sl altSlave) {
	for i := range g.slaves {
		if g.slaves[i].name == sl.name {
			g.slaves[i].link = sl.link
			return
		}
	}
	g.slaves = append(g.slaves, sl)
}

func (g *altGroup) addChoice(c altChoice) {
	for i := range g.choices {
		if g.choices[i].path == c.path {
			g.choices[i] = c
			return
		}
	}
	g.choices = append(g.choices, c)
}

// altRemove is --remove NAME PATH (and --set NAME PATH, which selects PATH in manual mode).
func (c *cmdCtx) altRemove(name, path string, set bool) int {
	s := c.sys()
	g := s.loadAlt(name)
	if g == nil {
		return 0
	}
	if set {
		g.manual = true
		return c.altDone(s.altSave(g, path))
	}
	for i := range g.choices {
		if g.choices[i].path == path {
			g.choices = append(g.choices[:i], g.choices[i+1:]...)
			break
		}
	}
	if len(g.choices) > 0 {
		return c.altDone(s.altSave(g, g.best(s.altCurrent(name)).path))
	}
	s.fs.remove("/", g.link)
	s.fs.remove("/", altDir+"/"+name)
	for _, sl := range g.slaves {
		s.fs.remove("/", sl.link)
		s.fs.remove("/", altDir+"/"+sl.name)
	}
	s.fs.remove("/", altAdminDir+"/"+name)
	return 0
}

func (c *cmdCtx) altDone(err error) int {
	if err != nil {
		fmt.Fprintf(c.stderr, "update-alternatives: error: %v\n", err)
		return 2
	}
	return 0
}

// altShow is --auto, --display and --query.
func (c *cmdCtx) altShow(action, name string) int {
	s := c.sys()
	g := s.loadAlt(name)
	if g == nil {
		fmt.Fprintf(c.stderr, "update-alternatives: error: no alternatives for %s\n", name)
		return 2
	}
	cur := s.altCurrent(name)
	if action == "--auto" {
		g.manual = false
		return c.altDone(s.altSave(g, g.best(cur).path))
	}
	mode := map[bool]string{false: "auto", true: "manual"}[g.manual]
	var b strings.Builder
	fmt.Fprintf(&b, "%s - %s mode\n  link best version is %s\n  link currently points to %s\n  link %s is %s\n", name, mode, g.best(cur).path, cur, name, g.link)
	for _, sl := range g.slaves {
		fmt.Fprintf(&b, "  slave %s is %s\n", sl.name, sl.link)
	}
	for _, ch := range g.choices {
		fmt.Fprintf(&b, "%s - priority %d\n", ch.path, ch.priority)
		for _, sl := range g.slaves {
			if p := ch.slaves[sl.name]; p != "" {
				fmt.Fprintf(&b, "  slave %s: %s\n", sl.name, p)
			}
		}
	}
	fmt.Fprint(c.stdout, b.String())
	return 0
}
