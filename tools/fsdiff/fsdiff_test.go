package fsdiff

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func file(p string, mode uint32, body string) *Entry {
	e := &Entry{Path: p, Kind: File, Mode: mode}
	if err := (ReadOptions{}).fillContent(e, strings.NewReader(body)); err != nil {
		panic(err)
	}
	return e
}

func tree(es ...*Entry) Tree {
	t := Tree{}
	for _, e := range es {
		t[e.Path] = e
	}
	return t
}

func TestAspects(t *testing.T) {
	base := func() *Entry { return file("etc/x", 0o644, "a") }
	tests := []struct {
		name string
		got  func() *Entry
		want []Aspect
	}{
		{"equal", base, nil},
		{"missing", func() *Entry { return nil }, []Aspect{Missing}},
		{"mode", func() *Entry { e := base(); e.Mode = 0o4755; return e }, []Aspect{Mode}},
		{"owner", func() *Entry { e := base(); e.GID = 42; return e }, []Aspect{Owner}},
		{"content", func() *Entry { return file("etc/x", 0o644, "b") }, []Aspect{Content}},
		{"mode and content", func() *Entry { return file("etc/x", 0o600, "b") }, []Aspect{Mode, Content}},
		{"type", func() *Entry { return &Entry{Path: "etc/x", Kind: Dir, Mode: 0o755} }, []Aspect{Type}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aspects(base(), tt.got()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("aspects = %v, want %v", got, tt.want)
			}
		})
	}
	link := func(to string) *Entry { return &Entry{Path: "l", Kind: Symlink, Mode: 0o777, Link: to} }
	if got := aspects(link("a"), link("b")); !reflect.DeepEqual(got, []Aspect{Link}) {
		t.Errorf("symlink targets: %v", got)
	}
	dev := func(d string) *Entry { return &Entry{Path: "dev/null", Kind: CharDev, Mode: 0o666, Dev: d} }
	if got := aspects(dev("1,3"), dev("1,5")); !reflect.DeepEqual(got, []Aspect{Content}) {
		t.Errorf("device numbers: %v", got)
	}
	if got := aspects(nil, base()); !reflect.DeepEqual(got, []Aspect{Extra}) {
		t.Errorf("extra: %v", got)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"var/log/*.log", "var/log/dpkg.log", true},
		{"var/log/*.log", "var/log/apt/term.log", false},
		{"var/log/**", "var/log", true},
		{"var/log/**", "var/log/apt/term.log", true},
		{"var/log/**", "var/logs", false},
		{"**/__pycache__/**", "usr/lib/python3/dist-packages/yaml/__pycache__/x.pyc", true},
		{"**/__pycache__/**", "usr/lib/python3/dist-packages/yaml/x.py", false},
		{"etc/ssl/certs/*.0", "etc/ssl/certs/8d33f237.0", true},
		{"etc/ssl/certs/*.0", "etc/ssl/certs/sub/8d33f237.0", false},
		{"etc/[", "etc/[", false}, // malformed: matches nothing
		{"etc", "etc/passwd", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCompareRules(t *testing.T) {
	want := tree(
		file("var/log/dpkg.log", 0o644, "installed a\n"),
		file("var/log/apt/term.log", 0o640, "log\n"),
		file("etc/pam.d/common-auth", 0o644, "auth\n"),
		file("etc/same", 0o644, "x"),
		&Entry{Path: "etc/ssl/certs/1234.0", Kind: Symlink, Mode: 0o777, Link: "ssl-cert-snakeoil.pem"},
		&Entry{Path: "etc/ssl/certs/5678.0", Kind: Symlink, Mode: 0o777, Link: "ISRG_Root_X1.pem"},
	)
	got := tree(
		file("var/log/dpkg.log", 0o644, "other\n"),
		file("var/log/apt/term.log", 0o600, "log\n"),
		file("etc/same", 0o644, "x"),
		file("etc/extra", 0o644, "y"),
	)
	p := Policy{Rules: []Rule{
		{Path: "var/log/**", Aspects: []Aspect{Missing, Content}, Category: Logs, Reason: "logs"},
		{Path: "etc/ssl/certs/*.0", Target: "ssl-cert-snakeoil.pem", Category: MachineSpecific, Reason: "snakeoil"},
	}}
	r := Compare(want, got, p)
	if r.Compared != 7 || r.Equal != 1 {
		t.Errorf("compared %d, equal %d; want 7, 1", r.Compared, r.Equal)
	}
	if paths := diffPaths(r.Allowed[Logs]); !reflect.DeepEqual(paths, []string{"var/log/dpkg.log"}) {
		t.Errorf("allowed logs = %v", paths)
	}
	if paths := diffPaths(r.Allowed[MachineSpecific]); !reflect.DeepEqual(paths, []string{"etc/ssl/certs/1234.0"}) {
		t.Errorf("allowed machine-specific = %v", paths)
	}
	// The log's mode is not among the aspects the rule allows; the hash link to a real
	// certificate does not match the rule's target.
	wantUnexplained := []string{"etc/extra", "etc/pam.d/common-auth", "etc/ssl/certs/5678.0", "var/log/apt/term.log"}
	if paths := diffPaths(r.Unexplained); !reflect.DeepEqual(paths, wantUnexplained) {
		t.Errorf("unexplained = %v, want %v", paths, wantUnexplained)
	}
	s := r.Summary()
	for _, line := range []string{"entries compared: 7", "equal:            1", "allowed:          2", "unexplained:      4", "logs:"} {
		if !strings.Contains(s, line) {
			t.Errorf("summary lacks %q:\n%s", line, s)
		}
	}
}

func diffPaths(ds []Diff) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Path)
	}
	return out
}

