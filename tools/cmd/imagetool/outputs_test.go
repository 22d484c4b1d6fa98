package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// snapshot returns the sha256 of every regular file under dir and the target of every
// symlink, by slash-separated relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[filepath.ToSlash(rel)] = "-> " + target
			return err
		}
		b, err := os.ReadFile(p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffSnapshots describes how after differs from before ("" if it does not).
func diffSnapshots(before, after map[string]string) string {
	var d []string
	for k, v := range after {
		if before[k] != v {
			d = append(d, "changed or new: "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			d = append(d, "gone: "+k)
		}
	}
	return strings.Join(d, ", ")
}

// fixture is a directory holding the configurations (layer.json as images/defs.bzl's base
// layer, plain.json without effects, bogus.json with an unknown compression, image.json), a
// previous good output of each kind: layer.tar.gz with layer.diffid, and the layout oci with
// oci.digest; and an empty directory, new.
type fixture struct {
	dir  string
	base []string // .deb files
	good string   // a copy of dir as newFixture left it
}

func (f *fixture) path(p string) string { return filepath.Join(f.dir, p) }

// newFixture builds the goldenBase packages and runs layer and image once, as the rules do.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.base = writeDebs(t, filepath.Join(t.TempDir(), "debs"), goldenBase())
	writeFile(t, f.path("layer.json"), goldenBaseLayer)
	writeFile(t, f.path("bogus.json"), strings.Replace(goldenBaseLayer, `"gzip"`, `"bogus"`, 1))
	writeFile(t, f.path("plain.json"), goldenNoDBLayer)
	writeFile(t, f.path("image.json"), goldenBaseImage)
	if err := os.Mkdir(f.path("new"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runImagetool(t, f.layerArgs("layer.json", 0, f.base...)...); r.code != 0 {
		t.Fatalf("layer: exit %d\n%s", r.code, r.stderr)
	}
	if r := runImagetool(t, f.imageArgs(0, "", f.path("layer.tar.gz")+"="+f.path("layer.diffid"))...); r.code != 0 {
		t.Fatalf("image: exit %d\n%s", r.code, r.stderr)
	}
	f.good = t.TempDir()
	copyDir(t, f.dir, f.good)
	return f
}

// reset puts the directory back as newFixture left it.
func (f *fixture) reset(t *testing.T) {
	t.Helper()
	if err := os.RemoveAll(f.dir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, f.good, f.dir)
}

// layerArgs are the arguments of `imagetool layer` writing layer.tar.gz and layer.diffid
// from debs.
func (f *fixture) layerArgs(config string, epoch int, debs ...string) []string {
	args := []string{"layer", "-out", f.path("layer.tar.gz"), "-diffid", f.path("layer.diffid"), "-config", f.path(config), "-epoch", fmt.Sprint(epoch)}
	return append(args, debs...)
}

// imageArgs are the arguments of `imagetool image` writing oci and oci.digest.
func (f *fixture) imageArgs(epoch int, base string, layers ...string) []string {
	return f.imageArgsTo("oci", epoch, base, layers...)
}

// imageArgsTo are the arguments of `imagetool image` writing the layout out and out.digest.
func (f *fixture) imageArgsTo(out string, epoch int, base string, layers ...string) []string {
	args := []string{"image", "-out", f.path(out), "-digest", f.path(out + ".digest"), "-config", f.path("image.json"), "-epoch", fmt.Sprint(epoch)}
	if base != "" {
		args = append(args, "-base", base)
	}
	for _, l := range layers {
		args = append(args, "-layer", l)
	}
	return args
}

// copyDir copies the tree src to dst (files only, writable).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// layoutManifest is what the tests read of an image manifest.
type layoutManifest struct {
	Digest string `json:"-"` // of the manifest itself, from index.json
	Config struct{ Digest string }
	Layers []struct{ Digest string }
}

// layoutBlobs returns the manifest of the single image of a layout and the path of a blob.
func layoutBlobs(t *testing.T, dir string) (layoutManifest, func(digest string) string) {
	t.Helper()
	blob := func(d string) string { return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")) }
	var idx struct{ Manifests []struct{ Digest string } }
	var m layoutManifest
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err == nil {
		m.Digest = idx.Manifests[0].Digest
		b, err = os.ReadFile(blob(m.Digest))
	}
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, blob
}

// gzipBytes is the gzip of b.
func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomBytes returns n pseudo-random bytes (the same every run).
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(12, 34))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// A failed `imagetool layer` leaves the previous layer file and diff_id as they were, and no
// temporary file: also for a configuration refused before anything is read. Package paths
// follow the rule of tools/layer ("Paths and symbolic links").
func TestLayerOutputs(t *testing.T) {
	f := newFixture(t)
	evil := func(files ...debtest.File) string {
		return writeDebs(t, t.TempDir(), []debtest.Deb{{Package: "evil", Version: "1", Architecture: "all", Files: files}})[0]
	}
	dotdot := evil(debtest.File{RawName: "./usr/../../etc/cron.d/evil", Body: "* * * * * root sh\n"})
	climbing := evil(debtest.File{Path: "usr/lib/evil/up", Link: "../../../../etc/shadow"})
	for _, tc := range []struct {
		name string
		args []string
		code int
		// first is the first line of stderr.
		first string
		// changed: layer.tar.gz and layer.diffid are new.
		changed bool
	}{
		{name: "unknown compression", args: f.layerArgs("bogus.json", 1, f.base...), code: 1,
			first: `imagetool layer: layer config ` + f.path("bogus.json") + `: unknown compression "bogus" (want none, gzip or zstd)`},
		{name: "missing package", args: f.layerArgs("layer.json", 1, append([]string{f.path("missing.deb")}, f.base...)...), code: 1,
			first: `imagetool layer: layer: open deb: open ` + f.path("missing.deb") + `: no such file or directory`},
		{name: "dot-dot member name", args: f.layerArgs("layer.json", 1, append([]string{dotdot}, f.base...)...), code: 1,
			first: `imagetool layer: layer: evil_1_all.deb: data.tar.xz: package evil: ./usr/../../etc/cron.d/evil: path with a ".." component (refused: dpkg would write it outside its root)`},
		{name: "symlink climbing above the root: a warning", args: f.layerArgs("plain.json", 1, climbing), changed: true,
			first: `imagetool layer: warning: evil: /usr/lib/evil/up: symlink target ../../../../etc/shadow climbs above the root (kept as shipped; in the image it resolves to /etc/shadow)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.reset(t)
			before := snapshot(t, f.dir)
			r := runImagetool(t, tc.args...)
			if r.code != tc.code || r.firstLine() != tc.first {
				t.Errorf("exit %d, first line of stderr\n%s\nwant exit %d and\n%s", r.code, r.firstLine(), tc.code, tc.first)
			}
			after := snapshot(t, f.dir)
			if tc.changed {
				if after["layer.tar.gz"] == before["layer.tar.gz"] || after["layer.diffid"] == before["layer.diffid"] {
					t.Errorf("layer.tar.gz or layer.diffid not replaced")
				}
				maps.Copy(before, map[string]string{"layer.tar.gz": after["layer.tar.gz"], "layer.diffid": after["layer.diffid"]})
			}
			if d := diffSnapshots(before, after); d != "" {
				t.Errorf("files: %s", d)
			}
		})
	}
}

// `imagetool image` verifies every blob it reads or writes; a failure leaves the previous
// layout and digest as they were, and no temporary file or directory.
func TestImageOutputs(t *testing.T) {
	f := newFixture(t)
	layerGz, layerDiffID := f.path("layer.tar.gz"), f.path("layer.diffid")
	diffID := strings.TrimSpace(string(must(os.ReadFile(layerDiffID))))
	inputs := t.TempDir()
	in := func(name string, b []byte) string {
		p := filepath.Join(inputs, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrongDiffID := in("wrong.diffid", []byte("sha256:"+strings.Repeat("0", 64)+"\n"))
	random := in("random.tar", randomBytes(4096))
	randomGz := in("random.tar.gz", gzipBytes(t, randomBytes(4096)))
	truncated := in("truncated.tar.gz", must(os.ReadFile(layerGz))[:2000])
	var empty bytes.Buffer
	tar.NewWriter(&empty).Close()
	emptyTar := in("empty.tar", empty.Bytes())
	// Bases: the fixture's layout, modified.
	base := func(name string, modify func(blob func(string) string, m layoutManifest)) string {
		dir := filepath.Join(inputs, name)
		copyDir(t, f.path("oci"), dir)
		m, blob := layoutBlobs(t, dir)
		modify(blob, m)
		return dir
	}
	flip := func(p string) {
		b := must(os.ReadFile(p))
		b[len(b)/2] ^= 1
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modifiedLayer := base("modified-layer", func(blob func(string) string, m layoutManifest) { flip(blob(m.Layers[0].Digest)) })
	missingLayer := base("missing-layer", func(blob func(string) string, m layoutManifest) { os.Remove(blob(m.Layers[0].Digest)) })
	modifiedConfig := base("modified-config", func(blob func(string) string, m layoutManifest) { flip(blob(m.Config.Digest)) })
	m, _ := layoutBlobs(t, f.path("oci"))
	layerDigest, configDigest := m.Layers[0].Digest, m.Config.Digest
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		first string
		// changed: oci and oci.digest are new.
		changed bool
	}{
		{name: "wrong diff_id", args: f.imageArgsTo("new/oci", 1, "", layerGz+"="+wrongDiffID), code: 1,
			first: "imagetool image: image: layer " + layerGz + ": recorded diff_id sha256:" + strings.Repeat("0", 64) + ", but the content hashes to " + diffID},
		{name: "random bytes as a plain tar", args: f.imageArgsTo("new/oci", 1, "", random), code: 1,
			first: "imagetool image: image: layer " + random + ": not a valid tar archive: archive/tar: invalid tar header"},
		{name: "gzip of random bytes", args: f.imageArgsTo("new/oci", 1, "", randomGz), code: 1,
			first: "imagetool image: image: layer " + randomGz + ": not a valid tar archive: archive/tar: invalid tar header"},
		{name: "truncated gzip layer", args: f.imageArgsTo("new/oci", 1, "", truncated+"="+layerDiffID), code: 1,
			first: "imagetool image: image: layer " + truncated + ": not a valid tar archive: unexpected EOF"},
		{name: "base layer blob modified", args: f.imageArgsTo("new/oci", 1, modifiedLayer, emptyTar), code: 1,
			first: "imagetool image: image: writing layout " + f.path("new/oci") + ": error writing layer: blob " + layerDigest + ": content hashes to "},
		{name: "base layer blob missing", args: f.imageArgsTo("new/oci", 1, missingLayer, emptyTar), code: 1,
			first: "imagetool image: image: writing layout " + f.path("new/oci") + ": lstat " + filepath.Join(missingLayer, "blobs", "sha256", strings.TrimPrefix(layerDigest, "sha256:")) + ": no such file or directory"},
		{name: "base layer blob missing, over a previous layout", args: f.imageArgs(1, missingLayer, emptyTar), code: 1,
			first: "imagetool image: image: writing layout " + f.path("oci") + ": lstat " + filepath.Join(missingLayer, "blobs", "sha256", strings.TrimPrefix(layerDigest, "sha256:")) + ": no such file or directory"},
		{name: "base config modified", args: f.imageArgsTo("new/oci", 1, modifiedConfig, emptyTar), code: 1,
			first: "imagetool image: image: base " + modifiedConfig + ": config " + configDigest + ": content hashes to "},
		{name: "output holds something else", args: []string{"image", "-out", inputs, "-layer", emptyTar}, code: 1,
			first: "imagetool image: image: " + inputs + " holds files but no OCI image layout: not replacing it"},
		{name: "a good image replaces the layout", args: f.imageArgs(1, f.path("oci"), emptyTar), changed: true,
			first: "imagetool image: " + f.path("oci") + " sha256:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.reset(t)
			before, beforeInputs := snapshot(t, f.dir), snapshot(t, inputs)
			r := runImagetool(t, tc.args...)
			if r.code != tc.code || !strings.HasPrefix(r.firstLine(), tc.first) {
				t.Errorf("exit %d, first line of stderr\n%s\nwant exit %d and\n%s", r.code, r.firstLine(), tc.code, tc.first)
			}
			after := snapshot(t, f.dir)
			if tc.changed {
				m, _ := layoutBlobs(t, f.path("oci"))
				want := map[string]bool{"index.json": true, "oci-layout": true, m.Digest: true, m.Config.Digest: true}
				for _, l := range m.Layers {
					want[l.Digest] = true
				}
				for k := range after {
					if dir, name, _ := strings.Cut(k, "/"); dir == "oci" && !want[name] && !want["sha256:"+strings.TrimPrefix(name, "blobs/sha256/")] {
						t.Errorf("left in the new layout: %s", k)
					}
				}
				if digest := strings.TrimSpace(string(must(os.ReadFile(f.path("oci.digest"))))); len(m.Layers) != 2 || digest != m.Digest || digest == before["oci.digest"] {
					t.Errorf("the layout was not replaced: %d layers, digest %s, manifest %s", len(m.Layers), digest, m.Digest)
				}
				before = after
			}
			if d := diffSnapshots(before, after); d != "" {
				t.Errorf("files: %s", d)
			}
			if d := diffSnapshots(beforeInputs, snapshot(t, inputs)); d != "" {
				t.Errorf("inputs: %s", d)
			}
			if tmp := temporaries(t, f.dir); len(tmp) != 0 {
				t.Errorf("temporaries left: %q", tmp)
			}
			if left, _ := os.ReadDir(f.path("new")); len(left) != 0 {
				t.Errorf("left in new/: %v", left)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
