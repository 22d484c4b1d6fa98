package layer

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/ci-images/ci-images/tools/internal/debtest"
	"github.com/ci-images/ci-images/tools/maintscript"
)

var testEpoch = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)

// inputs writes the packages as .deb files into a new directory and returns their paths.
func inputs(t *testing.T, debs ...debtest.Deb) []string {
	t.Helper()
	dir := t.TempDir()
	var in []string
	for _, d := range debs {
		b, err := debtest.Build(d)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, d.Package+"_"+d.Version+"_"+d.Architecture+".deb")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		in = append(in, p)
	}
	return in
}

type tarEntry struct {
	hdr  *tar.Header
	body string
}

func writeLayer(t *testing.T, in []string, opts Options) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	if opts.SourceDateEpoch == 0 {
		opts.SourceDateEpoch = testEpoch.Unix()
	}
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	sum, err := Write(&buf, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

// writeLayerOneCPU is writeLayer with GOMAXPROCS 1: one reader, one spool file, one gzip
// worker.
func writeLayerOneCPU(t *testing.T, in []string, opts Options) ([]byte, Summary) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	return writeLayer(t, in, opts)
}

func readTar(t *testing.T, b []byte) ([]string, map[string]tarEntry) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var names []string
	m := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		name := strings.TrimSuffix(h.Name, "/")
		if _, dup := m[name]; dup {
			t.Errorf("duplicate entry %s", name)
		}
		names = append(names, name)
		m[name] = tarEntry{h, string(body)}
	}
	return names, m
}

func coreutils() debtest.Deb {
	return debtest.Deb{
		Package: "coreutils", Version: "9.1-1", Architecture: "amd64", MultiArch: "foreign", Essential: true,
		Priority: "required", Section: "utils", PreDepends: "libc6 (>= 2.34)",
		Extra: [][2]string{{"Homepage", "http://gnu.org/software/coreutils"}},
		Files: []debtest.File{
			{Path: "usr/share/doc/coreutils/copyright", Body: "GPL\n"},
			{Path: "bin/ls", Body: "ls-binary", Mode: 0o755},
			{Path: "bin/cat", Body: "cat-binary", Mode: 0o755, ModTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Path: "sbin/chroot", Body: "chroot", Mode: 0o755},
			{Path: "usr/bin/env", Body: "env", Mode: 0o755},
			{Path: "bin/dir", Hardlink: "bin/ls"}, // hard link sorting after its target? "dir" < "ls": must be swapped
			{Path: "lib/relative", Link: "../usr/lib/thing"},
			{Path: "lib/sibling", Link: "relative"},
			{Path: "etc/coreutils.conf", Body: "conf\n"},
			{Path: "var/spool/cron", Dir: true, Mode: 0o1730, Gid: 101, Gname: "crontab"},
		},
		Scripts: map[string]string{"postinst": "#!/bin/sh\nexit 0\n", "conffiles": "/etc/coreutils.conf\n"},
	}
}

func libfoo() debtest.Deb {
	return debtest.Deb{
		Package: "libfoo1", Version: "1.0-1", Architecture: "amd64", MultiArch: "same",
		Files: []debtest.File{
			{Path: "lib/x86_64-linux-gnu/libfoo.so.1", Body: "lib"},
			{Path: "usr/share/doc/libfoo1/copyright", Body: "GPL\n"},
		},
		Scripts: map[string]string{"triggers": "activate-noawait ldconfig\n", "shlibs": "libfoo 1 libfoo1\n"},
	}
}

func TestOrderMtimesMergedUsr(t *testing.T) {
	// Input order must not matter.
	a, sum := writeLayer(t, inputs(t, libfoo(), coreutils()), Options{Config: Config{MergedUsr: true}})
	b, _ := writeLayerOneCPU(t, inputs(t, coreutils(), libfoo()), Options{Config: Config{MergedUsr: true}})
	if !bytes.Equal(a, b) {
		t.Fatal("layer depends on input order or concurrency")
	}
	if len(sum.Packages) != 2 || sum.Packages[0].Name != "coreutils" {
		t.Errorf("summary packages = %+v", sum.Packages)
	}
	names, m := readTar(t, a)
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not sorted: %v", names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if d := filepath.Dir(n); d != "." && !seen[d] {
			t.Errorf("%s comes before its parent %s", n, d)
		}
		seen[n] = true
		h := m[n].hdr
		if h.ModTime.After(testEpoch) {
			t.Errorf("%s mtime %v after epoch", n, h.ModTime)
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s has atime/ctime", n)
		}
	}
	if got := m["usr/bin/cat"].hdr.ModTime; !got.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("older mtime not kept: %v", got)
	}
	if got := m["usr/bin/ls"].hdr.ModTime; !got.Equal(testEpoch) {
		t.Errorf("newer mtime not clamped: %v", got)
	}
	for _, d := range []string{"bin", "sbin", "lib"} {
		e, ok := m[d]
		if !ok || e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "usr/"+d {
			t.Errorf("/%s is not a symlink to usr/%s: %+v", d, d, e.hdr)
		}
	}
	if _, ok := m["lib64"]; ok {
		t.Error("lib64 symlink emitted although nothing ships /usr/lib64")
	}
	for _, p := range []string{"bin/ls", "sbin/chroot", "lib/x86_64-linux-gnu/libfoo.so.1", "bin/cat"} {
		if _, ok := m[p]; ok {
			t.Errorf("%s not rewritten", p)
		}
		if _, ok := m["usr/"+p]; !ok {
			t.Errorf("usr/%s missing", p)
		}
	}
	ls := m["usr/bin/ls"].hdr
	if ls.Mode != 0o755 || ls.Uname != "root" {
		t.Errorf("usr/bin/ls mode %o uname %q", ls.Mode, ls.Uname)
	}
	cron := m["var/spool/cron"].hdr
	if cron.Mode != 0o1730 || cron.Gid != 101 || cron.Gname != "crontab" || cron.Typeflag != tar.TypeDir {
		t.Errorf("var/spool/cron = mode %o gid %d %q", cron.Mode, cron.Gid, cron.Gname)
	}
	// The hard link group: dir sorts before ls, so dir carries the body.
	if e := m["usr/bin/dir"]; e.hdr.Typeflag != tar.TypeReg || e.body != "ls-binary" {
		t.Errorf("usr/bin/dir = %c %q", e.hdr.Typeflag, e.body)
	}
	if e := m["usr/bin/ls"]; e.hdr.Typeflag != tar.TypeLink || e.hdr.Linkname != "usr/bin/dir" {
		t.Errorf("usr/bin/ls = %c -> %q", e.hdr.Typeflag, e.hdr.Linkname)
	}
	// ../usr/lib/thing from /lib would break when moved to /usr/lib: made absolute.
	if got := m["usr/lib/relative"].hdr.Linkname; got != "/usr/lib/thing" {
		t.Errorf("usr/lib/relative -> %q", got)
	}
	if got := m["usr/lib/sibling"].hdr.Linkname; got != "relative" {
		t.Errorf("usr/lib/sibling -> %q", got)
	}

	// Without MergedUsr, paths stay.
	c, _ := writeLayer(t, inputs(t, coreutils()), Options{})
	_, m = readTar(t, c)
	if e, ok := m["bin"]; !ok || e.hdr.Typeflag != tar.TypeDir {
		t.Errorf("without MergedUsr, /bin should be a directory")
	}
	if _, ok := m["bin/ls"]; !ok {
		t.Error("without MergedUsr, bin/ls missing")
	}
}

