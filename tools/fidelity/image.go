package fidelity

import (
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/ci-images/ci-images/tools/image"
)

// Flatten returns the file system of the only image in the OCI layout directory dir, as one
// tar stream with the whiteouts of upper layers applied (mutate.Extract).
func Flatten(dir string) (io.ReadCloser, error) {
	img, err := image.ReadLayout(dir)
	if err != nil {
		return nil, fmt.Errorf("image layout %s: %w", dir, err)
	}
	return mutate.Extract(img), nil
}
