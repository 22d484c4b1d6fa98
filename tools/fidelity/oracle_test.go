package fidelity

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/fsdiff"
)

func TestMirrorFor(t *testing.T) {
	f := filepath.Join(t.TempDir(), "debian.sources")
	src := "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian http://other.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n" +
		"Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for suite, want := range map[string]string{"bookworm": "http://mirror.invalid/debian", "bookworm-security": "http://mirror.invalid/debian-security"} {
		if got, err := MirrorFor(f, suite); err != nil || got != want {
			t.Errorf("MirrorFor(%s) = %q, %v; want %q", suite, got, err, want)
		}
	}
	if _, err := MirrorFor(f, "trixie"); err == nil {
		t.Error("MirrorFor(trixie): no error")
	}
}

var testAccountFiles = AccountFiles{
	Passwd: []byte("root:x:0:0:root:/root:/bin/bash\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n" +
		"postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n"),
	Group:        []byte("root:x:0:\nmail:x:8:\nssl-cert:x:998:postgres\npostgres:x:999:\n"),
	PasswdMaster: []byte("root:*:0:0:root:/root:/bin/bash\n_apt:*:42:65534::/nonexistent:/usr/sbin/nologin\n"),
	GroupMaster:  []byte("root:*:0:\nmail:*:8:\n"),
}

func TestImageAccounts(t *testing.T) {
	a, err := ImageAccounts(testAccountFiles)
	if err != nil {
		t.Fatal(err)
	}
	want := Accounts{
		Groups: []Group{{Name: "ssl-cert", GID: 998}, {Name: "postgres", GID: 999}},
		Users: []User{{Name: "postgres", UID: 999, GID: 999, Gecos: "PostgreSQL administrator", Home: "/var/lib/postgresql",
			Shell: "/bin/bash", Groups: []string{"ssl-cert"}}},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("ImageAccounts = %+v, want %+v", a, want)
	}
	wantScript := "groupadd -r -g 998 'ssl-cert'\ngroupadd -r -g 999 'postgres'\n" +
		"useradd -r -M -u 999 -g 999 -c 'PostgreSQL administrator' -d '/var/lib/postgresql' -s '/bin/bash' -G 'ssl-cert' 'postgres'\n"
	if s := a.Script(); s != wantScript {
		t.Errorf("Script =\n%s\nwant\n%s", s, wantScript)
	}
	bad := testAccountFiles
	bad.Passwd = []byte("postgres:x:999\n")
	if _, err := ImageAccounts(bad); err == nil {
		t.Error("short passwd line: no error")
	}
}

func TestKeyChangesWithInputs(t *testing.T) {
	o := Oracle{Mirror: "http://mirror.invalid/debian", Suite: "bookworm", DebootstrapVersion: "debootstrap 1.0.128",
		Phases: []Phase{{Set: "base", Packages: []Package{{Key: "a_1_all", SHA256: "00", File: "/x/a.deb"}}}}}
	k := o.Key()
	moved := o
	moved.Phases = []Phase{{Set: "base", Packages: []Package{{Key: "a_1_all", SHA256: "00", File: "/elsewhere/a.deb"}}}}
	if moved.Key() != k {
		t.Error("the key depends on where the .deb files are")
	}
	for name, change := range map[string]func(*Oracle){
		"mirror": func(o *Oracle) { o.Mirror += "2" },
		"sha256": func(o *Oracle) {
			o.Phases = []Phase{{Set: "base", Packages: []Package{{Key: "a_1_all", SHA256: "01"}}}}
		},
		"accounts": func(o *Oracle) { o.Accounts = Accounts{Groups: []Group{{Name: "g", GID: 1}}} },
	} {
		c := o
		change(&c)
		if c.Key() == k {
			t.Errorf("the key does not change with the %s", name)
		}
	}
}

// TestTarZstRoundTrip: the archive of a directory reads back as the same tree.
func TestTarZstRoundTrip(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"etc", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "usr/bin"), os.ModeSetgid|0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "etc/passwd"), filepath.Join(root, "usr/bin/hard")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "root.tar.zst")
	if err := writeTarZst(root, archive); err != nil {
		t.Fatal(err)
	}
	want, err := fsdiff.ReadDir(root, fsdiff.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := openTarZst(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := fsdiff.ReadTar(f, fsdiff.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := fsdiff.Compare(want, got, fsdiff.Policy{})
	if r.Compared != 6 || r.Equal != 6 {
		t.Errorf("compared %d, equal %d, want 6, 6: %v", r.Compared, r.Equal, r.Unexplained)
	}
	if got["usr/bin"].Mode != 0o2755 {
		t.Errorf("setgid lost: %04o", got["usr/bin"].Mode)
	}
	if err := removeTree(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("removeTree left %s: %v", dir, err)
	}
}

func TestOwnersAndReport(t *testing.T) {
	oracle := fsdiff.Tree{
		"var/lib/dpkg/info/libpam-runtime.list": {Path: "var/lib/dpkg/info/libpam-runtime.list", Kind: fsdiff.File,
			Body: []byte("/.\n/etc\n/etc/pam.conf\n/usr/sbin/pam-auth-update\n")},
		"var/lib/dpkg/info/dash.list": {Path: "var/lib/dpkg/info/dash.list", Kind: fsdiff.File, Body: []byte("/bin/dash\n")},
		"etc/pam.conf":                {Path: "etc/pam.conf", Kind: fsdiff.File, Mode: 0o644, SHA256: "aa", Body: []byte("a\nb\n")},
		"etc/pam.d/common-auth":       {Path: "etc/pam.d/common-auth", Kind: fsdiff.File, Mode: 0o644, SHA256: "bb", Body: []byte("auth\n")},
	}
	owners := Owners(oracle)
	if !reflect.DeepEqual(owners["usr/bin/dash"], []string{"dash"}) || !reflect.DeepEqual(owners["etc/pam.conf"], []string{"libpam-runtime"}) {
		t.Errorf("owners = %v", owners)
	}
	image := fsdiff.Tree{"etc/pam.conf": {Path: "etc/pam.conf", Kind: fsdiff.File, Mode: 0o644, SHA256: "cc", Body: []byte("a\nc\n")}}
	for p, e := range oracle {
		if strings.HasPrefix(p, "var/") {
			image[p] = e
		}
	}
	report := FormatReport(fsdiff.Compare(oracle, image, fsdiff.Policy{}), owners)
	for _, want := range []string{
		"unexplained:      2",
		"content etc/pam.conf: want file 0644 0:0 sha256:aa (0 bytes), got file 0644 0:0 sha256:cc (0 bytes) [libpam-runtime]\n    -b\n    +c\n",
		"missing etc/pam.d/common-auth: want file 0644 0:0 sha256:bb (0 bytes) [no package]\n    -auth\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