func TestDpkgDatabase(t *testing.T) {
	out, _ := writeLayer(t, inputs(t, libfoo(), coreutils()), Options{Config: Config{MergedUsr: true}})
	_, m := readTar(t, out)
	const db = "var/lib/dpkg/"
	wantStatus := `Package: coreutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 10
Maintainer: Test Maintainer <test@example.invalid>
Architecture: amd64
Multi-Arch: foreign
Version: 9.1-1
Pre-Depends: libc6 (>= 2.34)
Conffiles:
 /etc/coreutils.conf 4d8b4ec4c8a0e4b1aa5e8d0a6d4c7a41
Description: test package coreutils
Homepage: http://gnu.org/software/coreutils

Package: libfoo1
Status: install ok installed
Installed-Size: 2
Maintainer: Test Maintainer <test@example.invalid>
Architecture: amd64
Multi-Arch: same
Version: 1.0-1
Description: test package libfoo1

`
	// md5("conf\n")
	wantStatus = strings.Replace(wantStatus, "4d8b4ec4c8a0e4b1aa5e8d0a6d4c7a41", md5hex("conf\n"), 1)
	if got := m[db+"status"].body; got != wantStatus {
		t.Errorf("status:\n%s\nwant:\n%s", got, wantStatus)
	}
	list := m[db+"info/coreutils.list"].body
	for _, want := range []string{"/.\n", "/bin\n", "/bin/ls\n", "/bin/dir\n", "/sbin/chroot\n", "/usr/bin/env\n", "/var/spool/cron\n"} {
		if !strings.Contains(list, want) {
			t.Errorf("coreutils.list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "/usr/bin/ls") {
		t.Errorf("coreutils.list has rewritten path /usr/bin/ls; dpkg records paths as shipped")
	}
	if _, ok := m[db+"info/libfoo1:amd64.list"]; !ok {
		t.Error("Multi-Arch: same package list not named libfoo1:amd64.list")
	}
	if got := m[db+"info/libfoo1:amd64.triggers"].body; got != "activate-noawait ldconfig\n" {
		t.Errorf("triggers = %q", got)
	}
	if e := m[db+"info/coreutils.postinst"]; e.hdr.Mode != 0o755 || e.body != "#!/bin/sh\nexit 0\n" {
		t.Errorf("postinst mode %o body %q", e.hdr.Mode, e.body)
	}
	if got := m[db+"info/coreutils.md5sums"].body; !strings.Contains(got, md5hex("ls-binary")+"  bin/ls\n") {
		t.Errorf("md5sums = %q", got)
	}
	if got := m[db+"info/coreutils.conffiles"].body; got != "/etc/coreutils.conf\n" {
		t.Errorf("conffiles = %q", got)
	}

	// Ask the real dpkg.
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dpkg-query not on PATH and CI=true")
		}
		t.Skip("dpkg-query not on PATH; install dpkg to check the database with dpkg itself")
	}
	root := t.TempDir()
	extract(t, out, root)
	admin := filepath.Join(root, "var/lib/dpkg")
	q, err := exec.Command("dpkg-query", "--admindir="+admin, "-W", "-f", "${binary:Package} ${Version} ${db:Status-Abbrev}\n").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-query -W: %v\n%s", err, q)
	}
	if got, want := string(q), "coreutils 9.1-1 ii \nlibfoo1:amd64 1.0-1 ii \n"; got != want {
		t.Errorf("dpkg-query -W:\n%s\nwant:\n%s", got, want)
	}
	l, err := exec.Command("dpkg-query", "--admindir="+admin, "-L", "libfoo1").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-query -L: %v\n%s", err, l)
	}
	if !strings.Contains(string(l), "/lib/x86_64-linux-gnu/libfoo.so.1\n") {
		t.Errorf("dpkg-query -L libfoo1:\n%s", l)
	}
	s, err := exec.Command("dpkg-query", "--admindir="+admin, "-S", "/bin/ls").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(s), "coreutils: /bin/ls") {
		t.Errorf("dpkg-query -S /bin/ls: %v %s", err, s)
	}
	if a, err := exec.Command("dpkg", "--admindir="+admin, "--audit").CombinedOutput(); err != nil || len(a) != 0 {
		t.Errorf("dpkg --audit: %v\n%s", err, a)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// extract unpacks a layer tar into dir (ownership ignored).
func extract(t *testing.T, b []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			body, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			os.Symlink(h.Linkname, p)
		case tar.TypeLink:
			os.Link(filepath.Join(dir, h.Linkname), p)
		}
	}
}

