package main

import (
	"archive/tar"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/image"
)

// probeLayout writes an OCI layout whose only file is the runner tests' static probe at
// /bin/probe (tools/runner/testdata/probe: built by Bazel, IMAGETOOL_TEST_PROBE_BIN, or here).
func probeLayout(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("IMAGETOOL_TEST_PROBE_BIN")
	if bin != "" {
		bin = filepath.Join(os.Getenv("TEST_SRCDIR"), bin)
	} else {
		bin = filepath.Join(t.TempDir(), "probe")
		cmd := exec.Command("go", "build", "-o", bin, "../../runner/testdata/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build probe: %v\n%s", err, out)
		}
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	layer := filepath.Join(dir, "layer.tar")
	f, err := os.Create(layer)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/probe", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))})
	tw.Write(body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "oci")
	if _, err := image.Write(context.Background(), out, image.Options{Layers: []image.Layer{{Path: layer}}, Config: image.Config{Env: []string{"PATH=/bin"}}}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRun runs imagetool run as a process: the command's output and exit code are imagetool's,
// inputs and environment reach it, and a failure ends with the command's last lines.
func TestRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPING: imagetool run is tested as root here; tools/runner tests the unprivileged path")
	}
	layout := probeLayout(t)
	in := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(in, []byte("declared input\n"), 0o644)

	r := runImagetool(t, "run", "-image", layout, "-input", in+"=/in/file", "--", "probe", "cat", "/in/file")
	if r.code != 0 || r.stdout != "declared input\n" {
		t.Errorf("cat an input: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runImagetool(t, "run", "-image", layout, "-env", "GREETING=hello", "-workdir", "/bin", "--", "probe", "env")
	if r.code != 0 || !strings.Contains(r.stdout, "GREETING=hello\n") || !strings.Contains(r.stdout, "PATH=/bin\n") {
		t.Errorf("env: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runImagetool(t, "run", "-image", layout, "--", "probe", "exit", "3")
	if r.code != 3 || r.lastLine() != "exiting with 3" || !strings.Contains(r.stderr, "imagetool run: the command exited with code 3; its last lines of output:\nline 12\n") {
		t.Errorf("exit 3: code %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"run", "--", "probe"}, {"run", "-image", layout, "-input", "nodest", "--", "probe"}, {"run", "-image", layout, "-env", "NOVALUE", "--", "probe"}} {
		if r := runImagetool(t, args...); r.code != 2 {
			t.Errorf("%q: code %d, want 2 (usage); stderr %q", args, r.code, r.stderr)
		}
	}
}
