package image

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// baseImage returns the single image of the layout directory dir, read through a hard-linked
// mirror under tmp when the layout is symlinked (its name appended to temps).
func baseImage(dir, tmp string, temps *[]string) (v1.Image, error) {
	real, shadow, err := resolveLayout(dir, tmp)
	if shadow != "" {
		*temps = append(*temps, shadow)
	}
	if err != nil {
		return nil, err
	}
	return imageFromLayout(real)
}

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
	if err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return mirror(dir, shadow, p)
	}); err != nil {
		return "", shadow, fmt.Errorf("resolving symlinks in the layout: %w", err)
	}
	return shadow, shadow, nil
}

// mirror recreates p (under dir) under shadow: directories are made, files hard-linked to
// their real file, or copied.
func mirror(dir, shadow, p string) error {
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

// imageFromLayout returns the single image of an OCI layout directory (or of the single index
// it holds).
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

// writeLayout writes img as the only manifest of a new OCI layout in dir.
func writeLayout(dir string, img v1.Image) (v1.Hash, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return v1.Hash{}, fmt.Errorf("image: %s already holds an OCI layout", dir)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
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