func TestConflicts(t *testing.T) {
	a := debtest.Deb{Package: "pkg-a", Version: "1", Architecture: "all", Files: []debtest.File{{Path: "usr/share/x/file", Body: "A"}, {Path: "usr/share/same", Body: "same"}}}
	b := debtest.Deb{Package: "pkg-b", Version: "1", Architecture: "all", Files: []debtest.File{{Path: "usr/share/x/file", Body: "B"}, {Path: "usr/share/same", Body: "same"}}}
	var buf bytes.Buffer
	_, err := Write(&buf, inputs(t, a, b), Options{SourceDateEpoch: testEpoch.Unix(), TempDir: t.TempDir()})
	if err == nil {
		t.Fatal("expected a conflict error")
	}
	for _, want := range []string{"/usr/share/x/file", "pkg-a", "pkg-b"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	// Merged /usr makes /bin/x and /usr/bin/x the same path.
	c := debtest.Deb{Package: "pkg-c", Version: "1", Architecture: "all", Files: []debtest.File{{Path: "bin/tool", Body: "C"}}}
	d := debtest.Deb{Package: "pkg-d", Version: "1", Architecture: "all", Files: []debtest.File{{Path: "usr/bin/tool", Link: "other"}}}
	_, err = Write(&buf, inputs(t, c, d), Options{Config: Config{MergedUsr: true}, SourceDateEpoch: testEpoch.Unix(), TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "/usr/bin/tool") || !strings.Contains(err.Error(), "file vs symlink") {
		t.Fatalf("merged-usr conflict err = %v", err)
	}
	// Identical content and shared directories are fine.
	b.Files[0].Body = "A"
	out, _ := writeLayer(t, inputs(t, a, b), Options{})
	_, m := readTar(t, out)
	if m["usr/share/x/file"].body != "A" {
		t.Error("shared identical file missing")
	}
	// Replaces lets a package take over a file.
	b.Files[0].Body = "B"
	b.Replaces = "pkg-a (<< 2)"
	out, _ = writeLayer(t, inputs(t, a, b), Options{})
	_, m = readTar(t, out)
	if m["usr/share/x/file"].body != "B" {
		t.Errorf("Replaces: got %q", m["usr/share/x/file"].body)
	}
	// dpkg takes the path off the replaced package's file list.
	if got := m["var/lib/dpkg/info/pkg-a.list"].body; got != "/.\n/usr\n/usr/share\n/usr/share/x\n/usr/share/same\n" {
		t.Errorf("pkg-a.list after Replaces:\n%s", got)
	}
	if got := m["var/lib/dpkg/info/pkg-b.list"].body; !strings.Contains(got, "/usr/share/x/file\n") {
		t.Errorf("pkg-b.list lacks the replaced file:\n%s", got)
	}
}

// TestAlternatives: the postinst scripts' update-alternatives calls take effect through
// the merged-/usr links (tools/maintscript has the details), and scripts that fail are
// reported.
func TestAlternatives(t *testing.T) {
	gcc := debtest.Deb{Package: "gcc", Version: "4:12.2.0-3", Architecture: "amd64",
		Files: []debtest.File{{Path: "usr/bin/gcc", Link: "gcc-12"}, {Path: "usr/bin/c99-gcc", Body: "c99", Mode: 0o755},
			{Path: "usr/share/man/man1/c99-gcc.1.gz", Body: "man"}},
		Scripts: map[string]string{"postinst": `#!/bin/sh
set -e
if [ "$1" = configure ]; then
update-alternatives --quiet \
    --install /usr/bin/cc cc /usr/bin/gcc 20 \
    #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz

update-alternatives --quiet \
    --install /usr/bin/c99 c99 /usr/bin/c99-gcc 20 \
    --slave /usr/share/man/man1/c99.1.gz c99.1.gz /usr/share/man/man1/c99-gcc.1.gz
fi
`}}
	clang := debtest.Deb{Package: "clang", Version: "1", Architecture: "amd64",
		Files:   []debtest.File{{Path: "usr/bin/clang", Body: "clang", Mode: 0o755}, {Path: "bin/lowcc", Body: "x"}},
		Scripts: map[string]string{"postinst": "update-alternatives --install /usr/bin/cc cc /usr/bin/clang 10; update-alternatives --install /bin/low low /bin/lowcc 5\nset -e\nupdate-alternatives --install /usr/bin/thing thing /usr/bin/missing 10\n"},
	}
	out, sum := writeLayer(t, inputs(t, gcc, clang), Options{Config: Config{MergedUsr: true, Effects: Effects{Alternatives: true}}})
	_, m := readTar(t, out)
	link := func(p string) string {
		e, ok := m[p]
		if !ok || e.hdr.Typeflag != tar.TypeSymlink {
			return "(missing)"
		}
		return e.hdr.Linkname
	}
	checks := map[string]string{
		"usr/bin/cc":                      "/etc/alternatives/cc",
		"etc/alternatives/cc":             "/usr/bin/gcc", // 20 beats clang's 10
		"usr/bin/c99":                     "/etc/alternatives/c99",
		"etc/alternatives/c99":            "/usr/bin/c99-gcc",
		"usr/share/man/man1/c99.1.gz":     "/etc/alternatives/c99.1.gz",
		"etc/alternatives/c99.1.gz":       "/usr/share/man/man1/c99-gcc.1.gz",
		"etc/alternatives/low":            "/bin/lowcc",
		"usr/share/man/man1/cc.1.gz":      "(missing)", // commented-out slave
		"etc/alternatives/thing":          "(missing)", // its path does not exist
		"usr/bin/low":                     "/etc/alternatives/low",
		"usr/share/man/man1/c99-gcc.1.gz": "(missing)", // regular file
	}
	for p, want := range checks {
		if got := link(p); got != want {
			t.Errorf("%s -> %s, want %s", p, got, want)
		}
	}
	if got, want := m["var/lib/dpkg/alternatives/cc"].body, "auto\n/usr/bin/cc\n\n/usr/bin/clang\n10\n/usr/bin/gcc\n20\n\n"; got != want {
		t.Errorf("alternatives/cc = %q, want %q", got, want)
	}
	if got, want := m["var/lib/dpkg/alternatives/c99"].body, "auto\n/usr/bin/c99\nc99.1.gz\n/usr/share/man/man1/c99.1.gz\n\n/usr/bin/c99-gcc\n20\n/usr/share/man/man1/c99-gcc.1.gz\n\n"; got != want {
		t.Errorf("alternatives/c99 = %q, want %q", got, want)
	}
	if len(sum.Scripts.Failures) != 1 || !strings.Contains(sum.Scripts.Failures[0], "clang: postinst") || !slices.Contains(sum.Warnings, sum.Scripts.Failures[0]) {
		t.Errorf("failures = %q, warnings = %q", sum.Scripts.Failures, sum.Warnings)
	}
}

// accountDebs are base-passwd (its preinst copies the master files, as the real one writes
// them), passwd (its postinst turns shadow passwords on, as shadowconfig does) and
// base-files (its postinst makes /var/run a symlink to /run).
func accountDebs() []debtest.Deb {
	bp := debtest.Deb{Package: "base-passwd", Version: "3.6.1", Architecture: "amd64", Essential: true,
		Files: []debtest.File{
			{Path: "usr/share/base-passwd/passwd.master", Body: "root:*:0:0:root:/root:/bin/bash\ndaemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"},
			{Path: "usr/share/base-passwd/group.master", Body: "root:*:0:\ndaemon:*:1:\nshadow:*:42:\nsudo:*:27:\n"},
			{Path: "etc/", Dir: true},
		},
		Scripts: map[string]string{"preinst": "set -e\n[ -e /etc/passwd ] || cp /usr/share/base-passwd/passwd.master /etc/passwd\n[ -e /etc/group ] || cp /usr/share/base-passwd/group.master /etc/group\n"}}
	pw := debtest.Deb{Package: "passwd", Version: "1:4.13", Architecture: "amd64", Depends: "base-passwd",
		Files:   []debtest.File{{Path: "usr/sbin/useradd", Body: "elf", Mode: 0o755}},
		Scripts: map[string]string{"postinst": "set -e\npwconv\ngrpconv\nchown root:shadow /etc/shadow /etc/gshadow\nchmod 640 /etc/shadow /etc/gshadow\n"}}
	bf := debtest.Deb{Package: "base-files", Version: "12.4", Architecture: "amd64",
		Files:   []debtest.File{{Path: "var/run/", Dir: true}, {Path: "run/", Dir: true}},
		Scripts: map[string]string{"postinst": "set -e\n[ -L /var/run ] || { rmdir /var/run; ln -s /run /var/run; }\n"}}
	return []debtest.Deb{bp, pw, bf}
}

// TestUsersAndDirs: the image's accounts are created once the account tools are
// configured, as useradd would (system accounts without password aging); directories are
// made through symlinks.
func TestUsersAndDirs(t *testing.T) {
	fx := Effects{
		Users: []User{
			{Name: "postgres", UID: 999, Home: "/var/lib/postgresql", Shell: "/bin/bash", Gecos: "PostgreSQL administrator,,,", CreateHome: true},
			{Name: "circleci", UID: 1000, Home: "/home/circleci", Shell: "/bin/bash", Groups: []string{"sudo"}, CreateHome: true},
		},
		Dirs: []Dir{{Path: "/var/run/postgresql", Mode: 0o2777, Owner: "postgres"}},
	}
	out, sum := writeLayer(t, inputs(t, accountDebs()...), Options{Config: Config{MergedUsr: true, Effects: fx}})
	if len(sum.Warnings) > 0 {
		t.Errorf("warnings %q", sum.Warnings)
	}
	_, m := readTar(t, out)
	if got, want := m["etc/passwd"].body, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\npostgres:x:999:999:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\ncircleci:x:1000:1000::/home/circleci:/bin/bash\n"; got != want {
		t.Errorf("passwd:\n%s\nwant:\n%s", got, want)
	}
	if got, want := m["etc/group"].body, "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nsudo:x:27:circleci\npostgres:x:999:\ncircleci:x:1000:\n"; got != want {
		t.Errorf("group:\n%s\nwant:\n%s", got, want)
	}
	day := "19509" // 2023-06-01
	if got, want := m["etc/shadow"].body, "root:*:"+day+":0:99999:7:::\ndaemon:*:"+day+":0:99999:7:::\npostgres:!:"+day+"::::::\ncircleci:!:"+day+":0:99999:7:::\n"; got != want {
		t.Errorf("shadow:\n%s\nwant:\n%s", got, want)
	}
	if h := m["etc/shadow"].hdr; h.Mode != 0o640 || h.Gid != 42 || h.Gname != "shadow" {
		t.Errorf("shadow mode %o gid %d %s", h.Mode, h.Gid, h.Gname)
	}
	if got := m["etc/gshadow"].body; !strings.Contains(got, "sudo:*::circleci\n") || !strings.Contains(got, "postgres:!::\n") {
		t.Errorf("gshadow:\n%s", got)
	}
	if h := m["run/postgresql"].hdr; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o2777 || h.Uid != 999 || h.Gid != 999 || h.Uname != "postgres" {
		t.Errorf("run/postgresql: %+v", h)
	}
	if h := m["var/run"].hdr; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/run" {
		t.Errorf("var/run: %+v", h)
	}
	if h := m["home/circleci"].hdr; h == nil || h.Uid != 1000 || h.Typeflag != tar.TypeDir {
		t.Errorf("home/circleci: %+v", h)
	}
	// Day 0 is no date: the shadow tools leave the field empty.
	out, _ = writeLayer(t, inputs(t, accountDebs()...), Options{Config: Config{MergedUsr: true, Effects: fx}, SourceDateEpoch: -1})
	if _, m = readTar(t, out); !strings.HasPrefix(m["etc/shadow"].body, "root:*::0:99999:7:::\n") {
		t.Errorf("shadow at epoch 0:\n%s", m["etc/shadow"].body)
	}
	// Unknown owner is an error.
	var buf bytes.Buffer
	_, err := Write(&buf, inputs(t, accountDebs()...), Options{Config: Config{Effects: Effects{Dirs: []Dir{{Path: "/x", Mode: 0o755, Owner: "nobody-here"}}}}, TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "nobody-here") {
		t.Errorf("unknown owner err = %v", err)
	}
}

// testCertPEM is a self-signed certificate for subject cn (deterministic: ed25519).
func testCertPEM(t *testing.T, cn string, seed byte) string {
	t.Helper()
	key := ed25519.NewKeyFromSeed(append(make([]byte, 31), seed))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(seed)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0).UTC(), NotAfter: time.Unix(1<<31, 0).UTC()}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestCACertificates: ca-certificates' postinst writes the configuration and runs
