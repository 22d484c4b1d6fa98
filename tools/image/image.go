// Package image assembles OCI images from an optional base image and
// ordered layer tar files with go-containerregistry, writes them as an OCI
// image layout directory, and loads them into a Docker engine.
//
// Reproducibility: the same inputs give the same manifest digest, byte for
// byte. Layers given uncompressed are compressed here with the fixed,
// deterministic gzip of tools/layer (klauspost/compress, level
// layer.GzipLevel, no name, MTIME 0); already compressed layers (gzip or
// zstd, detected by magic) are used as they are. Every timestamp in the
// config (created, history) is Options.Epoch in UTC; nothing depends on the
// time zone, the umask or the current time.
package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/ci-images/ci-images/tools/layer"
)

// Config is the runtime configuration of the image. Nil/empty fields keep
// the base image's values; Env entries replace base entries with the same
// name and are otherwise appended.
type Config struct {
	Env          []string          // "KEY=value"
	Entrypoint   []string          // nil keeps the base's
	Cmd          []string          // nil keeps the base's
	User         string            // "" keeps the base's
	WorkingDir   string            // "" keeps the base's
	Labels       map[string]string // merged over the base's labels
	ExposedPorts []string          // "5432/tcp"
	StopSignal   string
}

// Layer is one layer file: a tar, plain or compressed with gzip or zstd.
type Layer struct {
	Path string
	// DiffID, if set ("sha256:<hex>"), is the digest of the uncompressed tar of a gzip
	// layer, as recorded by the step that wrote it (imagetool layer -diffid). It saves
	// decompressing the whole layer just to hash it.
	DiffID string
	// CreatedBy is recorded in the image history (default "imagetool
	// layer <base name of Path>").
	CreatedBy string
}

// Options describes an image.
type Options struct {
	// Base is an OCI image layout directory holding exactly one image (or
	// an index with one manifest); empty means scratch.
	Base string
	// Layers are appended in order on top of the base.
	Layers []Layer
	Config Config
	// Annotations are set on the image manifest.
	Annotations map[string]string
	// Epoch is SOURCE_DATE_EPOCH, used for every timestamp; the zero value
	// means 1970-01-01T00:00:00Z.
	Epoch time.Time
	// OS and Architecture default to "linux" and "amd64" (for scratch), or
	// to the base image's.
	OS, Architecture, Variant string
	// RefName, if set, is recorded in index.json as the manifest's
	// org.opencontainers.image.ref.name annotation.
	RefName string
	// TempDir holds compressed copies of uncompressed layers while Write
	// runs (default os.TempDir()).
	TempDir string
}

func epochOf(o Options) time.Time {
	if o.Epoch.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return o.Epoch.UTC().Truncate(time.Second)
}

// Build assembles the image. The returned cleanup removes temporary
// compressed layer files; call it after the image has been written.
func Build(o Options) (v1.Image, func(), error) {
	var temps []string
	cleanup := func() {
		for _, t := range temps {
			os.RemoveAll(t)
		}
	}
	fail := func(err error) (v1.Image, func(), error) {
		cleanup()
		return nil, func() {}, err
	}
	epoch := epochOf(o)

	var img v1.Image = empty.Image
	if o.Base != "" {
		base, shadow, err := resolveLayout(o.Base, o.TempDir)
		if shadow != "" {
			temps = append(temps, shadow)
		}
		if err != nil {
			return fail(fmt.Errorf("base %s: %w", o.Base, err))
		}
		b, err := imageFromLayout(base)
		if err != nil {
			return fail(fmt.Errorf("base %s: %w", o.Base, err))
		}
		img = b
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)

	var adds []mutate.Addendum
	for _, l := range o.Layers {
		lay, tmp, err := openLayer(l, o.TempDir)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return fail(fmt.Errorf("layer %s: %w", l.Path, err))
		}
		by := l.CreatedBy
		if by == "" {
			by = "imagetool layer " + filepath.Base(l.Path)
		}
		adds = append(adds, mutate.Addendum{Layer: lay, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: by}, MediaType: mustMediaType(lay)})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return fail(fmt.Errorf("appending layers: %w", err))
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return fail(fmt.Errorf("config: %w", err))
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	for i := range cf.History {
		cf.History[i].Created = v1.Time{Time: epoch}
	}
	if o.OS != "" || cf.OS == "" {
		cf.OS = or(o.OS, "linux")
	}
	if o.Architecture != "" || cf.Architecture == "" {
		cf.Architecture = or(o.Architecture, "amd64")
	}
	if o.Variant != "" {
		cf.Variant = o.Variant
	}
	applyConfig(&cf.Config, o.Config)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return fail(fmt.Errorf("config: %w", err))
	}
	if len(o.Annotations) > 0 {
		img = mutate.Annotations(img, maps.Clone(o.Annotations)).(v1.Image)
	}
	return img, cleanup, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mustMediaType(l v1.Layer) types.MediaType {
	mt, err := l.MediaType()
	if err != nil {
		return types.OCILayer
	}
	return mt
}

