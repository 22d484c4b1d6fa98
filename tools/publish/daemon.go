package publish

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/daemon"
)

// Daemon publishes into the local Docker engine (DOCKER_HOST or /var/run/docker.sock). The
// engine keeps images by config digest (its image ID), so an image is unchanged when every tag
// already names an image with the same ID.
type Daemon struct{ opts []daemon.Option }

// NewDaemon returns a Docker engine publisher; opts go to go-containerregistry's daemon package.
func NewDaemon(opts ...daemon.Option) *Daemon { return &Daemon{opts: opts} }

// Publish loads each image under its first tag and adds the others. BytesSent is the size of
// the image's blobs (the engine is sent the whole image).
func (d *Daemon) Publish(ctx context.Context, images []Image) ([]Result, error) {
	digests, err := validate(images)
	if err != nil {
		return nil, oneLine("docker", err)
	}
	opts := append([]daemon.Option{daemon.WithContext(ctx)}, d.opts...)
	rs := resultsWith(images, digests, Failed)
	for i, im := range images {
		unchanged, err := d.unchanged(im, opts)
		if err != nil {
			return rs, err
		}
		if unchanged {
			rs[i].Status = Unchanged
			continue
		}
		if _, err := daemon.Write(im.Tags[0], im.Image, opts...); err != nil {
			return rs, oneLine(fmt.Sprintf("docker: loading %s as %s", im.Name, im.Tags[0]), err)
		}
		for _, t := range im.Tags[1:] {
			if err := daemon.Tag(im.Tags[0], t, opts...); err != nil {
				return rs, oneLine(fmt.Sprintf("docker: tagging %s as %s", im.Tags[0], t), err)
			}
		}
		rs[i].Status, rs[i].BytesSent = Pushed, imageBytes(im)
	}
	return rs, nil
}

// unchanged says whether every tag already names an image with this config digest.
func (d *Daemon) unchanged(im Image, opts []daemon.Option) (bool, error) {
	want, err := im.Image.ConfigName()
	if err != nil {
		return false, oneLine("docker: "+im.Name, err)
	}
	for _, t := range im.Tags {
		have, err := daemon.Image(t, opts...)
		if err != nil {
			return false, nil
		}
		id, err := have.ConfigName()
		if err != nil || id != want {
			return false, nil
		}
	}
	return true, nil
}

func imageBytes(im Image) int64 {
	ls, err := blobsOf(im.Image)
	if err != nil {
		return 0
	}
	var n int64
	for _, l := range ls {
		if s, err := l.Size(); err == nil {
			n += s
		}
	}
	return n
}

// Close does nothing.
func (d *Daemon) Close() error { return nil }
