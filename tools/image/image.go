// Package image assembles OCI images from an optional base image and ordered layer files with
// go-containerregistry, writes them as an OCI image layout directory, and loads them into a
// Docker engine.
//
// Reproducibility: the same inputs give the same manifest digest, byte for byte. Layers given
// uncompressed are compressed here with tools/pgzip (the deterministic gzip that tools/layer
// writes too); already compressed layers (gzip or zstd, detected by magic) are used as they
// are. Every timestamp in the config (created, history) is Options.SourceDateEpoch in UTC;
// nothing depends on the time zone, the umask or the current time.
//
// Integrity: every blob is verified as it is read or written. A layer file is read through
// once: it must be a tar archive (plain or compressed), its diff_id is computed (and must
// equal the one its writer recorded), and its bytes are hashed again as they are copied into
// the layout. Blobs of a base layout are checked against their digests (see ReadLayout). The
// layout is built beside its destination and renamed into place (tools/atomicfile), so a
// failure, a cancellation or a killed process never leaves a partial layout, and the previous
// one stays as it was.
package image

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Config describes the image besides its layers. It is the JSON schema of the oci_image
// rule's configuration file (tools/rules/private/image.bzl writes it), decoded as it is.
// Empty fields keep the base image's values; Env entries replace base entries with the same
// name and are otherwise appended; Labels are merged over the base's.
type Config struct {
	Env          []string          `json:"env"` // "KEY=value"
	Entrypoint   []string          `json:"entrypoint"`
	Cmd          []string          `json:"cmd"`
	User         string            `json:"user"`
	WorkingDir   string            `json:"workdir"`
	Labels       map[string]string `json:"labels"`
	ExposedPorts []string          `json:"exposed_ports"` // "5432/tcp"
	// Annotations are set on the image manifest.
	Annotations map[string]string `json:"annotations"`
	// OS and Architecture default to the base image's, or to "linux" and "amd64".
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
}

// Layer is one layer file: a tar, plain or compressed with gzip or zstd.
type Layer struct {
	Path string
	// DiffID, if set ("sha256:<hex>"), is the digest of the uncompressed tar of a gzip layer,
	// as recorded by the step that wrote it (imagetool layer -diffid). It saves decompressing
	// the whole layer just to hash it.
	DiffID string
}

// Options describes an image.
type Options struct {
	Config
	// Base is an OCI image layout directory holding exactly one image (or an index with one
	// manifest); empty means scratch.
	Base string
	// Layers are appended in order on top of the base. Each is recorded in the history as
	// created by "imagetool layer <base name of its file>".
	Layers []Layer
	// SourceDateEpoch, in seconds since 1970, is every timestamp.
	SourceDateEpoch int64
	// TempDir holds the gzip of uncompressed layers while Write runs (default os.TempDir()),
	// in files without a name (atomicfile.TempFile).
	TempDir string
	// DigestFile, if set, receives the manifest digest ("sha256:<hex>" and a newline); it is
	// committed with the layout, their renames back to back (atomicfile.Commit).
	DigestFile string
}

// Write builds the image and writes it as an OCI image layout at dir (its parents created as
// needed), replacing what is there: nothing, an empty directory or an OCI layout (anything
// else is refused). index.json
// lists exactly this one manifest. It returns the manifest digest. When ctx is done, Write
// stops within one buffer, leaves dir as it was and returns the context's cause.
func Write(ctx context.Context, dir string, o Options) (v1.Hash, error) {
	if err := checkOut(dir); err != nil {
		return v1.Hash{}, fmt.Errorf("image: %w", err)
	}
	var files []*os.File // closed after the image is written
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	img, err := build(ctx, o, &files)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %w", err)
	}
	h, err := writeLayout(ctx, dir, img, o.DigestFile)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %w", err)
	}
	return h, nil
}

// build assembles the image; the files it opens are appended to files.
func build(ctx context.Context, o Options, files *[]*os.File) (v1.Image, error) {
	epoch := time.Unix(o.SourceDateEpoch, 0).UTC()
	var img v1.Image = empty.Image
	if o.Base != "" {
		b, err := readLayout(ctx, o.Base)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", o.Base, err)
		}
		img = b
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	adds := make([]mutate.Addendum, 0, len(o.Layers))
	for _, l := range o.Layers {
		lay, err := openLayer(ctx, l, o.TempDir, files)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Path, err)
		}
		adds = append(adds, mutate.Addendum{Layer: lay,
			History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "imagetool layer " + filepath.Base(l.Path)}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("appending layers: %w", err)
	}
	if img, err = configure(img, o.Config, epoch); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(o.Annotations) > 0 {
		img = mutate.Annotations(img, maps.Clone(o.Annotations)).(v1.Image)
	}
	return img, nil
}

// configure sets every timestamp to epoch, the platform and the runtime configuration.
func configure(img v1.Image, c Config, epoch time.Time) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	for i := range cf.History {
		cf.History[i].Created = v1.Time{Time: epoch}
	}
	if c.OS != "" || cf.OS == "" {
		cf.OS = or(c.OS, "linux")
	}
	if c.Architecture != "" || cf.Architecture == "" {
		cf.Architecture = or(c.Architecture, "amd64")
	}
	applyConfig(&cf.Config, c)
	return mutate.ConfigFile(img, cf)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// applyConfig merges the runtime configuration c over the base's.
func applyConfig(c *v1.Config, o Config) {
	for _, kv := range o.Env {
		c.Env = setEnv(c.Env, kv)
	}
	if o.Entrypoint != nil {
		c.Entrypoint = slices.Clone(o.Entrypoint)
	}
	if o.Cmd != nil {
		c.Cmd = slices.Clone(o.Cmd)
	}
	c.User = or(o.User, c.User)
	c.WorkingDir = or(o.WorkingDir, c.WorkingDir)
	if len(o.Labels) > 0 {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		maps.Copy(c.Labels, o.Labels)
	}
	if len(o.ExposedPorts) > 0 {
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range o.ExposedPorts {
			c.ExposedPorts[p] = struct{}{}
		}
	}
}

// setEnv replaces every entry of env with the name of kv ("NAME=value") by kv, or appends kv.
func setEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	replaced := false
	for i, old := range env {
		if n, _, _ := strings.Cut(old, "="); n == name {
			env[i] = kv
			replaced = true
		}
	}
	if !replaced {
		env = append(env, kv)
	}
	return env
}
