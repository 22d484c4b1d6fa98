package layer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/deb822"
	"github.com/ci-images/ci-images/tools/maintscript"
)

// The dpkg database written into var/lib/dpkg:
//
//   - status: one paragraph per package, sorted by package name then architecture, "Status:
//     install ok installed", fields in the order dpkg itself writes them (lib/dpkg/parse.c
//     fieldinfos: Package, Essential, Protected, Status, Priority, Section, Installed-Size,
//     Origin, Maintainer, Bugs, Architecture, Multi-Arch, Source, Version, Replaces, Provides,
//     Depends, Pre-Depends, Recommends, Suggests, Breaks, Conflicts, Enhances, Conffiles,
//     Description), then the other fields of the control file in their original order
//     (Homepage, ...). Conffiles carries the md5 of each conffile as shipped. The control
//     paragraph is read (by tools/debfile) and the status written with tools/deb822, so a
//     continuation line is written with one leading space and without trailing blanks (dpkg
//     keeps it verbatim; the two differ for tab-indented continuation lines and for values
//     ending in blanks, such as two Description lines of bookworm's libgdbm packages). Every
//     paragraph, the last one too, ends with an empty line, as dpkg writes the file.
//   - info/<pkg>.list: the paths of the package's data.tar in archive order, as dpkg records
//     them: "/." for the root, no trailing "/", and the paths as shipped, NOT rewritten for
//     merged /usr (dpkg on a merged-/usr system also records /bin/bash, not /usr/bin/bash;
//     this is the dpkg "aliasing" behaviour of Debian bookworm).
//   - info/<pkg>.<member> for every other control.tar member (md5sums, conffiles, preinst,
//     postinst, prerm, postrm, triggers, shlibs, symbols, templates, config, ...), 0755 for
//     the scripts, 0644 else.
//   - For Multi-Arch: same packages the info files are named <pkg>:<arch>.<member>, as dpkg
//     does.
//   - info/<pkg>.list drops the paths another package took over through Replaces, as dpkg
//     does; paths moved by a diversion keep their shipped name (dpkg records the name, not
//     where the file went).
//   - diversions (see diversions.go), when there is any, and statoverride, the records of
//     dpkg-statoverride --add, when there is any;
//   - triggers/: File (the file-trigger interests, "PATH PACKAGE[/noawait]" in the order the
//     packages were configured), one file per named trigger listing the interested packages,
//     and an empty Unincorp, as dpkg leaves them after processing every trigger.
//   - Options.Installed packages are recorded like the new ones, so the database describes
//     the whole stack of layers.
//   - info/format ("1"), and alternatives/, parts/, triggers/, updates/ directories so that
//     dpkg opens the database read-only without complaint. Files the maintainer scripts
//     generated (passwd, alternatives, CA bundle) are not listed in any .list, as on a real
//     system.

// dpkgFieldOrder returns the known fields in the order dpkg writes them.
func dpkgFieldOrder() []string {
	return []string{
		"Package", "Essential", "Protected", "Status", "Priority", "Section",
		"Installed-Size", "Origin", "Maintainer", "Bugs", "Architecture",
		"Multi-Arch", "Source", "Version", "Config-Version", "Replaces",
		"Provides", "Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks",
		"Conflicts", "Enhances", "Conffiles", "Description", "Triggers-Pending",
		"Triggers-Awaited",
	}
}

func (p *pkgInfo) infoName() string {
	if p.deb.MultiArch == "same" {
		return p.deb.Package + ":" + p.deb.Architecture
	}
	return p.deb.Package
}

// statusParagraph returns the status entry of an installed package.
func (p *pkgInfo) statusParagraph() deb822.Paragraph {
	// Known fields are written in dpkg's order with dpkg's spelling, the others after them.
	order := dpkgFieldOrder()
	known := map[string]string{} // by dpkg's spelling
	var out deb822.Paragraph
	for _, f := range p.deb.Paragraph.Fields {
		if i := indexFold(order, f.Name); i >= 0 {
			known[order[i]] = f.Value
		} else {
			out.Fields = append(out.Fields, f)
		}
	}
	known["Status"] = "install ok installed"
	for _, n := range []string{"Config-Version", "Triggers-Pending", "Triggers-Awaited", "Conffiles"} {
		delete(known, n)
	}
	for _, n := range []string{"Essential", "Protected"} {
		if v, ok := known[n]; ok && v != "yes" {
			delete(known, n)
		}
	}
	if cf := p.conffilesValue(); cf != "" {
		known["Conffiles"] = cf
	}
	var fields []deb822.Field
	for _, n := range order {
		if v, ok := known[n]; ok {
			fields = append(fields, deb822.Field{Name: n, Value: v})
		}
	}
	out.Fields = append(fields, out.Fields...)
	return out
}

