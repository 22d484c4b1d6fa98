package debtest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needDpkgDeb(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dpkg-deb")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dpkg-deb not on PATH and CI=true: %v", err)
		}
		t.Skipf("dpkg-deb not on PATH (install dpkg to run this test): %v", err)
	}
	return p
}

func sample(comp string) Deb {
	return Deb{
		Package:      "libfoo1",
		Version:      "1:1.2-3",
		Architecture: "amd64",
		Depends:      "libc6 (>= 2.36)",
		MultiArch:    "same",
		Section:      "libs",
		Priority:     "optional",
		Description:  "foo library\nLong description.\n\nSecond paragraph.",
		Extra:        [][2]string{{"Homepage", "https://example.invalid/"}},
		Files: []File{
			{Path: "usr/lib/x86_64-linux-gnu/libfoo.so.1.2", Body: "ELF-ish\n", Mode: 0o644},
			{Path: "./usr/lib/x86_64-linux-gnu/libfoo.so.1", Link: "libfoo.so.1.2"},
			{Path: "/etc/foo.conf", Body: "x=1\n"},
			{Path: "bin/foo", Body: "#!/bin/sh\necho foo\n", Mode: 0o755},
			{Path: "var/lib/foo", Dir: true, Mode: 0o2775, Uid: 101, Gid: 102, Uname: "foo", Gname: "foo"},
			{Path: "usr/share/doc/libfoo1/" + strings.Repeat("long-name-", 12), Body: "long\n"},
		},
		Scripts: map[string]string{
			"postinst":  "#!/bin/sh\nset -e\nexit 0\n",
			"conffiles": "/etc/foo.conf\n",
			"triggers":  "activate-noawait ldconfig\n",
		},
		Compression: comp,
	}
}

func TestBuildAcceptedByDpkgDeb(t *testing.T) {
	dpkgDeb := needDpkgDeb(t)
	for _, comp := range []string{"", "xz", "gz", "zst", "none"} {
		t.Run("comp="+comp, func(t *testing.T) {
			d := sample(comp)
			b, err := Build(d)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "libfoo1_1.2-3_amd64.deb")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := exec.Command(dpkgDeb, "--info", p).CombinedOutput()
			if err != nil {
				t.Fatalf("dpkg-deb --info: %v\n%s", err, info)
			}
			for _, want := range []string{"Package: libfoo1", "Version: 1:1.2-3", "Multi-Arch: same", "postinst", "conffiles", "md5sums", " .\n"} {
				if !strings.Contains(string(info), want) {
					t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
				}
			}
			contents, err := exec.Command(dpkgDeb, "--contents", p).CombinedOutput()
			if err != nil {
				t.Fatalf("dpkg-deb --contents: %v\n%s", err, contents)
			}
			for _, want := range []string{
				"./usr/lib/x86_64-linux-gnu/libfoo.so.1.2",
				"./usr/lib/x86_64-linux-gnu/libfoo.so.1 -> libfoo.so.1.2",
				"./etc/foo.conf", "./bin/foo", "-rwxr-xr-x root/root",
				"drwxrwsr-x foo/foo", "./var/lib/foo/", " ./usr/\n", " ./usr/lib/\n",
				strings.Repeat("long-name-", 12),
			} {
				if !strings.Contains(string(contents), want) {
					t.Errorf("dpkg-deb --contents lacks %q:\n%s", want, contents)
				}
			}
			// The control file as dpkg-deb sees it equals Control(d).
			field, err := exec.Command(dpkgDeb, "--field", p).CombinedOutput()
			if err != nil {
				t.Fatalf("dpkg-deb --field: %v\n%s", err, field)
			}
			if string(field) != Control(d) {
				t.Errorf("dpkg-deb --field:\n%s\nControl():\n%s", field, Control(d))
			}
			// md5sums correct: extract and verify with md5sum -c.
			dir := t.TempDir()
			if out, err := exec.Command(dpkgDeb, "--extract", p, dir).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb --extract: %v\n%s", err, out)
			}
			ctl := t.TempDir()
			if out, err := exec.Command(dpkgDeb, "--control", p, ctl).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb --control: %v\n%s", err, out)
			}
			if _, err := exec.LookPath("md5sum"); err == nil {
				cmd := exec.Command("md5sum", "-c", filepath.Join(ctl, "md5sums"))
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("md5sum -c: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, err := Build(sample(""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(sample(""))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same Deb differ")
	}
	if !bytes.HasPrefix(a, []byte("!<arch>\ndebian-binary   ")) {
		t.Fatalf("bad ar header: %q", a[:24])
	}
}

func TestRequiredFields(t *testing.T) {
	if _, err := Build(Deb{Package: "x"}); err == nil {
		t.Fatal("expected error for missing Version/Architecture")
	}
	if _, err := Build(Deb{Package: "x", Version: "1", Architecture: "all", Compression: "bz2"}); err == nil {
		t.Fatal("expected error for unknown compression")
	}
}

// A RawName is written as given: no cleaning, no parent directories; its Hardlink too.
func TestRawName(t *testing.T) {
	b, err := Build(Deb{Package: "evil", Version: "1", Architecture: "all", Compression: "none", Files: []File{
		{RawName: "./usr/../../escape", Body: "x"},
		{RawName: "./link", Hardlink: "./usr/../../escape"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The data tar is the last ar member: a 60-byte header, then the uncompressed tar.
	i := bytes.LastIndex(b, []byte("data.tar        "))
	if i < 0 {
		t.Fatal("no data.tar member")
	}
	tr := tar.NewReader(bytes.NewReader(b[i+60:]))
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name+">"+h.Linkname)
	}
	want := []string{"./>", "./usr/../../escape>", "./link>./usr/../../escape"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("members %q, want %q", got, want)
	}
}