func TestNormalizer(t *testing.T) {
	p := Debian()
	o := ReadOptions{Normalizers: p.Normalizers}
	read := func(path, body string) *Entry {
		e := &Entry{Path: path, Kind: File, Mode: 0o640, GID: 42}
		if err := o.fillContent(e, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		return e
	}
	oracle := read("etc/shadow", "root:*:20412:0:99999:7:::\npostgres:!:20412::::::\n")
	tests := []struct {
		name, body string
		allowed    bool
	}{
		{"another day", "root:*:19000:0:99999:7:::\npostgres:!:19000::::::\n", true},
		{"another password field", "root:*:20412:0:99999:7:::\npostgres:*:20412::::::\n", false},
		// Day 0 forces a password change: not a timestamp to ignore.
		{"day 0", "root:*:0:0:99999:7:::\npostgres:!:0::::::\n", false},
	}
	for _, tt := range tests {
		r := Compare(tree(oracle), tree(read("etc/shadow", tt.body)), p)
		if got := len(r.Allowed[Timestamps]) == 1 && len(r.Unexplained) == 0; got != tt.allowed {
			t.Errorf("%s: allowed = %v, want %v (unexplained %v)", tt.name, got, tt.allowed, r.Unexplained)
		}
	}
	status := read("var/lib/dpkg/status", "Package: debconf\nPriority: required\nVersion: 1\n\n")
	r := Compare(tree(status), tree(read("var/lib/dpkg/status", "Package: debconf\nPriority: important\nVersion: 1\n\n")), p)
	if len(r.Allowed[InstallMethod]) != 1 {
		t.Errorf("status, Priority only: allowed %v, unexplained %v", r.Allowed, r.Unexplained)
	}
	r = Compare(tree(status), tree(read("var/lib/dpkg/status", "Package: debconf\nPriority: required\nVersion: 1\n")), p)
	if len(r.Unexplained) != 1 {
		t.Errorf("status without its final empty line must stay unexplained: allowed %v", r.Allowed)
	}
	// A trailing blank that dpkg keeps: a known limitation; with another Priority too, both
	// normalizers are needed and named.
	blank := read("var/lib/dpkg/status", "Package: debconf\nPriority: required\nDescription: x \n\n")
	r = Compare(tree(blank), tree(read("var/lib/dpkg/status", "Package: debconf\nPriority: required\nDescription: x\n\n")), p)
	if len(r.Allowed[Limitations]) != 1 {
		t.Errorf("trailing blank: allowed %v, unexplained %v", r.Allowed, r.Unexplained)
	}
	r = Compare(tree(blank), tree(read("var/lib/dpkg/status", "Package: debconf\nPriority: important\nDescription: x\n\n")), p)
	if d := r.Allowed[Limitations]; len(d) != 1 || !strings.Contains(d[0].Reason, "trailing blanks") || !strings.Contains(d[0].Reason, "Priority") {
		t.Errorf("both: allowed %v, unexplained %v", r.Allowed, r.Unexplained)
	}
}

// TestServices: what deb-systemd-helper and update-rc.d make may be missing, nothing else
// about those paths may differ.
func TestServices(t *testing.T) {
	p := Debian()
	want := tree(
		&Entry{Path: "etc/rc2.d/S01postgresql", Kind: Symlink, Mode: 0o777, Link: "../init.d/postgresql"},
		&Entry{Path: "etc/systemd/system/timers.target.wants", Kind: Dir, Mode: 0o755},
		&Entry{Path: "etc/systemd/system/timers.target.wants/fstrim.timer", Kind: Symlink, Mode: 0o777, Link: "/lib/systemd/system/fstrim.timer"},
		&Entry{Path: "var/lib/systemd/deb-systemd-helper-enabled/fstrim.timer.dsh-also", Kind: File, Mode: 0o644, SHA256: "a"},
		&Entry{Path: "etc/init.d/postgresql", Kind: File, Mode: 0o755, SHA256: "b"},
	)
	r := Compare(want, tree(&Entry{Path: "etc/init.d/postgresql", Kind: File, Mode: 0o644, SHA256: "b"}), p)
	if len(r.Allowed[ImagePolicy]) != 4 || len(r.Unexplained) != 1 || r.Unexplained[0].Path != "etc/init.d/postgresql" {
		t.Errorf("allowed %v, unexplained %v", r.Allowed, r.Unexplained)
	}
}

// TestDebianPolicyKeepsDefects: the allow-list must not excuse the defects issue #16 names.
func TestDebianPolicyKeepsDefects(t *testing.T) {
	p := Debian()
	var es []*Entry
	for _, path := range []string{
		"etc/pam.d/common-auth", "etc/pam.d/common-session-noninteractive", "etc/ld.so.cache",
		"var/lib/dpkg/diversions", "var/lib/dpkg/alternatives/pager", "etc/shadow", "etc/inputrc",
		"etc/profile", "var/lib/dpkg/statoverride", "var/lib/dpkg/triggers/ldconfig", "var/log/wtmp",
		"etc/apt/apt.conf.d/02autoremove-postgresql", "usr/lib/python3/dist-packages/yaml/__init__.py",
	} {
		es = append(es, file(path, 0o644, "x"))
	}
	es = append(es,
		&Entry{Path: "etc/ssl/certs/8d33f237.0", Kind: Symlink, Mode: 0o777, Link: "ISRG_Root_X1.pem"},
		&Entry{Path: "usr/bin/sh.distrib", Kind: Symlink, Mode: 0o777, Link: "dash"},
		&Entry{Path: "var/mail", Kind: Dir, Mode: 0o2775, GID: 8},
		&Entry{Path: "var/spool/news", Kind: Dir, Mode: 0o755},
		&Entry{Path: "run/postgresql", Kind: Dir, Mode: 0o2775, UID: 999, GID: 999},
		&Entry{Path: "var/lib/apt/lists", Kind: Dir, Mode: 0o755},
		&Entry{Path: "dev", Kind: Dir, Mode: 0o755},
		&Entry{Path: "etc/ssl/private", Kind: Dir, Mode: 0o710, GID: 998},
	)
	r := Compare(tree(es...), Tree{}, p)
	if len(r.Unexplained) != len(es) {
		t.Errorf("Debian() allows missing %v", r.Allowed)
	}
}

func TestBlankShadowDate(t *testing.T) {
	got := string(blankShadowDate([]byte("root:*:20412:0:99999:7:::\nsys:*:0:0:99999:7:::\n\nbad\n")))
	if want := "root:*::0:99999:7:::\nsys:*:0:0:99999:7:::\n\nbad\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDropPriority(t *testing.T) {
	got := string(dropPriority([]byte("Package: a\nPriority: required\nDescription: x \n\nPackage: b\nPriority: optional\n\n")))
	if want := "Package: a\nDescription: x \n\nPackage: b\n\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineDiff(t *testing.T) {
	got := LineDiff([]byte("a\nb\nb\nc\n"), []byte("b\nc\nd\n"))
	if want := []string{"-a", "-b", "+d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LineDiff = %v, want %v", got, want)
	}
	if got := LineDiff(nil, []byte("x\n")); !reflect.DeepEqual(got, []string{"+x"}) {
		t.Errorf("LineDiff(nil, x) = %v", got)
	}
	if IsText([]byte("a\x00b")) || !IsText([]byte("ab\n")) {
		t.Error("IsText")
	}
}

