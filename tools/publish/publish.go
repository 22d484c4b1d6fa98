// Package publish writes built images to a destination under tags, in the shape of ko's
// publish.Interface: one small interface, one implementation per destination.
//
//   - Registry: a container registry (go-containerregistry's remote). Every image of a run is
//     published in one call, so a blob shared by several images is uploaded once: blobs the
//     registry already has are skipped (HEAD), a blob shared between repositories of one registry
//     is uploaded to one of them and mounted into the others, uploads run in parallel, and
//     failed requests are retried with backoff. A tag that already points at the image's digest
//     is not written ("unchanged"). Manifests are put by digest after all their blobs, and tags
//     are written only once every image of the run is complete, so a failed run never leaves a
//     tag pointing at something missing. It drives go-containerregistry's remote.Pusher, the
//     engine under remote.MultiWrite, directly: MultiWrite dedupes blobs only within one
//     repository and cannot say when an image is complete or hold tags back until all are.
//   - Layout: an OCI image layout directory, one index entry per tag.
//   - Daemon: the local Docker engine.
//   - DryRun: prints every tag it would write and sends nothing.
//
// Images come from oci_image's layouts through image.ReadLayout. Results feed WriteSummary (a
// table: image, digest, tags, bytes sent, status); Registry.Stats gives the wire counters.
package publish

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Every destination is a Publisher.
var (
	_ Publisher = (*Registry)(nil)
	_ Publisher = (*Layout)(nil)
	_ Publisher = (*Daemon)(nil)
	_ Publisher = (*DryRun)(nil)
)

// Publisher publishes images under tags.
type Publisher interface {
	// Publish writes every image under each of its tags and returns one Result per image, in
	// the order given (also when it fails: then the error is one line, and the results say
	// which images were done).
	Publish(ctx context.Context, images []Image) ([]Result, error)
	// Close releases what the publisher holds (idle connections).
	Close() error
}

// Image is an image and the references it is published under.
type Image struct {
	// Name names the image in progress lines and the summary (e.g. "exttester_16").
	Name  string
	Image v1.Image
	// Tags are full references (registry/repository:tag); they may span several repositories.
	Tags []name.Tag
}

// Status is what happened to one image.
type Status string

// The statuses of a Result.
const (
	Pushed    Status = "pushed"     // at least one tag was written
	Unchanged Status = "unchanged"  // every tag already pointed at the digest: nothing was sent
	WouldPush Status = "would push" // dry run
	Failed    Status = "failed"     // the run failed before this image's tags were written
)

// Result is the outcome for one image.
type Result struct {
	Name   string
	Digest v1.Hash
	Tags   []name.Tag
	Status Status
	// BytesSent is what this image cost on the wire: request bodies of its blob uploads (a blob
	// shared with an earlier image of the run is counted there) and of its manifest PUTs.
	BytesSent int64
}

// validate checks the images of a run and returns their digests.
func validate(images []Image) ([]v1.Hash, error) {
	digests := make([]v1.Hash, len(images))
	for i, im := range images {
		if im.Image == nil {
			return nil, fmt.Errorf("image %s: no image", im.Name)
		}
		if len(im.Tags) == 0 {
			return nil, fmt.Errorf("image %s: no tags", im.Name)
		}
		d, err := im.Image.Digest()
		if err != nil {
			return nil, fmt.Errorf("image %s: digest: %w", im.Name, err)
		}
		digests[i] = d
	}
	return digests, nil
}

// resultsWith returns one Result per image with the given status.
func resultsWith(images []Image, digests []v1.Hash, s Status) []Result {
	out := make([]Result, len(images))
	for i, im := range images {
		out[i] = Result{Name: im.Name, Digest: digests[i], Tags: im.Tags, Status: s}
	}
	return out
}