// update-ca-certificates: bundle, PEM links and OpenSSL hash links.
func TestCACertificates(t *testing.T) {
	a, b := testCertPEM(t, "A Root", 1), testCertPEM(t, "B Root", 2)
	ca := debtest.Deb{Package: "ca-certificates", Version: "20230311", Architecture: "all",
		Files: []debtest.File{
			{Path: "usr/share/ca-certificates/mozilla/B_Root.crt", Body: b},
			{Path: "usr/share/ca-certificates/mozilla/A_Root.crt", Body: strings.TrimSuffix(a, "\n")},
			{Path: "etc/ssl/certs/", Dir: true}, {Path: "tmp/", Dir: true},
		},
		Scripts: map[string]string{"postinst": `set -e
if [ ! -e /etc/ca-certificates.conf ]; then
	(cd /usr/share/ca-certificates && find . -type f -name '*.crt' | sed -e 's/^\.\///' | sort) > /etc/ca-certificates.conf
fi
update-ca-certificates --hooksdir ""
`}}
	out, sum := writeLayer(t, inputs(t, ca), Options{Config: Config{Effects: Effects{CACertificates: true}}})
	if len(sum.Warnings) > 0 {
		t.Errorf("warnings %q", sum.Warnings)
	}
	_, m := readTar(t, out)
	if got := m["etc/ssl/certs/ca-certificates.crt"].body; got != a+b {
		t.Errorf("bundle:\n%s", got)
	}
	if got := m["etc/ssl/certs/A_Root.pem"].hdr.Linkname; got != "/usr/share/ca-certificates/mozilla/A_Root.crt" {
		t.Errorf("A_Root.pem -> %q", got)
	}
	if got := m["etc/ca-certificates.conf"].body; got != "mozilla/A_Root.crt\nmozilla/B_Root.crt\n" {
		t.Errorf("ca-certificates.conf:\n%s", got)
	}
	hashLinks := 0
	for p, e := range m {
		if strings.HasPrefix(p, "etc/ssl/certs/") && strings.HasSuffix(p, ".0") && e.hdr.Typeflag == tar.TypeSymlink {
			hashLinks++
		}
	}
	if hashLinks != 2 {
		t.Errorf("%d hash links, want 2", hashLinks)
	}
}

