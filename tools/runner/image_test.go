package runner

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entry is one tar entry of a test layer.
type entry struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     string
	link     string
}

func dir(name string, mode int64) entry { return entry{name: name, typ: tar.TypeDir, mode: mode} }
func file(name string, mode int64, body string) entry {
	return entry{name: name, typ: tar.TypeReg, mode: mode, body: body}
}

// tarLayer is an uncompressed layer holding es in order.
func tarLayer(t *testing.T, es ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testImage is a two-layer image with the probe at /bin/probe: users and groups, an owned
// file, a setuid file, a read-only directory, and a second layer that deletes a file (whiteout),
// replaces a directory's contents (opaque whiteout), hard-links a file of the first layer and
// adds a symbolic link.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	probe, err := os.ReadFile(buildProbe(t))
	if err != nil {
		t.Fatal(err)
	}
	lower := tarLayer(t,
		dir("bin", 0o755), file("bin/probe", 0o755, string(probe)),
		dir("etc", 0o755),
		file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\ntester:x:1234:1234:Tester:/home/tester:/bin/sh\n"),
		file("etc/group", 0o644, "root:x:0:\ntester:x:1234:\nextra:x:4321:tester\n"),
		dir("data", 0o755),
		entry{name: "data/owned", typ: tar.TypeReg, mode: 0o640, uid: 1234, gid: 1234, body: "owned"},
		file("data/setuid", 0o4755, "x"),
		file("removed", 0o644, "gone"),
		dir("opq", 0o755), file("opq/old", 0o644, "old"),
		dir("ro", 0o555), file("ro/file", 0o444, "read-only"),
		dir("tmp", 0o1777),
	)
	upper := tarLayer(t,
		file(".wh.removed", 0o644, ""),
		dir("opq", 0o755), file("opq/.wh..wh..opq", 0o644, ""), file("opq/new", 0o644, "new"),
		entry{name: "data/link", typ: tar.TypeLink, link: "data/owned"},
		entry{name: "lib", typ: tar.TypeSymlink, link: "bin", mode: 0o777},
	)
	img, err := mutate.AppendLayers(empty.Image, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{
		Env:        []string{"PATH=/bin", "FOO=bar"},
		WorkingDir: "/data",
		User:       "tester",
		Cmd:        []string{"/bin/probe", "id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// buildProbe returns the static probe program of testdata/probe: built by Bazel
// (RUNNER_TEST_PROBE_BIN, a runfiles location under TEST_SRCDIR, or an absolute path) or here
// with the go command.
func buildProbe(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RUNNER_TEST_PROBE_BIN"); p != "" {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(os.Getenv("TEST_SRCDIR"), p)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "probe", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out := filepath.Join(dir, "probe")
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build probe: %v\n%s", err, b)
	}
	return out
}
