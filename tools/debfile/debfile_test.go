package debfile

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

func sample(comp string) debtest.Deb {
	return debtest.Deb{
		Package: "libfoo1", Version: "1:1.2-3", Architecture: "amd64", MultiArch: "same",
		Description: "foo\nlong text",
		Files: []debtest.File{
			{Path: "etc/foo.conf", Body: "x=1\n"},
			{Path: "usr/bin/foo", Body: "bin", Mode: 0o755},
			{Path: "usr/bin/bar", Link: "foo"},
		},
		Scripts:     map[string]string{"postinst": "#!/bin/sh\n", "conffiles": "/etc/foo.conf\n"},
		Compression: comp,
	}
}

func names(t *testing.T, d *Deb) []string {
	t.Helper()
	tr, c, err := d.Data()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
		if h.Name == "./usr/bin/foo" {
			b, _ := io.ReadAll(tr)
			if string(b) != "bin" {
				t.Errorf("body of foo = %q", b)
			}
		}
	}
	return out
}

func TestOpenDebtest(t *testing.T) {
	for _, comp := range []string{"xz", "gz", "zst", "none"} {
		t.Run(comp, func(t *testing.T) {
			b, err := debtest.Build(sample(comp))
			if err != nil {
				t.Fatal(err)
			}
			d, err := OpenNamed("libfoo1.deb", bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if d.Package != "libfoo1" || d.Version != "1:1.2-3" || d.Architecture != "amd64" || d.MultiArch != "same" {
				t.Errorf("parsed %q %q %q %q", d.Package, d.Version, d.Architecture, d.MultiArch)
			}
			if got := d.Paragraph.String(); got != debtest.Control(sample(comp)) {
				t.Errorf("Paragraph = %q", got)
			}
			if got := d.Field("description"); got != "foo\nlong text" {
				t.Errorf("Description = %q", got)
			}
			if n := d.Paragraph.Fields[0].Name; n != "Package" || len(d.Paragraph.Fields) < 5 {
				t.Errorf("Paragraph = %v", d.Paragraph)
			}
			if string(d.Members["postinst"]) != "#!/bin/sh\n" || d.Modes["postinst"] != 0o755 {
				t.Errorf("postinst = %q mode %o", d.Members["postinst"], d.Modes["postinst"])
			}
			if got := d.Conffiles(); len(got) != 1 || got[0] != "/etc/foo.conf" {
				t.Errorf("Conffiles = %q", got)
			}
			if got := string(d.Members["md5sums"]); !strings.Contains(got, "c1111bd512b29e821b120b86446026b8  usr/bin/foo\n") { // md5("bin")
				t.Errorf("md5sums = %q", got)
			}
			want := "./ ./etc/ ./etc/foo.conf ./usr/ ./usr/bin/ ./usr/bin/foo ./usr/bin/bar"
			if got := strings.Join(names(t, d), " "); got != want {
				t.Errorf("data entries:\n got %s\nwant %s", got, want)
			}
			// Data can be read again.
			if got := strings.Join(names(t, d), " "); got != want {
				t.Errorf("second Data(): %s", got)
			}
		})
	}
}

// Packages built by the real dpkg-deb, with each compressor it offers.
func TestOpenDpkgDebBuilt(t *testing.T) {
	dpkgDeb, err := exec.LookPath("dpkg-deb")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dpkg-deb not on PATH and CI=true")
		}
		t.Skip("dpkg-deb not on PATH; install dpkg to run this test")
	}
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "usr/share/hello"), 0o755))
	must(os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: hello\nVersion: 2.10-3\nArchitecture: all\nMaintainer: X <x@example.invalid>\nDescription: hi\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "DEBIAN/postinst"), []byte("#!/bin/sh\nexit 0\n"), 0o755))
	must(os.WriteFile(filepath.Join(root, "usr/share/hello/greeting"), []byte("hello\n"), 0o644))
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		out := filepath.Join(t.TempDir(), "hello_2.10-3_all.deb")
		cmd := exec.Command(dpkgDeb, "--root-owner-group", "-Z"+z, "--build", root, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -Z%s --build: %v\n%s", z, err, b)
		}
		d, err := OpenFile(out)
		if err != nil {
			t.Fatalf("-Z%s: %v", z, err)
		}
		if d.Package != "hello" || d.Version != "2.10-3" || d.Architecture != "all" {
			t.Errorf("-Z%s: parsed %q %q %q", z, d.Package, d.Version, d.Architecture)
		}
		if string(d.Members["postinst"]) != "#!/bin/sh\nexit 0\n" {
			t.Errorf("-Z%s: postinst %q", z, d.Members["postinst"])
		}
		tr, c, err := d.Data()
		must(err)
		found := false
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			must(err)
			if h.Name == "./usr/share/hello/greeting" && h.Typeflag == tar.TypeReg {
				b, _ := io.ReadAll(tr)
				found = string(b) == "hello\n"
			}
		}
		c.Close()
		d.Close()
		if !found {
			t.Errorf("-Z%s: greeting not found in data tar", z)
		}
	}
}

