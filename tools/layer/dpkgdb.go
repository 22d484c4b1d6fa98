package layer

import (
	"sort"
	"strings"
)

// The dpkg database written into var/lib/dpkg:
//
//   - status: one paragraph per package, sorted by package name then
//     architecture, "Status: install ok installed", fields in the order
//     dpkg itself writes them (lib/dpkg/parse.c fieldinfos: Package,
//     Essential, Protected, Status, Priority, Section, Installed-Size,
//     Origin, Maintainer, Bugs, Architecture, Multi-Arch, Source, Version,
//     Replaces, Provides, Depends, Pre-Depends, Recommends, Suggests,
//     Breaks, Conflicts, Enhances, Conffiles, Description), then the other
//     fields of the control file in their original order (Homepage, ...).
//     Conffiles carries the md5 of each conffile as shipped.
//   - info/<pkg>.list: the paths of the package's data.tar in archive
//     order, as dpkg records them: "/." for the root, no trailing "/", and
//     the paths as shipped, NOT rewritten for merged /usr (dpkg on a
//     merged-/usr system also records /bin/bash, not /usr/bin/bash; this is
//     the dpkg "aliasing" behaviour of Debian bookworm).
//   - info/<pkg>.<member> for every other control.tar member (md5sums,
//     conffiles, preinst, postinst, prerm, postrm, triggers, shlibs,
//     symbols, templates, config, ...), 0755 for the scripts, 0644 else.
//   - For Multi-Arch: same packages the info files are named
//     <pkg>:<arch>.<member>, as dpkg does.
//   - info/<pkg>.list drops the paths another package took over through
//     Replaces, as dpkg does; paths moved by a diversion keep their
//     shipped name (dpkg records the name, not where the file went).
//   - diversions (see diversions.go), when there is any.
//   - Options.Installed packages are recorded like the new ones, so the
//     database describes the whole stack of layers.
//   - info/format ("1"), and empty alternatives/, parts/, triggers/,
//     updates/ directories so that dpkg opens the database read-only
//     without complaint. Generated files (passwd, alternatives, CA bundle)
//     are not listed in any .list, as on a real system.

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

type field struct{ name, value string } // value includes continuation lines, no trailing newline

// parseParagraph splits a control paragraph into fields, keeping
// continuation lines verbatim.
func parseParagraph(s string) []field {
	var out []field
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			out[len(out)-1].value += "\n" + l
			continue
		}
		if l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		out = append(out, field{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out
}

func (p *pkgInfo) infoName() string {
	if p.deb.MultiArch == "same" {
		return p.deb.Package + ":" + p.deb.Architecture
	}
	return p.deb.Package
}

// statusParagraph renders the status entry of an installed package.
func (p *pkgInfo) statusParagraph() string {
	fields := parseParagraph(p.deb.Control)
	known := map[string]int{}
	for i, n := range dpkgFieldOrder() {
		known[strings.ToLower(n)] = i
	}
	vals := map[string]string{}
	var arbitrary []field
	for _, f := range fields {
		ln := strings.ToLower(f.name)
		if _, ok := known[ln]; ok {
			vals[ln] = f.value
		} else {
			arbitrary = append(arbitrary, f)
		}
	}
	vals["status"] = "install ok installed"
	delete(vals, "config-version")
	delete(vals, "triggers-pending")
	delete(vals, "triggers-awaited")
	if v, ok := vals["essential"]; ok && v != "yes" {
		delete(vals, "essential")
	}
	if v, ok := vals["protected"]; ok && v != "yes" {
		delete(vals, "protected")
	}
	delete(vals, "conffiles")
	if cf := p.deb.Conffiles(); len(cf) > 0 {
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
			b.WriteString("\n " + f[0] + " " + sum)
			for _, flag := range f[1:] {
				b.WriteString(" " + flag)
			}
		}
		vals["conffiles"] = b.String()
	}
	var b strings.Builder
	for _, n := range dpkgFieldOrder() {
		v, ok := vals[strings.ToLower(n)]
		if !ok {
			continue
		}
		writeField(&b, n, v)
	}
	for _, f := range arbitrary {
		writeField(&b, f.name, f.value)
	}
	return b.String()
}

func writeField(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	if value != "" && value[0] != '\n' {
		b.WriteString(" ")
	}
	b.WriteString(value)
	b.WriteString("\n")
}

func isScript(member string) bool {
	switch member {
	case "preinst", "postinst", "prerm", "postrm", "config":
		return true
	}
	return false
}

func writeDpkgDB(t *tree) error {
	order := make([]*pkgInfo, len(t.pkgs))
	copy(order, t.pkgs) // already sorted by name, arch, version
	sort.SliceStable(order, func(i, j int) bool { return order[i].deb.Package < order[j].deb.Package })

	const db = "var/lib/dpkg"
	for _, d := range []string{"var", "var/lib", db, db + "/info", db + "/alternatives", db + "/parts", db + "/triggers", db + "/updates"} {
		t.putDir(d, 0o755)
	}
	var status strings.Builder
	for i, p := range order {
		if i > 0 {
			status.WriteString("\n")
		}
		status.WriteString(p.statusParagraph())
		base := db + "/info/" + p.infoName()
		list := p.list
		if len(p.replaced) > 0 {
			list = make([]string, 0, len(p.list))
			for _, l := range p.list {
				if !p.replaced[l] {
					list = append(list, l)
				}
			}
		}
		t.putFile(base+".list", 0o644, []byte(strings.Join(list, "\n")+"\n"))
		for _, m := range p.deb.MemberNames() {
			mode := int64(0o644)
			if isScript(m) {
				mode = 0o755
			}
			t.putFile(base+"."+m, mode, p.deb.Members[m])
		}
	}
	t.putFile(db+"/status", 0o644, []byte(status.String()))
	t.putFile(db+"/info/format", 0o644, []byte("1\n"))
	if len(t.divs) > 0 {
		t.putFile(db+"/diversions", 0o644, diversionsFile(t.divs))
	}
	return nil
}