func TestCompressionDeterministic(t *testing.T) {
	for _, c := range []string{"gzip", "zstd"} {
		a, _ := writeLayer(t, inputs(t, coreutils(), libfoo()), Options{Config: Config{MergedUsr: true, Compression: c}})
		b, sum := writeLayerOneCPU(t, inputs(t, libfoo(), coreutils()), Options{Config: Config{MergedUsr: true, Compression: c}})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: outputs differ", c)
		}
		if c == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(a))
			if err != nil {
				t.Fatal(err)
			}
			if zr.Name != "" || zr.ModTime.Unix() != 0 || a[4] != 0 || a[5] != 0 || a[6] != 0 || a[7] != 0 {
				t.Errorf("gzip header has name %q mtime %v", zr.Name, zr.ModTime)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			raw, rawSum := writeLayer(t, inputs(t, coreutils(), libfoo()), Options{Config: Config{MergedUsr: true}})
			if !bytes.Equal(plain, raw) {
				t.Error("gunzipped layer differs from the uncompressed layer")
			}
			if d := sha256.Sum256(raw); sum.DiffID != "sha256:"+hex.EncodeToString(d[:]) || rawSum.DiffID != sum.DiffID {
				t.Errorf("diff_id %s (uncompressed: %s), want the sha256 of the tar %x", sum.DiffID, rawSum.DiffID, d)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, inputs(t, libfoo()), Options{Config: Config{Compression: "lzma"}, TempDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), `unknown compression "lzma"`) {
		t.Errorf("unknown compression: err = %v", err)
	}
}