func TestErrorsNameFileAndMember(t *testing.T) {
	b, err := debtest.Build(sample("xz"))
	if err != nil {
		t.Fatal(err)
	}
	// Rename the data member to data.tar.bz2 in the ar header.
	i := bytes.Index(b, []byte("data.tar.xz     "))
	if i < 0 {
		t.Fatal("data member header not found")
	}
	copy(b[i:], "data.tar.bz2    ")
	_, err = OpenNamed("libfoo_1.0_amd64.deb", bytes.NewReader(b), int64(len(b)))
	if err == nil || err.Error() != "libfoo_1.0_amd64.deb: data.tar.bz2: unsupported compression" {
		t.Fatalf("err = %v", err)
	}

	// A control file deb822 rejects (here a duplicate field) names the file and the line.
	bad := sample("xz")
	bad.Extra = [][2]string{{"Version", "2"}}
	if b, err = debtest.Build(bad); err != nil {
		t.Fatal(err)
	}
	_, err = OpenNamed("libfoo_1.0_amd64.deb", bytes.NewReader(b), int64(len(b)))
	if err == nil || !strings.HasPrefix(err.Error(), "libfoo_1.0_amd64.deb: control.tar.gz: control: deb822: line ") || !strings.Contains(err.Error(), "duplicate field") {
		t.Fatalf("duplicate field err = %v", err)
	}

	if _, err := OpenNamed("x.deb", strings.NewReader("hello world"), 11); err == nil || !strings.HasPrefix(err.Error(), "x.deb: ") {
		t.Fatalf("not-a-deb err = %v", err)
	}

	// Corrupt xz stream: error at read time names the file and member.
	b, _ = debtest.Build(sample("xz"))
	j := bytes.Index(b, []byte("data.tar.xz"))
	for k := j + 60 + 40; k < len(b)-40; k++ {
		b[k] ^= 0xff
	}
	d, err := OpenNamed("libfoo_1.0_amd64.deb", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	tr, c, err := d.Data()
	if err == nil {
		defer c.Close()
		for err == nil {
			_, err = tr.Next()
		}
	}
	if err == io.EOF || !strings.Contains(err.Error(), "libfoo_1.0_amd64.deb: data.tar.xz") {
		t.Fatalf("corrupt data err = %v", err)
	}
}

func TestExternalXZ(t *testing.T) {
	xzPath, err := exec.LookPath("xz")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xz not on PATH and CI=true")
		}
		t.Skip("xz not on PATH; install xz-utils to run this test")
	}
	b, err := debtest.Build(sample("xz"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := OpenNamed("libfoo1.deb", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	d.XZCommand = xzPath
	want := "./ ./etc/ ./etc/foo.conf ./usr/ ./usr/bin/ ./usr/bin/foo ./usr/bin/bar"
	if got := strings.Join(names(t, d), " "); got != want {
		t.Errorf("entries via %s: %s", xzPath, got)
	}
	// Early close kills the process without error.
	_, c, err := d.Data()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A corrupt stream is reported with the file and member name.
	j := bytes.Index(b, []byte("data.tar.xz"))
	for k := j + 60 + 40; k < len(b)-40; k++ {
		b[k] ^= 0xff
	}
	d, err = OpenNamed("bad_1_all.deb", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	d.XZCommand = xzPath
	tr, c, err := d.Data()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for err == nil {
		_, err = tr.Next()
	}
	if err == io.EOF || !strings.Contains(err.Error(), "bad_1_all.deb: data.tar.xz") {
		t.Fatalf("err = %v", err)
	}
}