// TestReadDirAndTar: the same file system read from a directory and from a tar gives equal
// trees (hard links are regular files in both, even when the tar names the link first).
func TestReadDirAndTar(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Chmod(filepath.Join(dir, "usr/bin/tool"), os.ModeSetuid|0o755))
	must(os.Link(filepath.Join(dir, "usr/bin/tool"), filepath.Join(dir, "usr/bin/tool2")))
	must(os.Symlink("usr/bin", filepath.Join(dir, "bin")))
	must(os.Mkdir(filepath.Join(dir, "tmp"), 0o755))
	must(os.Chmod(filepath.Join(dir, "tmp"), os.ModeSticky|0o777))
	fromDir, err := ReadDir(dir, ReadOptions{})
	must(err)

	uid, gid := os.Getuid(), os.Getgid()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin", Mode: 0o777},
		{Name: "./tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/tool2", Typeflag: tar.TypeLink, Linkname: "usr/bin/tool", Mode: 0o4755},
		{Name: "./usr/bin/tool", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 10},
	} {
		h.Uid, h.Gid = uid, gid
		must(tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte("#!/bin/sh\n"))
			must(err)
		}
	}
	must(tw.Close())
	fromTar, err := ReadTar(&buf, ReadOptions{})
	must(err)
	r := Compare(fromDir, fromTar, Policy{})
	if r.Compared != 6 || r.Equal != 6 {
		t.Errorf("compared %d, equal %d, want 6 and 6; unexplained: %v", r.Compared, r.Equal, r.Unexplained)
	}
	if e := fromTar["usr/bin/tool2"]; e.Kind != File || e.Mode != 0o4755 || e.Size != 10 {
		t.Errorf("hard link read as %v", e)
	}
}

func TestReadTarErrors(t *testing.T) {
	for name, h := range map[string]*tar.Header{
		"whiteout":          {Name: "etc/.wh.passwd", Typeflag: tar.TypeReg},
		"dangling hardlink": {Name: "usr/bin/a", Typeflag: tar.TypeLink, Linkname: "usr/bin/missing"},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		if _, err := ReadTar(&buf, ReadOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestKeep(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"etc/passwd", "root:x:0:0::/root:/bin/sh\n"}, {"usr/lib/big", "zzz"}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	tr, err := ReadTar(&buf, ReadOptions{Keep: func(e *Entry) bool { return strings.HasPrefix(e.Path, "etc/") }})
	if err != nil {
		t.Fatal(err)
	}
	if string(tr["etc/passwd"].Body) != "root:x:0:0::/root:/bin/sh\n" || tr["usr/lib/big"].Body != nil {
		t.Errorf("kept bodies: %q, %q", tr["etc/passwd"].Body, tr["usr/lib/big"].Body)
	}
}
