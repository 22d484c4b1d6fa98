package maintscript

import (
	"fmt"
	"path"
	"strings"

	"github.com/ci-images/ci-images/tools/debversion"
)

// dpkgCommands are dpkg's tools, answered from the packages of the installation.
func dpkgCommands() map[string]command {
	return map[string]command{
		"dpkg": {run: runDpkg}, "dpkg-query": {run: runDpkgQuery},
		"dpkg-divert": {run: runDpkgDivert}, "dpkg-statoverride": {run: runStatOverride},
		"dpkg-trigger": {run: runDpkgTrigger}, "dpkg-maintscript-helper": {run: runMaintscriptHelper},
	}
}

// dpkgVersion is the version of the dpkg package being installed (what DPKG_RUNNING_VERSION
// says).
func (s *System) dpkgVersion() string {
	if p := s.pkgs["dpkg"]; p != nil {
		return p.Version
	}
	return "1.21.23"
}

// compareVersions is dpkg --compare-versions: the empty version is earlier than any other,
// except for the -nl operators, for which it is later.
func compareVersions(a, op, b string) (bool, bool) {
	nl := strings.HasSuffix(op, "-nl")
	op = strings.TrimSuffix(op, "-nl")
	var cmp int
	switch {
	case a == "" && b == "":
		cmp = 0
	case a == "":
		cmp = -1
		if nl {
			cmp = 1
		}
	case b == "":
		cmp = 1
		if nl {
			cmp = -1
		}
	default:
		cmp = debversion.Compare(a, b)
	}
	switch op {
	case "lt", "<<", "<":
		return cmp < 0, true
	case "le", "<=":
		return cmp <= 0, true
	case "eq", "=":
		return cmp == 0, true
	case "ne":
		return cmp != 0, true
	case "ge", ">=":
		return cmp >= 0, true
	case "gt", ">>", ">":
		return cmp > 0, true
	}
	return false, false
}

func runDpkg(c *cmdCtx) int {
	args := c.args
	for len(args) > 0 && (strings.HasPrefix(args[0], "--admindir") || strings.HasPrefix(args[0], "--root") || args[0] == "--") {
		args = args[1:]
	}
	if len(args) == 0 {
		return c.fail("need an action option")
	}
	switch a := args[0]; {
	case a == "--compare-versions" && len(args) == 4:
		ok, known := compareVersions(args[1], args[2], args[3])
		if !known {
			return c.fail("unknown operator %q", args[2])
		}
		if ok {
			return 0
		}
		return 1
	case a == "--print-architecture":
		fmt.Fprintln(c.stdout, c.sys().architecture())
		return 0
	case a == "-L" || a == "--listfiles" || a == "-s" || a == "--status" || a == "-S" || a == "--search":
		return runQuery(c, args)
	case strings.HasPrefix(a, "--assert-"):
		return 0
	}
	c.sys().unknown(c.run.pkg.Name, c.run.script, "dpkg "+args[0])
	return 0
}

func runDpkgQuery(c *cmdCtx) int { return runQuery(c, c.args) }

// runQuery answers dpkg-query's -W (with -f), -L, -s and -S.
func runQuery(c *cmdCtx, args []string) int {
	o := parseOpts(args, "f", "showformat")
	format, ok := o.get("f", "showformat")
	format = strings.TrimPrefix(format, "=") // -f='...' as scripts write it
	if !ok {
		format = "${binary:Package}\t${Version}\n"
	}
	status := 0
	for _, name := range o.args {
		if o.has("S", "search") {
			if !c.searchOwner(name) {
				status = 1
			}
			continue
		}
		p := c.sys().present(strings.TrimSuffix(name, ":"+c.sys().architecture()))
		if p == nil {
			fmt.Fprintf(c.stderr, "dpkg-query: package '%s' is not installed and no information is available\n", name)
			status = 1
			continue
		}
		switch {
		case o.has("L", "listfiles"):
			writeLines(c, p.Files)
		case o.has("s", "status"):
			fmt.Fprintf(c.stdout, "Package: %s\nStatus: %s\nVersion: %s\n\n", p.Name, c.sys().status(p), p.Version)
		case o.has("W", "show"):
			fmt.Fprint(c.stdout, c.sys().queryFormat(format, p))
		default:
			c.sys().unknown(c.run.pkg.Name, c.run.script, "dpkg-query "+strings.Join(args, " "))
		}
	}
	return status
}

// searchOwner prints "pkg: path" for the packages listing path (dpkg-query -S).
func (c *cmdCtx) searchOwner(p string) bool {
	found := false
	for _, pkg := range c.sys().presentPackages() {
		for _, f := range pkg.Files {
			if f == p {
				fmt.Fprintf(c.stdout, "%s: %s\n", pkg.Name, p)
				found = true
				break
			}
		}
	}
	return found
}