func applyConfig(c *v1.Config, o Config) {
	for _, kv := range o.Env {
		k := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			k = kv[:i]
		}
		replaced := false
		for i, old := range c.Env {
			ok := old
			if j := strings.IndexByte(old, '='); j >= 0 {
				ok = old[:j]
			}
			if ok == k {
				c.Env[i] = kv
				replaced = true
			}
		}
		if !replaced {
			c.Env = append(c.Env, kv)
		}
	}
	if o.Entrypoint != nil {
		c.Entrypoint = slices.Clone(o.Entrypoint)
	}
	if o.Cmd != nil {
		c.Cmd = slices.Clone(o.Cmd)
	}
	if o.User != "" {
		c.User = o.User
	}
	if o.WorkingDir != "" {
		c.WorkingDir = o.WorkingDir
	}
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
	if o.StopSignal != "" {
		c.StopSignal = o.StopSignal
	}
}

// openLayer returns the layer for a file, compressing a plain tar into a
// temporary file first. tmp names that file ("" if none).
func openLayer(spec Layer, tempDir string) (l v1.Layer, tmp string, err error) {
	path := spec.Path
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	f.Close()
	magic = magic[:n]
	opener := func(p string) tarball.Opener {
		return func() (io.ReadCloser, error) { return os.Open(p) }
	}
	gz := len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gz && spec.DiffID != "" {
		return knownGzipLayer(path, spec.DiffID)
	}
	switch {
	case gz:
		l, err = tarball.LayerFromOpener(opener(path), tarball.WithMediaType(types.OCILayer))
		return l, "", err
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		l, err = tarball.LayerFromOpener(opener(path), tarball.WithMediaType(types.OCILayerZStd), tarball.WithCompression(compression.ZStd))
		return l, "", err
	}
	// Plain tar: compress deterministically, hashing the uncompressed and
	// compressed streams in the same pass (no re-reading for the digests).
	out, err := os.CreateTemp(tempDir, "layer-*.tar.gz")
	if err != nil {
		return nil, "", err
	}
	tmp = out.Name()
	fl, err := compressFile(path, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, tmp, err
	}
	fl.path = tmp
	return fl, tmp, nil
}

func compressFile(path string, out io.Writer) (*gzipFileLayer, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	diffID := sha256.New()
	digest := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(out, digest)}
	zw, err := layer.Compress(cw, "gzip")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.MultiWriter(zw, diffID), bufio.NewReaderSize(in, 1<<20)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &gzipFileLayer{
		diffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffID.Sum(nil))},
		digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))},
		size:   cw.n,
	}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// gzipFileLayer is a gzip-compressed layer file whose digests were