// A missing file is an error naming it.
func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	_, err := Write(&buf, []string{filepath.Join(dir, "missing.deb")}, Options{TempDir: dir})
	if err == nil || !strings.Contains(err.Error(), "missing.deb") {
		t.Errorf("missing file err = %v", err)
	}
}

func TestDiversions(t *testing.T) {
	common := debtest.Deb{Package: "postgresql-common", Version: "248", Architecture: "all",
		Files: []debtest.File{{Path: "usr/bin/pg_config", Body: "#!/bin/sh\nwrapper\n", Mode: 0o755}},
		Scripts: map[string]string{"preinst": `#!/bin/sh
set -e
case "$1" in
    install|upgrade)
	dpkg-divert --package postgresql-common --rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config
        ;;
    abort-upgrade)
	dpkg-divert --package postgresql-common --divert /usr/bin/never --add /usr/bin/never-a
        ;;
esac
if [ "$1" = upgrade ]; then
	dpkg-divert --add /usr/bin/never-b
elif [ "$1" = install ]; then
	dpkg-divert --quiet \
	    --divert /usr/share/doc/tool.distrib --local /usr/share/doc/tool
else
	dpkg-divert --add --package other --divert=/usr/bin/other.real /usr/bin/other
fi
dpkg-divert --package postgresql-common --remove /usr/bin/old
DIVERSION=$(dpkg-divert --listpackage /usr/bin/pg_config)
dpkg-divert --add --divert "$X.real" /usr/bin/varcall
`}}
	libpq := debtest.Deb{Package: "libpq-dev", Version: "15.5-0", Architecture: "amd64",
		Files: []debtest.File{
			{Path: "usr/bin/pg_config", Body: "#!/usr/bin/perl\nreal\n", Mode: 0o755},
			{Path: "usr/bin/pg_config2", Hardlink: "usr/bin/pg_config"},
			{Path: "usr/bin/never-a", Body: "a"},
			{Path: "usr/bin/never-b", Body: "b"},
			{Path: "usr/bin/other", Body: "other"}, // diverted for every package but "other"
			{Path: "usr/share/doc/tool", Link: "../../bin/pg_config"},
		}}
	out, sum := writeLayer(t, inputs(t, libpq, common), Options{Config: Config{MergedUsr: true}})
	_, m := readTar(t, out)
	want := map[string]string{
		"usr/bin/pg_config":                "#!/bin/sh\nwrapper\n",
		"usr/bin/pg_config.libpq-dev":      "#!/usr/bin/perl\nreal\n",
		"usr/bin/never-a":                  "a",
		"usr/bin/never-b":                  "b",
		"usr/bin/other":                    "other", // the else branch does not run on a first installation
		"var/lib/dpkg/diversions":          "/usr/share/doc/tool\n/usr/share/doc/tool.distrib\n:\n/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n",
		"var/lib/dpkg/info/libpq-dev.list": "/.\n/usr\n/usr/bin\n/usr/bin/pg_config\n/usr/bin/pg_config2\n/usr/bin/never-a\n/usr/bin/never-b\n/usr/bin/other\n/usr/share\n/usr/share/doc\n/usr/share/doc/tool\n",
	}
	for p, body := range want {
		if e, ok := m[p]; !ok || e.body != body {
			t.Errorf("%s = %q, want %q", p, e.body, body)
		}
	}
	for _, p := range []string{"usr/bin/never", "usr/bin/other.real", "usr/share/doc/tool"} {
		if _, ok := m[p]; ok {
			t.Errorf("%s should not exist", p)
		}
	}
	// The hard link follows its diverted target; the relative symlink moved
	// within its directory keeps its target.
	if h := m["usr/bin/pg_config2"].hdr; h.Typeflag != tar.TypeLink || h.Linkname != "usr/bin/pg_config.libpq-dev" {
		t.Errorf("pg_config2: %c -> %s", h.Typeflag, h.Linkname)
	}
	if h := m["usr/share/doc/tool.distrib"].hdr; h.Typeflag != tar.TypeSymlink || h.Linkname != "../../bin/pg_config" {
		t.Errorf("tool.distrib: %+v", h)
	}
	// dpkg-divert refuses the relative target "$X.real" (X is unset): the preinst fails.
	if len(sum.Warnings) != 1 || sum.Warnings[0] != "postgresql-common: preinst install: exit status 2" {
		t.Errorf("warnings = %q", sum.Warnings)
	}

	// Effects.Diversions, and no diversions file without diversions.
	dash := debtest.Deb{Package: "dash", Version: "0.5.12-2", Architecture: "amd64", Files: []debtest.File{{Path: "bin/sh", Link: "dash"}}}
	bash := debtest.Deb{Package: "bash", Version: "5.2", Architecture: "amd64", Files: []debtest.File{{Path: "bin/sh", Link: "bash"}}}
	out, _ = writeLayer(t, inputs(t, dash, bash), Options{Config: Config{MergedUsr: true, Effects: Effects{Diversions: []maintscript.Diversion{{Path: "/bin/sh", DivertTo: "/bin/sh.distrib", Package: "dash"}}}}})
	_, m = readTar(t, out)
	if m["usr/bin/sh"].hdr.Linkname != "dash" || m["usr/bin/sh.distrib"].hdr.Linkname != "bash" {
		t.Errorf("sh -> %q, sh.distrib -> %q", m["usr/bin/sh"].hdr.Linkname, m["usr/bin/sh.distrib"].hdr.Linkname)
	}
	if got := m["var/lib/dpkg/diversions"].body; got != "/bin/sh\n/bin/sh.distrib\ndash\n" {
		t.Errorf("diversions = %q", got)
	}
	out, _ = writeLayer(t, inputs(t, libfoo()), Options{})
	if _, m = readTar(t, out); m["var/lib/dpkg/diversions"].hdr != nil {
		t.Error("diversions file written without diversions")
	}

	// Ask the real dpkg-divert and dpkg-query.
	if _, err := exec.LookPath("dpkg-divert"); err != nil {
		t.Skip("dpkg-divert not on PATH")
	}
	out, _ = writeLayer(t, inputs(t, libpq, common), Options{Config: Config{MergedUsr: true}})
	root := t.TempDir()
	extract(t, out, root)
	admin := filepath.Join(root, "var/lib/dpkg")
	l, err := exec.Command("dpkg-divert", "--admindir", admin, "--list", "/usr/bin/pg_config").CombinedOutput()
	if err != nil || string(l) != "diversion of /usr/bin/pg_config to /usr/bin/pg_config.libpq-dev by postgresql-common\n" {
		t.Errorf("dpkg-divert --list: %v %q", err, l)
	}
	s, err := exec.Command("dpkg-query", "--admindir="+admin, "-S", "/usr/bin/pg_config").CombinedOutput()
	if err != nil || !strings.Contains(string(s), "postgresql-common, libpq-dev: /usr/bin/pg_config\n") {
		t.Errorf("dpkg-query -S: %v\n%s", err, s)
	}
}