// queryFormat expands the ${field} references of a dpkg-query format (with \n and \t).
func (s *System) queryFormat(format string, p *Package) string {
	format = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(format)
	var b strings.Builder
	for {
		i := strings.Index(format, "${")
		if i < 0 {
			b.WriteString(format)
			return b.String()
		}
		j := strings.IndexByte(format[i:], '}')
		if j < 0 {
			b.WriteString(format)
			return b.String()
		}
		b.WriteString(format[:i])
		field := format[i+2 : i+j]
		if k := strings.IndexByte(field, ';'); k >= 0 {
			field = field[:k] // ${Package;-20}: widths are not emulated
		}
		b.WriteString(s.queryField(field, p))
		format = format[i+j+1:]
	}
}

func (s *System) queryField(field string, p *Package) string {
	st := s.status(p)
	switch field {
	case "Package":
		return p.Name
	case "binary:Package":
		if p.MultiArch == "same" {
			return p.Name + ":" + p.Architecture
		}
		return p.Name
	case "Version":
		return p.Version
	case "Architecture":
		return p.Architecture
	case "Status":
		return st
	case "db:Status-Want":
		return "install"
	case "db:Status-Status":
		return strings.Fields(st)[2]
	case "db:Status-Abbrev":
		return "i" + map[string]string{"installed": "i", "unpacked": "U"}[strings.Fields(st)[2]] + " "
	}
	return p.field(field)
}

// architecture is the architecture of the packages (dpkg --print-architecture).
func (s *System) architecture() string {
	if p := s.pkgs["dpkg"]; p != nil {
		return p.Architecture
	}
	for _, p := range s.pkgs {
		if p.Architecture != "all" {
			return p.Architecture
		}
	}
	return "amd64"
}

// runMaintscriptHelper is dpkg-maintscript-helper: its commands (rm_conffile, mv_conffile,
// symlink_to_dir, dir_to_symlink) act only on upgrades and removals, which an image never
// has; any other use is reported.
func runMaintscriptHelper(c *cmdCtx) int {
	for i, a := range c.args {
		if a != "--" {
			continue
		}
		script := c.args[i+1:]
		if len(script) >= 1 && (script[0] == "install" || script[0] == "configure") && (len(script) == 1 || script[1] == "") {
			return 0
		}
		break
	}
	if len(c.args) > 0 && c.args[0] == "supports" {
		return 0
	}
	c.sys().unknown(c.run.pkg.Name, c.run.script, "dpkg-maintscript-helper "+strings.Join(c.args, " "))
	return 0
}

func runDpkgTrigger(c *cmdCtx) int {
	o := parseOpts(c.args, "", "by-package", "admindir")
	if o.has("check-supported") {
		return 0
	}
	for _, name := range o.args {
		c.sys().triggers.activate(name)
	}
	return 0
}

// runStatOverride is dpkg-statoverride --list, --add (--update applies it at once) and
// --remove.
func runStatOverride(c *cmdCtx) int {
	o := parseOpts(c.args, "", "admindir", "root")
	s := c.sys()
	switch {
	case o.has("list"):
		found := false
		for _, ov := range s.overrides {
			if len(o.args) == 0 || globMatch(o.args[0], ov.Path) {
				fmt.Fprintf(c.stdout, "%s %s %o %s\n", ov.User, ov.Group, ov.Mode, ov.Path)
				found = true
			}
		}
		if !found {
			return 1
		}
	case o.has("add"):
		return c.addStatOverride(o)
	case o.has("remove"):
		for i, ov := range s.overrides {
			if len(o.args) == 1 && ov.Path == o.args[0] {
				s.overrides = append(s.overrides[:i], s.overrides[i+1:]...)
				return 0
			}
		}
	default:
		s.unknown(c.run.pkg.Name, c.run.script, "dpkg-statoverride "+strings.Join(c.args, " "))
	}
	return 0
}

func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

func (c *cmdCtx) addStatOverride(o opts) int {
	if len(o.args) != 4 {
		return c.fail("--add needs four arguments")
	}
	s := c.sys()
	mode, err := parseMode(o.args[2], 0, false)
	if err != nil {
		return c.fail("illegal mode '%s'", o.args[2])
	}
	ov := StatOverride{User: o.args[0], Group: o.args[1], Mode: mode, Path: o.args[3]}
	for _, x := range s.overrides {
		if x.Path == ov.Path {
			if !o.has("force", "force-statoverride-add") {
				return c.fail("an override for '%s' already exists; aborting", ov.Path)
			}
		}
	}
	s.overrides = append(s.overrides, ov)
	if !o.has("update") {
		return 0
	}
	uid, okU := s.userID(strings.TrimPrefix(ov.User, "#"))
	gid, okG := s.groupID(strings.TrimPrefix(ov.Group, "#"))
	if !okU || !okG {
		return c.fail("user or group of the override unknown")
	}
	if err := c.fs().setMeta(c.dir, ov.Path, true, ov.Mode, uid, gid); err != nil {
		fmt.Fprintf(c.stderr, "dpkg-statoverride: warning: --update given but %s does not exist\n", ov.Path)
	}
	return 0
}
