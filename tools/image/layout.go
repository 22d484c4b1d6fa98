package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// ReadLayout returns the single image of an OCI image layout directory, such as oci_image
// writes: index.json lists one image manifest, or one index holding one. A symlinked layout
// (Bazel's sandboxes and runfiles link each file of a tree artifact) is read from the real
// directory of its index.json, where its blobs are.
func ReadLayout(dir string) (v1.Image, error) {
	idxFile, err := filepath.EvalSymlinks(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(filepath.Dir(idxFile))
	if err != nil {
		return nil, err
	}
	for range 2 {
		d, err := onlyManifest(idx)
		if err != nil {
			return nil, err
		}
		switch {
		case d.MediaType.IsImage():
			return idx.Image(d.Digest)
		case d.MediaType.IsIndex():
			if idx, err = idx.ImageIndex(d.Digest); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unsupported media type %s in the index", d.MediaType)
		}
	}
	return nil, errors.New("indexes nested too deep")
}

// onlyManifest returns the one descriptor an index lists.
func onlyManifest(idx v1.ImageIndex) (v1.Descriptor, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if len(im.Manifests) != 1 {
		return v1.Descriptor{}, fmt.Errorf("%d manifests in the index, want exactly 1", len(im.Manifests))
	}
	return im.Manifests[0], nil
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
	img, err := ReadLayout(layoutDir)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %s: %w", layoutDir, err)
	}
	return img.Digest()
}