// overlay applies the entries of a layer tar onto m (path -> description),
// as a container runtime stacks layers (no whiteouts are expected).
func overlay(t *testing.T, m map[string]string, layer []byte) {
	t.Helper()
	names, entries := readTar(t, layer)
	for _, n := range names {
		if strings.Contains(n, ".wh.") {
			t.Errorf("unexpected whiteout %s", n)
		}
		h := entries[n].hdr
		m[n] = fmt.Sprintf("%c %o %d:%d %s:%s link=%q mtime=%d body=%q", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.Linkname, h.ModTime.Unix(), entries[n].body)
	}
}

func TestInstalled(t *testing.T) {
	bp := debtest.Deb{Package: "base-passwd", Version: "3.6.1", Architecture: "amd64",
		Files: []debtest.File{
			{Path: "usr/share/base-passwd/passwd.master", Body: "root:*:0:0:root:/root:/bin/bash\n"},
			{Path: "usr/share/base-passwd/group.master", Body: "root:*:0:\nshadow:*:42:\n"},
		}}
	ca := debtest.Deb{Package: "ca-certificates", Version: "20230311", Architecture: "all",
		Files: []debtest.File{{Path: "usr/share/ca-certificates/mozilla/A.crt", Body: "A\n"}}}
	libpq := debtest.Deb{Package: "libpq-dev", Version: "15", Architecture: "amd64",
		Files: []debtest.File{{Path: "usr/bin/pg_config", Body: "real", Mode: 0o755}, {Path: "usr/share/doc/libpq-dev/x", Body: "x"}}}
	tool := debtest.Deb{Package: "tool", Version: "1", Architecture: "amd64",
		Files:   []debtest.File{{Path: "usr/bin/tool", Body: "tool"}, {Path: "usr/share/tool/data", Body: "old"}},
		Scripts: map[string]string{"postinst": "update-alternatives --install /usr/bin/editor editor /usr/bin/tool 10\n"},
	}
	base := []debtest.Deb{coreutils(), libfoo(), bp, ca, libpq, tool}

	common := debtest.Deb{Package: "postgresql-common", Version: "248", Architecture: "all",
		Files:   []debtest.File{{Path: "usr/bin/pg_config", Body: "wrapper", Mode: 0o755}},
		Scripts: map[string]string{"preinst": "dpkg-divert --package postgresql-common --rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config\n"},
	}
	newtool := debtest.Deb{Package: "tool-data", Version: "2", Architecture: "all", Replaces: "tool",
		Files: []debtest.File{{Path: "usr/share/tool/data", Body: "new"}, {Path: "usr/share/doc/libpq-dev/y", Body: "y"}}}
	editor := debtest.Deb{Package: "editor", Version: "1", Architecture: "amd64",
		Files:   []debtest.File{{Path: "usr/bin/ed", Body: "ed", Mode: 0o755}, {Path: "lib/x86_64-linux-gnu/libed.so", Body: "so"}},
		Scripts: map[string]string{"postinst": "update-alternatives --install /usr/bin/editor editor /usr/bin/ed 20\n"},
	}
	upper := []debtest.Deb{common, newtool, editor}

	fx := Effects{Alternatives: true, CACertificates: true, Users: []User{{Name: "postgres", UID: 999, Home: "/var/lib/postgresql", CreateHome: true}}}
	opts := Options{Config: Config{MergedUsr: true, Effects: fx}}
	combined, _ := writeLayer(t, inputs(t, append(append([]debtest.Deb{}, base...), upper...)...), opts)
	want := map[string]string{}
	overlay(t, want, combined)

	compare := func(name string, got map[string]string) {
		t.Helper()
		for p, w := range want {
			if g, ok := got[p]; !ok {
				t.Errorf("%s: %s missing", name, p)
			} else if g != w {
				t.Errorf("%s: %s:\n got %s\nwant %s", name, p, g, w)
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("%s: extra %s", name, p)
			}
		}
	}

	// Base layer, then an upper layer that knows the base as Installed.
	baseLayer, _ := writeLayer(t, inputs(t, base...), opts)
	upOpts := opts
	upOpts.Installed = inputs(t, base...)
	upperLayer, sum := writeLayer(t, inputs(t, upper...), upOpts)
	if len(sum.Packages) != 3 || sum.Packages[0].Name != "editor" {
		t.Errorf("upper summary packages = %+v", sum.Packages)
	}
	_, um := readTar(t, upperLayer)
	for _, p := range []string{"usr/bin/ls", "usr/share/tool/data", "usr/share/doc/libpq-dev/y", "usr/bin/pg_config.libpq-dev", "var/lib/dpkg/status"} {
		if _, ok := um[p]; (p == "usr/bin/ls") == ok {
			t.Errorf("upper layer: %s present = %v", p, ok)
		}
	}
	if h := um["usr/share/doc/libpq-dev"].hdr; h == nil || h.Typeflag != tar.TypeDir {
		t.Error("upper layer lacks the parent directory of its new file")
	}
	got := map[string]string{}
	overlay(t, got, baseLayer)
	overlay(t, got, upperLayer)
	compare("base+upper", got)
	if got["var/lib/dpkg/status"] != want["var/lib/dpkg/status"] {
		t.Error("stacked dpkg status differs from the combined one")
	}

	// The other way round: the diverting package below, the diverted above.
	base2 := []debtest.Deb{coreutils(), libfoo(), bp, ca, common, tool}
	upper2 := []debtest.Deb{libpq, newtool, editor}
	o2 := opts
	o2.Installed = inputs(t, base2...)
	b2, _ := writeLayer(t, inputs(t, base2...), opts)
	u2, _ := writeLayer(t, inputs(t, upper2...), o2)
	got = map[string]string{}
	overlay(t, got, b2)
	overlay(t, got, u2)
	compare("base2+upper2", got)

	// A package cannot be both installed and new.
	var buf bytes.Buffer
	_, err := Write(&buf, inputs(t, tool), Options{TempDir: t.TempDir(), Installed: inputs(t, tool)})
	if err == nil || !strings.Contains(err.Error(), "given twice") || !strings.Contains(err.Error(), "installed") {
		t.Errorf("installed and new: err = %v", err)
	}
}

