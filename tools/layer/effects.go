package layer

import (
	"archive/tar"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Effects are the results of maintainer scripts, reproduced declaratively
// (no script is run).
type Effects struct {
	// Users and Groups are added to etc/passwd, etc/group, etc/shadow and
	// etc/gshadow. The files start from base-passwd's master files
	// (usr/share/base-passwd/{passwd,group}.master) when that package is in
	// the set, else from a root-only database; they are written whenever
	// base-passwd is present or Users/Groups are given.
	Users  []User
	Groups []Group
	// Alternatives reproduces update-alternatives: every
	// "update-alternatives --install" in the postinst scripts (with
	// --slave) is collected, and the highest-priority choice of each name
	// is linked: <link> -> /etc/alternatives/<name> -> <path>, plus
	// var/lib/dpkg/alternatives/<name>.
	Alternatives bool
	// Dirs are directories created (or whose mode/owner is set) after the
	// packages are unpacked, e.g. var/run/postgresql 2777 postgres.
	Dirs []Dir
	// CACertificates generates etc/ssl/certs/ca-certificates.crt (and the
	// per-certificate .pem symlinks) like update-ca-certificates, from
	// etc/ca-certificates.conf if present in the set, else from every
	// usr/share/ca-certificates/**/*.crt (and writes that conf file, as
	// the ca-certificates postinst does).
	CACertificates bool
	// Files are extra entries given by the caller (generated locales,
	// configuration, ...). They replace package files at the same path and
	// are applied last.
	//
	// Locales: C.UTF-8 is built into bookworm's libc-bin (usr/lib/locale/
	// C.utf8), nothing to generate. Other locales (en_US.UTF-8, ...) are
	// not compiled here (that is localedef, run by the locales postinst);
	// the declarative way is the locales-all package, which ships them all
	// precompiled as usr/lib/locale/<name>/ directories (en_US.utf8, ...;
	// about 10 MB compressed, 220 MB installed). The configuration files
	// the locales package's scripts would write are given as Files, e.g.
	// {Path: "/etc/default/locale", Body: []byte("LANG=en_US.UTF-8\n")} and
	// {Path: "/etc/locale.gen", Body: []byte("en_US.UTF-8 UTF-8\n")}.
	Files []File
	// Diversions are dpkg-divert diversions declared by the caller, for
	// calls the scripts make in a way that cannot be read statically
	// (dash's postinst diverts /bin/sh to /bin/sh.distrib and
	// /usr/share/man/man1/sh.1.gz to sh.distrib.1.gz through shell
	// functions). They are applied like the diversions read from the
	// scripts (diversions.go): to the paths of this layer's packages, and
	// recorded in var/lib/dpkg/diversions. Diversions read from the
	// scripts are always applied, whatever Effects says.
	Diversions []Diversion
}

// effectInput reports whether the effects may read the body of the file
// at output path p; bodies of files that are not written into the layer
// (Options.Installed, Options.NoPackageData) are kept only for these.
func effectInput(p string) bool {
	return strings.HasPrefix(p, "usr/share/base-passwd/") || strings.HasPrefix(p, "usr/share/ca-certificates/") || p == "etc/ca-certificates.conf"
}

// User is a passwd entry. Home and Shell default to /nonexistent and
// /usr/sbin/nologin. GID defaults to the group named Group, or to a group
// with the user's name created with GID = UID when Group is empty.
type User struct {
	Name       string
	UID, GID   int
	Group      string   // primary group name (created if missing)
	Groups     []string // supplementary groups (must exist)
	Gecos      string
	Home       string
	Shell      string
	CreateHome bool // create Home owned by the user, mode 0755
}

// Group is a group entry.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// Dir is a directory with an explicit mode and owner. Owner and Group are
// names resolved against the generated passwd/group (or "" for root).
type Dir struct {
	Path         string
	Mode         int64
	Owner, Group string
}

// File is an extra file, symlink (Link non-empty) or directory (Dir).
type File struct {
	Path     string
	Mode     int64
	UID, GID int
	Body     []byte
	Link     string
	Dir      bool
}

func applyEffects(t *tree, fx Effects) ([]string, error) {
	var warnings []string
	ids, err := applyUsers(t, fx)
	if err != nil {
		return nil, err
	}
	if fx.Alternatives {
		w, err := applyAlternatives(t)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	if fx.CACertificates {
		if err := applyCACerts(t); err != nil {
			return nil, err
		}
	}
	for _, d := range fx.Dirs {
		p := t.resolve(d.Path)
		uid, gid := 0, 0
		if d.Owner != "" {
			u, ok := ids.users[d.Owner]
			if !ok {
				return nil, fmt.Errorf("dir %s: unknown user %q", d.Path, d.Owner)
			}
			uid, gid = u[0], u[1]
		}
		if d.Group != "" {
			g, ok := ids.groups[d.Group]
			if !ok {
				return nil, fmt.Errorf("dir %s: unknown group %q", d.Path, d.Group)
			}
			gid = g
		}
		t.put(&entry{path: p, typ: tar.TypeDir, mode: d.Mode, uid: uid, gid: gid, uname: ids.userName(uid), gname: ids.groupName(gid)})
	}
	for _, f := range fx.Files {
		p := t.resolve(f.Path)
		e := &entry{path: p, mode: f.Mode, uid: f.UID, gid: f.GID, uname: ids.userName(f.UID), gname: ids.groupName(f.GID)}
		switch {
		case f.Dir:
			e.typ = tar.TypeDir
		case f.Link != "":
			e.typ, e.link = tar.TypeSymlink, f.Link
			if e.mode == 0 {
				e.mode = 0o777
			}
		default:
			e.typ, e.data = tar.TypeReg, f.Body
		}
		if e.mode == 0 {
			e.mode = 0o644
			if f.Dir {
				e.mode = 0o755
			}
		}
		t.put(e)
	}
	return warnings, nil
}

// ---- users and groups ----

type idMaps struct {
	users    map[string][2]int // name -> uid, gid
	groups   map[string]int
	uidNames map[int]string
	gidNames map[int]string
}

func (m idMaps) userName(uid int) string {
	if n, ok := m.uidNames[uid]; ok {
		return n
	}
	if uid == 0 {
		return "root"
	}
	return ""
}

func (m idMaps) groupName(gid int) string {
	if n, ok := m.gidNames[gid]; ok {
		return n
	}
	if gid == 0 {
		return "root"
	}
	return ""
}

func splitLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func applyUsers(t *tree, fx Effects) (idMaps, error) {
	ids := idMaps{users: map[string][2]int{}, groups: map[string]int{}, uidNames: map[int]string{}, gidNames: map[int]string{}}
	pw, havePw, err := t.file("/usr/share/base-passwd/passwd.master")
	if err != nil {
		return ids, err
	}
	gr, haveGr, err := t.file("/usr/share/base-passwd/group.master")
	if err != nil {
		return ids, err
	}
	if !havePw {
		pw = []byte("root:*:0:0:root:/root:/bin/bash\n")
	}
	if !haveGr {
		gr = []byte("root:*:0:\n")
	}
	// passwd entries: name, pw, uid, gid, gecos, home, shell
	var passwd [][]string
	var group [][]string
	for _, l := range splitLines(pw) {
		f := strings.Split(l, ":")
		if len(f) != 7 {
			return ids, fmt.Errorf("passwd.master: bad line %q", l)
		}
		passwd = append(passwd, f)
	}
	for _, l := range splitLines(gr) {
		f := strings.Split(l, ":")
		if len(f) != 4 {
			return ids, fmt.Errorf("group.master: bad line %q", l)
		}
		group = append(group, f)
	}
	findGroup := func(name string) int {
		for i, g := range group {
			if g[0] == name {
				return i
			}
		}
		return -1
	}
	for _, g := range fx.Groups {
		if findGroup(g.Name) >= 0 {
			return ids, fmt.Errorf("group %s already exists", g.Name)
		}
		group = append(group, []string{g.Name, "x", strconv.Itoa(g.GID), strings.Join(g.Members, ",")})
	}
	for _, u := range fx.Users {
		for _, p := range passwd {
			if p[0] == u.Name {
				return ids, fmt.Errorf("user %s already exists", u.Name)
			}
		}
		gname := u.Group
		if gname == "" {
			gname = u.Name
		}
		gid := u.GID
		if i := findGroup(gname); i >= 0 {
			gid, _ = strconv.Atoi(group[i][2])
		} else {
			if u.Group == "" && u.GID == 0 {
				gid = u.UID
			}
			group = append(group, []string{gname, "x", strconv.Itoa(gid), ""})
		}
		for _, sg := range u.Groups {
			i := findGroup(sg)
			if i < 0 {
				return ids, fmt.Errorf("user %s: supplementary group %s does not exist", u.Name, sg)
			}
			if group[i][3] == "" {
				group[i][3] = u.Name
			} else {
				group[i][3] += "," + u.Name
			}
		}
		home, shell := u.Home, u.Shell
		if home == "" {
			home = "/nonexistent"
		}
		if shell == "" {
			shell = "/usr/sbin/nologin"
		}
		passwd = append(passwd, []string{u.Name, "x", strconv.Itoa(u.UID), strconv.Itoa(gid), u.Gecos, home, shell})
	}
	for _, g := range group {
		gid, err := strconv.Atoi(g[2])
		if err != nil {
			return ids, fmt.Errorf("group %s: bad gid %q", g[0], g[2])
		}
		ids.groups[g[0]] = gid
		if _, ok := ids.gidNames[gid]; !ok {
			ids.gidNames[gid] = g[0]
		}
	}
	for _, p := range passwd {
		uid, err1 := strconv.Atoi(p[2])
		gid, err2 := strconv.Atoi(p[3])
		if err1 != nil || err2 != nil {
			return ids, fmt.Errorf("user %s: bad uid/gid", p[0])
		}
		ids.users[p[0]] = [2]int{uid, gid}
		if _, ok := ids.uidNames[uid]; !ok {
			ids.uidNames[uid] = p[0]
		}
	}
	if !havePw && !haveGr && len(fx.Users) == 0 && len(fx.Groups) == 0 {
		return ids, nil
	}
	// Shadow conversion as done by shadowconfig/pwconv: the password moves
	// to shadow ("*" locked) and passwd gets "x". lastchg is the epoch day.
	day := strconv.FormatInt(t.epoch.Unix()/86400, 10)
	var bp, bs, bg, bgs strings.Builder
	for _, p := range passwd {
		pwd := p[1]
		if pwd == "x" || pwd == "" {
			pwd = "*"
		}
		fmt.Fprintf(&bp, "%s:x:%s\n", p[0], strings.Join(p[2:], ":"))
		fmt.Fprintf(&bs, "%s:%s:%s:0:99999:7:::\n", p[0], pwd, day)
	}
	for _, g := range group {
		pwd := g[1]
		if pwd == "x" || pwd == "" {
			pwd = "*"
		}
		fmt.Fprintf(&bg, "%s:x:%s:%s\n", g[0], g[2], g[3])
		fmt.Fprintf(&bgs, "%s:%s::%s\n", g[0], pwd, g[3])
	}
	t.putDir("etc", 0o755)
	t.putFile("etc/passwd", 0o644, []byte(bp.String()))
	t.putFile("etc/group", 0o644, []byte(bg.String()))
	shadowGID := 0
	if g, ok := ids.groups["shadow"]; ok {
		shadowGID = g
	}
	t.put(&entry{path: "etc/shadow", typ: tar.TypeReg, mode: 0o640, gid: shadowGID, uname: "root", gname: ids.groupName(shadowGID), data: []byte(bs.String())})
	t.put(&entry{path: "etc/gshadow", typ: tar.TypeReg, mode: 0o640, gid: shadowGID, uname: "root", gname: ids.groupName(shadowGID), data: []byte(bgs.String())})
	for _, u := range fx.Users {
		if !u.CreateHome || u.Home == "" {
			continue
		}
		id := ids.users[u.Name]
		t.put(&entry{path: t.resolve(u.Home), typ: tar.TypeDir, mode: 0o755, uid: id[0], gid: id[1], uname: u.Name, gname: ids.groupName(id[1])})
	}
	return ids, nil
}

// ---- update-alternatives ----

type altChoice struct {
	path     string
	priority int
	slaves   map[string]string // slave name -> path
	pkg      string
}

type alternative struct {
	name   string
	link   string
	slaves []struct{ name, link string }
	choice []altChoice
}

// shellWords splits one logical shell line into words, handling quotes
// and stopping at a comment or a command separator. Words containing
// unexpanded $ or ` are returned as-is (the caller rejects them).
func shellWords(line string) (words []string, rest string) {
	var cur strings.Builder
	in := false
	quote := byte(0)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !in:
			return words, ""
		case c == ';' || c == '&' || c == '|' || c == '>' || c == '<' || c == ')':
			flush()
			return words, line[i+1:]
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	return words, ""
}

func logicalLines(script string) []string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	return strings.Split(script, "\n")
}

// shellCall is one invocation of a command found in a maintainer script.
type shellCall struct {
	args []string // the words after the command name
	text string   // the invocation as written, for messages
}

// commandCalls returns every invocation of the command cmd (by bare name or by path) in one
// logical shell line.
func commandCalls(line, cmd string) []shellCall {
	var calls []shellCall
	rest := line
	for rest != "" {
		var words []string
		words, rest = shellWords(rest)
		for k, w := range words {
			if w == cmd || strings.HasSuffix(w, "/"+cmd) {
				calls = append(calls, shellCall{args: words[k+1:], text: strings.Join(words[k:], " ")})
				break
			}
		}
	}
	return calls
}

func parseAlternatives(script, pkg string, alts map[string]*alternative) (warnings []string) {
	for _, line := range logicalLines(script) {
		for _, c := range commandCalls(line, "update-alternatives") {
			args := c.args
			var cur *altChoice
			var curAlt *alternative
			for k := 0; k < len(args); k++ {
				a := args[k]
				switch a {
				case "--install":
					if k+4 >= len(args) {
						warnings = append(warnings, fmt.Sprintf("%s: postinst: incomplete update-alternatives --install: %q", pkg, strings.TrimSpace(line)))
						k = len(args)
						cur = nil
						continue
					}
					link, name, p, prio := args[k+1], args[k+2], args[k+3], args[k+4]
					k += 4
					pr, err := strconv.Atoi(prio)
					if strings.ContainsAny(link+name+p+prio, "$`") || err != nil {
						warnings = append(warnings, fmt.Sprintf("%s: postinst: cannot interpret update-alternatives --install %s %s %s %s statically; skipped", pkg, link, name, p, prio))
						cur = nil
						continue
					}
					alt := alts[name]
					if alt == nil {
						alt = &alternative{name: name, link: link}
						alts[name] = alt
					}
					alt.choice = append(alt.choice, altChoice{path: p, priority: pr, slaves: map[string]string{}, pkg: pkg})
					cur = &alt.choice[len(alt.choice)-1]
					curAlt = alt
				case "--slave":
					if k+3 >= len(args) || cur == nil {
						k = len(args)
						continue
					}
					link, name, p := args[k+1], args[k+2], args[k+3]
					k += 3
					if strings.ContainsAny(link+name+p, "$`") {
						warnings = append(warnings, fmt.Sprintf("%s: postinst: cannot interpret update-alternatives --slave %s %s %s statically; skipped", pkg, link, name, p))
						continue
					}
					cur.slaves[name] = p
					found := false
					for _, s := range curAlt.slaves {
						if s.name == name {
							found = true
						}
					}
					if !found {
						curAlt.slaves = append(curAlt.slaves, struct{ name, link string }{name, link})
					}
				case "--altdir", "--admindir", "--log":
					k++
				}
			}
		}
	}
	return warnings
}

func applyAlternatives(t *tree) ([]string, error) {
	alts := map[string]*alternative{}
	var warnings []string
	for _, p := range t.pkgs {
		if s, ok := p.deb.Members["postinst"]; ok {
			warnings = append(warnings, parseAlternatives(string(s), p.deb.Package, alts)...)
		}
	}
	names := make([]string, 0, len(alts))
	for n := range alts {
		names = append(names, n)
	}
	sort.Strings(names)
	exists := func(p string) bool {
		_, ok := t.entries[t.resolve(p)]
		return ok
	}
	for _, n := range names {
		alt := alts[n]
		var valid []altChoice
		for _, c := range alt.choice {
			if exists(c.path) {
				valid = append(valid, c)
			} else {
				warnings = append(warnings, fmt.Sprintf("%s: alternative %s: %s not in the layer; skipped", c.pkg, n, c.path))
			}
		}
		if len(valid) == 0 {
			continue
		}
		sort.SliceStable(valid, func(i, j int) bool {
			if valid[i].priority != valid[j].priority {
				return valid[i].priority > valid[j].priority
			}
			return valid[i].path < valid[j].path
		})
		best := valid[0]
		t.putDir("etc", 0o755)
		t.putDir("etc/alternatives", 0o755)
		t.putSymlink("etc/alternatives/"+n, best.path)
		t.putSymlink(t.resolve(alt.link), "/etc/alternatives/"+n)
		for _, s := range alt.slaves {
			sp, ok := best.slaves[s.name]
			if !ok || !exists(sp) {
				continue
			}
			t.putSymlink("etc/alternatives/"+s.name, sp)
			t.putSymlink(t.resolve(s.link), "/etc/alternatives/"+s.name)
		}
		// var/lib/dpkg/alternatives/<name>, update-alternatives' format.
		// Choices are listed in path order.
		sort.SliceStable(valid, func(i, j int) bool { return valid[i].path < valid[j].path })
		var b strings.Builder
		b.WriteString("auto\n" + alt.link + "\n")
		for _, s := range alt.slaves {
			b.WriteString(s.name + "\n" + s.link + "\n")
		}
		b.WriteString("\n")
		for _, c := range valid {
			fmt.Fprintf(&b, "%s\n%d\n", c.path, c.priority)
			for _, s := range alt.slaves {
				b.WriteString(c.slaves[s.name] + "\n")
			}
		}
		b.WriteString("\n")
		t.putDir("var", 0o755)
		t.putDir("var/lib", 0o755)
		t.putDir("var/lib/dpkg", 0o755)
		t.putDir("var/lib/dpkg/alternatives", 0o755)
		t.putFile("var/lib/dpkg/alternatives/"+n, 0o644, []byte(b.String()))
	}
	return warnings, nil
}

// ---- CA certificates ----

func applyCACerts(t *tree) error {
	const share = "usr/share/ca-certificates/"
	var certs []string
	conf, haveConf, err := t.file("/etc/ca-certificates.conf")
	if err != nil {
		return err
	}
	if haveConf {
		for _, l := range strings.Split(string(conf), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "!") {
				continue
			}
			certs = append(certs, l)
		}
	} else {
		for p, e := range t.entries {
			if strings.HasPrefix(p, share) && strings.HasSuffix(p, ".crt") && (e.typ == tar.TypeReg || e.typ == tar.TypeSymlink) {
				certs = append(certs, strings.TrimPrefix(p, share))
			}
		}
		sort.Strings(certs)
		var b strings.Builder
		b.WriteString("# This file lists certificates that you wish to use or to ignore to be\n" +
			"# installed in /etc/ssl/certs.\n" +
			"# update-ca-certificates(8) will update /etc/ssl/certs by reading this file.\n" +
			"#\n" +
			"# This is autogenerated by dpkg-reconfigure ca-certificates.\n" +
			"# Certificates should be installed under /usr/share/ca-certificates\n" +
			"# and files with extension '.crt' is recognized as available certificate.\n" +
			"#\n" +
			"# line begins with # is comment.\n" +
			"# line begins with ! is certificate filename to be deselected.\n" +
			"#\n")
		for _, c := range certs {
			b.WriteString(c + "\n")
		}
		t.putDir("etc", 0o755)
		t.putFile("etc/ca-certificates.conf", 0o644, []byte(b.String()))
	}
	if len(certs) == 0 {
		return fmt.Errorf("CACertificates requested but no certificates under /%s", share)
	}
	var bundle []byte
	for _, c := range certs {
		body, ok, err := t.file("/" + share + c)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("ca-certificates.conf lists %s which is not in the layer", c)
		}
		bundle = append(bundle, body...)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			bundle = append(bundle, '\n')
		}
		pem := strings.TrimSuffix(path.Base(c), ".crt") + ".pem"
		t.putSymlink("etc/ssl/certs/"+pem, "/"+share+c)
	}
	t.putDir("etc/ssl", 0o755)
	t.putDir("etc/ssl/certs", 0o755)
	t.putFile("etc/ssl/certs/ca-certificates.crt", 0o644, bundle)
	return nil
}
