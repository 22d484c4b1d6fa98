package image

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
)

// Load loads the single image of an OCI layout into the local Docker engine (DOCKER_HOST or
// /var/run/docker.sock) under each tag. It returns the engine's response to the load.
func Load(ctx context.Context, layoutDir string, tags []string) (string, error) {
	if len(tags) == 0 {
		return "", fmt.Errorf("image: load %s: at least one tag is required", layoutDir)
	}
	img, err := ReadLayout(layoutDir)
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