// TestScripts: in a layer above installed packages, the installed packages' scripts run
// again (reading their files from the .deb), a statoverride on a lower directory writes it
// into this layer, the triggers database and statoverride file are written, and commands
// the emulation does not know are summarised per package and script.
func TestScripts(t *testing.T) {
	base := debtest.Deb{Package: "base", Version: "1", Architecture: "amd64",
		Files: []debtest.File{{Path: "usr/share/base/profile", Body: "PATH=/bin\n"}, {Path: "etc/", Dir: true}, {Path: "etc/ssl/private/", Dir: true, Mode: 0o700}},
		Scripts: map[string]string{
			"postinst": "set -e\n[ -f /etc/profile ] || cp -p /usr/share/base/profile /etc/profile\n",
			"triggers": "interest-noawait /usr/share/doc/app\ninterest mytrigger\n"}}
	app := debtest.Deb{Package: "app", Version: "2", Architecture: "amd64", Depends: "base",
		Files:   []debtest.File{{Path: "usr/share/doc/app/README", Body: "x"}, {Path: "usr/bin/tool", Body: "\x7fELF", Mode: 0o755}},
		Scripts: map[string]string{"postinst": "set -e\ndpkg-statoverride --update --add root root 0710 /etc/ssl/private\ntool --setup\n"}}
	fx := Config{MergedUsr: true}
	up, sum := writeLayer(t, inputs(t, app), Options{Config: fx, Installed: inputs(t, base)})
	_, m := readTar(t, up)
	if got := m["etc/profile"].body; got != "PATH=/bin\n" {
		t.Errorf("etc/profile = %q (the installed package's postinst reads its own file)", got)
	}
	if h := m["etc/ssl/private"].hdr; h == nil || h.Mode != 0o710 {
		t.Errorf("etc/ssl/private: %+v", h)
	}
	for p, want := range map[string]string{
		"var/lib/dpkg/statoverride":       "root root 710 /etc/ssl/private\n",
		"var/lib/dpkg/triggers/File":      "/usr/share/doc/app base/noawait\n",
		"var/lib/dpkg/triggers/mytrigger": "base\n",
		"var/lib/dpkg/triggers/Unincorp":  "",
	} {
		if e, ok := m[p]; !ok || e.body != want {
			t.Errorf("%s = %q, want %q", p, e.body, want)
		}
	}
	if !slices.Contains(sum.Warnings, "maintainer-script commands not reproduced: app: postinst: tool") ||
		!reflect.DeepEqual(sum.Scripts.Unknown, []maintscript.Unknown{{Package: "app", Script: "postinst", Command: "tool"}}) {
		t.Errorf("warnings %q, unknown %+v", sum.Warnings, sum.Scripts.Unknown)
	}
	if _, ok := m["usr/share/base/profile"]; ok {
		t.Error("a file of an installed package written again")
	}
}
