package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/ci-images/ci-images/tools/internal/debtest"
	"github.com/ci-images/ci-images/tools/layer"
	"github.com/ci-images/ci-images/tools/pgzip"
)

const helloOutput = "hello from a reproducible layer"

// buildHello returns a static Go program printing helloOutput: testdata/hello, built by Bazel
// (IMAGE_TEST_HELLO_BIN, a runfiles location under TEST_SRCDIR) or here with the go command.
func buildHello(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IMAGE_TEST_HELLO_BIN"); p != "" {
		return filepath.Join(os.Getenv("TEST_SRCDIR"), p)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "hello", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hello: %v\n%s", err, b)
	}
	return out
}

// helloLayer builds a deb holding the binary and turns it into a plain
// layer tar with tools/layer.
func helloLayer(t *testing.T, bin, dir string, epoch int64) string {
	t.Helper()
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	deb, err := debtest.Build(debtest.Deb{Package: "hello", Version: "1.0", Architecture: "amd64",
		Files: []debtest.File{{Path: "usr/bin/hello", Body: string(body), Mode: 0o755}}})
	if err != nil {
		t.Fatal(err)
	}
	debPath := filepath.Join(dir, "hello_1.0_amd64.deb")
	if err := os.WriteFile(debPath, deb, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "hello.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := layer.Write(f, []string{debPath}, layer.Options{Config: layer.Config{MergedUsr: true}, SourceDateEpoch: epoch, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	return p
}

func helloOptions(layerPath string, epoch int64) Options {
	return Options{
		Layers: []Layer{{Path: layerPath}},
		Config: Config{
			Env:         []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"},
			Entrypoint:  []string{"/usr/bin/hello"},
			User:        "0",
			WorkingDir:  "/",
			Labels:      map[string]string{"org.opencontainers.image.source": "https://example.invalid/ci-images"},
			Annotations: map[string]string{"org.opencontainers.image.title": "hello"},
		},
		SourceDateEpoch: epoch,
	}
}

// configOf returns the config file of the single image in a layout.
func configOf(t *testing.T, dir string) *v1.ConfigFile {
	t.Helper()
	img, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// gzipFile compresses the file at src into dst with tools/pgzip.
func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := pgzip.NewWriter(f)
	if _, err := zw.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestChildBuild is run by TestReproducible in a subprocess with a given
// TZ and umask; it is skipped otherwise.
func TestChildBuild(t *testing.T) {
	if os.Getenv("IMAGE_TEST_CHILD") != "1" {
		t.Skip("helper for TestReproducible")
	}
	umask, _ := strconv.ParseInt(os.Getenv("IMAGE_TEST_UMASK"), 8, 32)
	syscall.Umask(int(umask))
	work := os.Getenv("IMAGE_TEST_DIR")
	lay := helloLayer(t, os.Getenv("IMAGE_TEST_BIN"), work, 1700000000)
	h, err := Write(t.Context(), filepath.Join(work, "oci"), helloOptions(lay, 1700000000))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("DIGEST=%s\n", h)
}

func TestReproducible(t *testing.T) {
	bin := buildHello(t)
	var digests []string
	var indexes [][]byte
	for _, env := range [][2]string{{"UTC", "022"}, {"Pacific/Chatham", "077"}} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildBuild$", "-test.v")
		cmd.Env = append(os.Environ(), "IMAGE_TEST_CHILD=1", "TZ="+env[0], "IMAGE_TEST_UMASK="+env[1], "IMAGE_TEST_DIR="+dir, "IMAGE_TEST_BIN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child (TZ=%s umask %s): %v\n%s", env[0], env[1], err, out)
		}
		i := strings.Index(string(out), "DIGEST=")
		if i < 0 {
			t.Fatalf("child printed no digest:\n%s", out)
		}
		d := strings.Fields(string(out[i+len("DIGEST="):]))[0]
		digests = append(digests, d)
		idx, err := os.ReadFile(filepath.Join(dir, "oci", "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, idx)
		checkLayout(t, filepath.Join(dir, "oci"), d)
	}
	if digests[0] != digests[1] {
		t.Fatalf("digests differ across TZ/umask: %s vs %s", digests[0], digests[1])
	}
	if !bytes.Equal(indexes[0], indexes[1]) {
		t.Fatalf("index.json differs:\n%s\n%s", indexes[0], indexes[1])
	}
	t.Logf("manifest digest %s", digests[0])
}

// checkLayout verifies the layout on disk: one manifest, the digest is the
// sha256 of the manifest blob, timestamps are the epoch.
func checkLayout(t *testing.T, dir, digest string) {
	t.Helper()
	var idx struct {
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != digest || idx.Manifests[0].MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("index.json = %s", b)
	}
	m, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(m)
	if "sha256:"+hex.EncodeToString(sum[:]) != digest {
		t.Fatal("manifest blob does not hash to the digest")
	}
	var man struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(m, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Layers) != 1 || man.Layers[0].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Errorf("layers = %+v", man.Layers)
	}
	if man.Annotations["org.opencontainers.image.title"] != "hello" {
		t.Errorf("manifest annotations = %v", man.Annotations)
	}
	cfg := configOf(t, dir)
	// Layer blobs hash to their digests, and their uncompressed content to the diff_ids.
	for i, l := range man.Layers {
		blob, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(blob); "sha256:"+hex.EncodeToString(sum[:]) != l.Digest || int64(len(blob)) != l.Size {
			t.Errorf("layer %d blob does not match digest/size", i)
		}
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(plain); "sha256:"+hex.EncodeToString(sum[:]) != cfg.RootFS.DiffIDs[i].String() {
			t.Errorf("layer %d diff_id mismatch", i)
		}
	}
	want := time.Unix(1700000000, 0)
	if !cfg.Created.Time.Equal(want) || cfg.Created.Location() != time.UTC {
		t.Errorf("created = %v", cfg.Created)
	}
	if len(cfg.History) != 1 || !cfg.History[0].Created.Equal(want) || cfg.History[0].CreatedBy != "imagetool layer hello.tar" {
		t.Errorf("history = %+v", cfg.History)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || cfg.Config.Entrypoint[0] != "/usr/bin/hello" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestBaseAndConfigMerge(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-bin")
	os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755)
	lay := helloLayer(t, bin, dir, 0)
	base := filepath.Join(dir, "base")
	o := helloOptions(lay, 0)
	if _, err := Write(t.Context(), base, o); err != nil {
		t.Fatal(err)
	}
	// The same layer, compressed beforehand, is used as-is.
	gz := filepath.Join(dir, "hello.tar.gz")
	gzipFile(t, lay, gz)
	top := filepath.Join(dir, "top")
	h, err := Write(t.Context(), top, Options{Base: base, Layers: []Layer{{Path: gz}},
		Config: Config{Env: []string{"LANG=en_US.UTF-8", "PGDATA=/var/lib/postgresql/data"}, Cmd: []string{"postgres"}, Labels: map[string]string{"x": "y"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := configOf(t, top)
	if got := strings.Join(cfg.Config.Env, " "); got != "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=en_US.UTF-8 PGDATA=/var/lib/postgresql/data" {
		t.Errorf("env = %s", got)
	}
	if cfg.Config.Entrypoint[0] != "/usr/bin/hello" || cfg.Config.Cmd[0] != "postgres" || cfg.Config.Labels["x"] != "y" || cfg.Config.Labels["org.opencontainers.image.source"] == "" {
		t.Errorf("config = %+v", cfg.Config)
	}
	if len(cfg.RootFS.DiffIDs) != 2 || cfg.RootFS.DiffIDs[0] != cfg.RootFS.DiffIDs[1] {
		t.Errorf("diff ids = %v (same layer content twice expected)", cfg.RootFS.DiffIDs)
	}
	if len(cfg.History) != 2 || cfg.History[1].CreatedBy != "imagetool layer hello.tar.gz" || !cfg.Created.Equal(time.Unix(0, 0)) {
		t.Errorf("history = %+v created %v", cfg.History, cfg.Created)
	}
	if d, err := Digest(top); err != nil || d != h {
		t.Errorf("Digest(top) = %v, %v; want %v", d, err, h)
	}
	// Parents of the output are created.
	if _, err := Write(t.Context(), filepath.Join(dir, "a", "b", "oci"), Options{Base: base}); err != nil {
		t.Errorf("output in new directories: %v", err)
	}
	// Writing over an existing layout replaces it: only the new image's blobs are left.
	h2, err := Write(t.Context(), top, Options{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Digest(top); err != nil || d != h2 || h2 == h {
		t.Errorf("rewritten layout: digest %v, %v; want %v (not %v)", d, err, h2, h)
	}
	if blobs, _ := os.ReadDir(filepath.Join(top, "blobs", "sha256")); len(blobs) != 3 {
		t.Errorf("rewritten layout holds %d blobs, want 3 (one layer, config, manifest)", len(blobs))
	}
}

func TestLoadAndRun(t *testing.T) {
	sock := "/var/run/docker.sock"
	if _, err := os.Stat(sock); err != nil && os.Getenv("DOCKER_HOST") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Docker engine (%s missing) and CI=true", sock)
		}
		t.Skipf("no Docker engine: %s missing and DOCKER_HOST unset", sock)
	}
	docker, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker CLI not on PATH and CI=true")
		}
		t.Skip("docker CLI not on PATH")
	}
	dir := t.TempDir()
	lay := helloLayer(t, buildHello(t), dir, 1700000000)
	oci := filepath.Join(dir, "oci")
	h, err := Write(t.Context(), oci, helloOptions(lay, 1700000000))
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("ci-images-test/hello:%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := Load(ctx, oci, []string{tag, tag + "-second"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(docker, "rmi", "-f", tag, tag+"-second").Run() })
	out, err := exec.CommandContext(ctx, docker, "run", "--rm", tag+"-second").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != helloOutput {
		t.Fatalf("docker run printed %q", out)
	}
	id, err := exec.Command(docker, "image", "inspect", "-f", "{{.Id}}", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	cfgName, _ := configDigest(oci)
	if got := strings.TrimSpace(string(id)); got != h.String() && got != cfgName {
		t.Errorf("docker image id %s is neither the manifest digest %s nor the config digest %s", got, h, cfgName)
	}
}

func configDigest(dir string) (string, error) {
	img, err := ReadLayout(dir)
	if err != nil {
		return "", err
	}
	n, err := img.ConfigName()
	return n.String(), err
}

// Sandboxed build actions see a base layout whose files are symlinks (Bazel's sandboxes); the
// layout is read from the real directory of its index.json.
// The result must equal building on the real layout.
func TestSymlinkedBase(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-bin")
	os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755)
	lay := helloLayer(t, bin, dir, 0)
	base := filepath.Join(dir, "base")
	if _, err := Write(t.Context(), base, helloOptions(lay, 0)); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked")
	err := filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(linked, rel), 0o755)
		}
		return os.Symlink(p, filepath.Join(linked, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	want, err := Write(t.Context(), filepath.Join(dir, "top1"), Options{Base: base, Layers: []Layer{{Path: lay}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Write(t.Context(), filepath.Join(dir, "top2"), Options{Base: linked, Layers: []Layer{{Path: lay}}, TempDir: tmp})
	if err != nil {
		t.Fatalf("symlinked base: %v", err)
	}
	if got != want {
		t.Errorf("digest on a symlinked base = %s, want %s", got, want)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// A gzip layer given with the diff_id its writer recorded gives the same image as one whose
// diff_id is computed here; a wrong diff_id is an error.
func TestKnownDiffID(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-bin")
	os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755)
	lay := helloLayer(t, bin, dir, 0)
	plain, err := os.ReadFile(lay)
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "hello.tar.gz")
	gzipFile(t, lay, gz)
	sum := sha256.Sum256(plain)
	want, err := Write(t.Context(), filepath.Join(dir, "a"), Options{Layers: []Layer{{Path: gz}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Write(t.Context(), filepath.Join(dir, "b"), Options{Layers: []Layer{{Path: gz, DiffID: "sha256:" + hex.EncodeToString(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("with recorded diff_id: %s, want %s", got, want)
	}
	_, err = Write(t.Context(), filepath.Join(dir, "c"), Options{Layers: []Layer{{Path: gz, DiffID: "sha256:" + strings.Repeat("0", 64)}}})
	if err == nil || !strings.Contains(err.Error(), "recorded diff_id sha256:000") {
		t.Errorf("a wrong diff_id: err = %v", err)
	}
	if _, err := Write(t.Context(), filepath.Join(dir, "d"), Options{Layers: []Layer{{Path: gz, DiffID: "md5:xyz"}}}); err == nil {
		t.Error("a malformed diff_id was accepted")
	}
}

// ReadLayout takes an index.json listing the image, or an index holding it, and nothing else.
func TestReadLayout(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-bin")
	os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755)
	lay := helloLayer(t, bin, dir, 0)
	h, err := Write(t.Context(), filepath.Join(dir, "flat"), helloOptions(lay, 0))
	if err != nil {
		t.Fatal(err)
	}
	img, err := ReadLayout(filepath.Join(dir, "flat"))
	if err != nil {
		t.Fatal(err)
	}
	inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	if _, err := layout.Write(filepath.Join(dir, "nested"), mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})); err != nil {
		t.Fatal(err)
	}
	if d, err := Digest(filepath.Join(dir, "nested")); err != nil || d != h {
		t.Errorf("nested index: digest %v, %v; want %v", d, err, h)
	}
	two := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img}, mutate.IndexAddendum{Add: img})
	if _, err := layout.Write(filepath.Join(dir, "two"), two); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLayout(filepath.Join(dir, "two")); err == nil || !strings.Contains(err.Error(), "2 manifests") {
		t.Errorf("two manifests: err = %v", err)
	}
}
