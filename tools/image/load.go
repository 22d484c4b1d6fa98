package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
)

// Load loads the single image of an OCI layout into the local Docker engine (DOCKER_HOST or
// /var/run/docker.sock) under each tag. It returns the engine's response to the load, and an
// error if the engine reported one in it (a load the engine rejects, for a layer whose
// content does not match its diff_id or is not a tar archive, is still an HTTP success).
func Load(ctx context.Context, layoutDir string, tags []string) (string, error) {
	if len(tags) == 0 {
		return "", fmt.Errorf("image: load %s: at least one tag is required", layoutDir)
	}
	img, err := readLayout(ctx, layoutDir)
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
	if err == nil {
		err = loadError(resp)
	}
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

// loadMessage is one message of the engine's response to a load: a JSON stream of progress
// ({"stream": "Loaded image: ..."}) and errors ({"errorDetail": {"message": ...}, "error": ...}).
type loadMessage struct {
	Stream      string `json:"stream"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// loadError returns the first error the engine reported in its response to a load, nil if
// there is none (an empty response: the engine already had the image).
func loadError(resp string) error {
	dec := json.NewDecoder(strings.NewReader(resp))
	for {
		var m loadMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unreadable response from the Docker engine %q: %w", resp, err)
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return fmt.Errorf("the Docker engine refused it: %s", m.ErrorDetail.Message)
		case m.Error != "":
			return fmt.Errorf("the Docker engine refused it: %s", m.Error)
		}
	}
}