// indexFold returns the index of name in names (ASCII case-insensitive), or -1.
func indexFold(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// conffilesValue returns the status file's Conffiles value: one line per conffile, "path md5
// [flags]", after an empty first line; "" without conffiles.
func (p *pkgInfo) conffilesValue() string {
	if len(p.deb.Conffiles()) == 0 {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(string(p.deb.Members["conffiles"]), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		sum := p.confMD5[f[0]]
		if sum == "" {
			sum = "newconffile"
		}
		b.WriteString("\n" + f[0] + " " + sum)
		for _, flag := range f[1:] {
			b.WriteString(" " + flag)
		}
	}
	return b.String()
}

func isScript(member string) bool {
	switch member {
	case "preinst", "postinst", "prerm", "postrm", "config":
		return true
	}
	return false
}

func writeDpkgDB(t *tree, res scriptResult) error {
	order := make([]*pkgInfo, len(t.pkgs))
	copy(order, t.pkgs) // already sorted by name, arch, version
	sort.SliceStable(order, func(i, j int) bool { return order[i].deb.Package < order[j].deb.Package })

	const db = "var/lib/dpkg"
	t.putDirs("var", "var/lib", db, db+"/info", db+"/alternatives", db+"/parts", db+"/triggers", db+"/updates")
	status := make([]deb822.Paragraph, 0, len(order))
	for _, p := range order {
		status = append(status, p.statusParagraph())
		t.putInfo(db+"/info/"+p.infoName(), p)
	}
	b, err := deb822.Format(status...)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if len(b) > 0 {
		b = append(b, '\n')
	}
	t.putFile(db+"/status", 0o644, b)
	t.putFile(db+"/info/format", 0o644, []byte("1\n"))
	if len(res.diversions) > 0 {
		t.putFile(db+"/diversions", 0o644, diversionsFile(res.diversions))
	}
	if len(res.overrides) > 0 {
		var sb strings.Builder
		for _, o := range res.overrides {
			fmt.Fprintf(&sb, "%s %s %o %s\n", o.User, o.Group, o.Mode, o.Path)
		}
		t.putFile(db+"/statoverride", 0o644, []byte(sb.String()))
	}
	t.putTriggers(db+"/triggers", res.interests)
	return nil
}

// putTriggers writes the triggers database of the interests.
func (t *tree) putTriggers(dir string, interests []maintscript.Interest) {
	var file strings.Builder
	named := map[string]*strings.Builder{}
	for _, in := range interests {
		line := in.Package
		if in.NoAwait {
			line += "/noawait"
		}
		if strings.HasPrefix(in.Name, "/") {
			file.WriteString(in.Name + " " + line + "\n")
			continue
		}
		if named[in.Name] == nil {
			named[in.Name] = &strings.Builder{}
		}
		named[in.Name].WriteString(line + "\n")
	}
	if file.Len() > 0 {
		t.putFile(dir+"/File", 0o644, []byte(file.String()))
	}
	for name, b := range named {
		t.putFile(dir+"/"+name, 0o644, []byte(b.String()))
	}
	if len(interests) > 0 {
		t.putFile(dir+"/Unincorp", 0o644, nil)
	}
}

// dpkgList is what dpkg lists for p (info/<pkg>.list, dpkg -L): the paths as shipped, less
// those another package took over.
func (p *pkgInfo) dpkgList() []string {
	if len(p.replaced) == 0 {
		return p.list
	}
	list := make([]string, 0, len(p.list))
	for _, l := range p.list {
		if !p.replaced[l] {
			list = append(list, l)
		}
	}
	return list
}

// putInfo writes the info files of package p: base.list and base.<member>.
func (t *tree) putInfo(base string, p *pkgInfo) {
	t.putFile(base+".list", 0o644, []byte(strings.Join(p.dpkgList(), "\n")+"\n"))
	for _, m := range p.deb.MemberNames() {
		mode := int64(0o644)
		if isScript(m) {
			mode = 0o755
		}
		t.putFile(base+"."+m, mode, p.deb.Members[m])
	}
}
