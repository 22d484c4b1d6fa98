package fidelity

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Flatten returns the file system of the only image in the OCI layout directory dir, as one
// tar stream with the whiteouts of upper layers applied (mutate.Extract).
func Flatten(dir string) (io.ReadCloser, error) {
	img, err := layoutImage(dir)
	if err != nil {
		return nil, fmt.Errorf("image layout %s: %w", dir, err)
	}
	return mutate.Extract(img), nil
}

// layoutImage returns the one image of a layout whose index.json lists exactly one manifest.
func layoutImage(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) != 1 || !im.Manifests[0].MediaType.IsImage() {
		return nil, fmt.Errorf("index.json must list exactly one image manifest (has %d entries)", len(im.Manifests))
	}
	return idx.Image(im.Manifests[0].Digest)
}