// computed while it was written.
// knownGzipLayer is a gzip layer whose diff_id its writer recorded: only the compressed file
// is hashed.
func knownGzipLayer(path, diffID string) (*gzipFileLayer, string, error) {
	d, err := v1.NewHash(diffID)
	if err != nil {
		return nil, "", fmt.Errorf("%s: diff_id: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return &gzipFileLayer{path: path, diffID: d, digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, size: n}, "", nil
}

type gzipFileLayer struct {
	path           string
	diffID, digest v1.Hash
	size           int64
}

func (l *gzipFileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *gzipFileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *gzipFileLayer) Size() (int64, error)                { return l.size, nil }
func (l *gzipFileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *gzipFileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *gzipFileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: func() error { zr.Close(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// imageFromLayout returns the single image of an OCI layout directory.
// resolveLayout returns a layout directory whose files are not symlinks. Sandboxed build
// actions (Bazel) see their inputs as symlinks, which go-containerregistry's layout refuses to
// read as blobs; then the layout is mirrored into a directory under tmp with hard links to the
// real files (copies where linking fails), and that directory is returned as shadow too, for
// removal after use.
func resolveLayout(dir, tmp string) (string, string, error) {
	symlinked := false
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			symlinked = true
			return filepath.SkipAll
		}
		return err
	})
	if err != nil || !symlinked {
		return dir, "", err
	}
	shadow, err := os.MkdirTemp(tmp, "layout-")
	if err != nil {
		return "", "", err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(shadow, rel)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		st, err := os.Stat(real)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if os.Link(real, dst) == nil {
			return nil
		}
		return copyFile(real, dst)
	})
	if err != nil {
		return "", shadow, fmt.Errorf("resolving symlinks in the layout: %w", err)
	}
	return shadow, shadow, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func imageFromLayout(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("index.json has %d manifests, want exactly 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	switch {
	case d.MediaType.IsImage():
		return idx.Image(d.Digest)
	case d.MediaType.IsIndex():
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		if len(cm.Manifests) != 1 {
			return nil, fmt.Errorf("nested index has %d manifests, want exactly 1", len(cm.Manifests))
		}
		return child.Image(cm.Manifests[0].Digest)
	}
	return nil, fmt.Errorf("unsupported media type %s in index.json", d.MediaType)
}

// Write builds the image and writes it as an OCI image layout in dir
// (created if needed; it must not already hold a layout with other
// images). index.json lists exactly this one manifest. It returns the
// manifest digest.
func Write(dir string, o Options) (v1.Hash, error) {
	img, cleanup, err := Build(o)
	defer cleanup()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %w", err)
	}
	return WriteImage(dir, img, o.RefName)
}

// WriteImage writes img as the only manifest of a new OCI layout in dir.
func WriteImage(dir string, img v1.Image, refName string) (v1.Hash, error) {
	desc := v1.Descriptor{}
	if refName != "" {
		desc.Annotations = map[string]string{"org.opencontainers.image.ref.name": refName}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return v1.Hash{}, fmt.Errorf("image: %s already holds an OCI layout", dir)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: desc})
	if _, err := layout.Write(dir, idx); err != nil {
		return v1.Hash{}, fmt.Errorf("image: writing layout %s: %w", dir, err)
	}
	h, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: digest: %w", err)
	}
	return h, nil
}

// Digest returns the manifest digest of the single image in an OCI layout.
func Digest(layoutDir string) (v1.Hash, error) {
	img, err := imageFromLayout(layoutDir)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %s: %w", layoutDir, err)
	}
	return img.Digest()
}

// Load loads the single image of an OCI layout into the local Docker
// engine (DOCKER_HOST or /var/run/docker.sock) under each tag. It returns
// the engine's response to the load.
func Load(ctx context.Context, layoutDir string, tags []string) (string, error) {
	if len(tags) == 0 {
		return "", fmt.Errorf("image: load %s: at least one tag is required", layoutDir)
	}
	img, err := imageFromLayout(layoutDir)
	if err != nil {
		return "", fmt.Errorf("image: load %s: %w", layoutDir, err)
	}
	var parsed []name.Tag
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return "", fmt.Errorf("image: load: tag %q: %w", t, err)
		}
		parsed = append(parsed, tag)
	}
	resp, err := daemon.Write(parsed[0], img, daemon.WithContext(ctx))
	if err != nil {
		return resp, fmt.Errorf("image: load %s as %s: %w", layoutDir, parsed[0], err)
	}
	for _, t := range parsed[1:] {
		if err := daemon.Tag(parsed[0], t, daemon.WithContext(ctx)); err != nil {
			return resp, fmt.Errorf("image: tag %s as %s: %w", parsed[0], t, err)
		}
	}
	return resp, nil
}

// ManifestJSON returns the raw manifest of the single image in a layout
// (handy for tests and for printing).
func ManifestJSON(layoutDir string) ([]byte, error) {
	img, err := imageFromLayout(layoutDir)
	if err != nil {
		return nil, err
	}
	return img.RawManifest()
}

// ConfigOf returns the config file of the single image in a layout.
func ConfigOf(layoutDir string) (*v1.ConfigFile, error) {
	img, err := imageFromLayout(layoutDir)
	if err != nil {
		return nil, err
	}
	return img.ConfigFile()
}
