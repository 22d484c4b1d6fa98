package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// needDocker returns the docker CLI of the host's engine, the oracle of an integration test:
// gated by CI_IMAGES_INTEGRATION=1 (docs/architecture.md), with which a missing engine is fatal.
func needDocker(t *testing.T) string {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING integration test against the host's Docker engine: set CI_IMAGES_INTEGRATION=1")
	}
	docker, err := exec.LookPath("docker")
	if err == nil {
		err = exec.Command(docker, "version").Run()
	}
	if err != nil {
		t.Fatalf("CI_IMAGES_INTEGRATION=1 but no Docker engine: %v", err)
	}
	return docker
}

// claimedLayer is a gzip blob that claims a diff_id of its choice: every digest in the layout
// is right, only the engine can tell that the content is not what the config says.
type claimedLayer struct {
	blob   []byte
	diffID v1.Hash
}

func (l *claimedLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.blob))
	return h, err
}
func (l *claimedLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *claimedLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *claimedLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *claimedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

// claimedLayout writes an OCI layout whose one layer is blob, claiming diffID.
func claimedLayout(t *testing.T, dir string, blob []byte, diffID v1.Hash) string {
	t.Helper()
	l, err := partial.CompressedToLayer(&claimedLayer{blob: blob, diffID: diffID})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l})
	if err == nil {
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}}})
	}
	if err == nil {
		_, err = layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img}))
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func sha256Of(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
}

// `imagetool load` fails, with the engine's error as the first line of stderr, when the
// Docker engine refuses the image; nothing is tagged.
func TestLoadReportsEngineErrors(t *testing.T) {
	docker := needDocker(t)
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello"))
	tw.Close()
	random := randomBytes(4096)
	dir := t.TempDir()
	wrongDiffID := claimedLayout(t, filepath.Join(dir, "wrong-diffid"), gzipBytes(t, tarball.Bytes()), sha256Of([]byte("something else")))
	notATar := claimedLayout(t, filepath.Join(dir, "not-a-tar"), gzipBytes(t, random), sha256Of(random))
	for _, tc := range []struct {
		name, layout string
		// first is the start of the first line of stderr.
		first string
	}{
		{"diff_id does not match", wrongDiffID, fmt.Sprintf("the Docker engine refused it: invalid diffID for layer 0: expected %q, got %q", sha256Of([]byte("something else")), sha256Of(tarball.Bytes()))},
		{"layer is not a tar archive", notATar, "the Docker engine refused it: Error processing tar file(exit status 1): archive/tar: invalid tar header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := fmt.Sprintf("ci-images-test/refused:%d-%s", os.Getpid(), filepath.Base(tc.layout))
			t.Cleanup(func() { exec.Command(docker, "rmi", "-f", tag).Run() })
			r := runImagetool(t, "load", "-layout", tc.layout, "-tag", tag)
			want := "imagetool load: image: load " + tc.layout + " as " + tag + ": " + tc.first
			if r.code != 1 || !strings.HasPrefix(r.firstLine(), want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, first line of stderr\n%s\nwant exit 1, no output and\n%s", r.code, r.stdout, r.firstLine(), want)
			}
			if out, err := exec.Command(docker, "image", "inspect", tag).CombinedOutput(); err == nil {
				t.Errorf("the engine has %s:\n%s", tag, out)
			}
		})
	}
}
