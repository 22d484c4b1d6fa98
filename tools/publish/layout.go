package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// refNameAnnotation names a manifest in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// Layout publishes into an OCI image layout directory: one index.json entry per tag, named by
// the org.opencontainers.image.ref.name annotation (the full reference). A tag already naming
// the image's digest is left alone; a tag naming another digest is replaced.
type Layout struct{ dir string }

// NewLayout returns a publisher into dir, created on the first Publish if needed.
func NewLayout(dir string) *Layout { return &Layout{dir: dir} }

// Publish writes the images; BytesSent is the size of the blobs it had to write.
func (l *Layout) Publish(ctx context.Context, images []Image) ([]Result, error) {
	digests, err := validate(images)
	if err != nil {
		return nil, oneLine("layout", err)
	}
	p, err := l.open()
	if err != nil {
		return nil, err
	}
	rs := resultsWith(images, digests, Failed)
	for i, im := range images {
		if err := ctx.Err(); err != nil {
			return rs, oneLine("layout", err)
		}
		if rs[i], err = l.publishOne(p, im, digests[i]); err != nil {
			return rs, err
		}
	}
	return rs, nil
}

func (l *Layout) open() (layout.Path, error) {
	p, err := layout.FromPath(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		p, err = layout.Write(l.dir, empty.Index)
	}
	if err != nil {
		return "", oneLine("layout "+l.dir, err)
	}
	return p, nil
}

func (l *Layout) publishOne(p layout.Path, im Image, digest v1.Hash) (Result, error) {
	r := Result{Name: im.Name, Digest: digest, Tags: im.Tags, Status: Unchanged}
	current, err := l.refs(p)
	if err != nil {
		return r, err
	}
	missing := newBlobBytes(p, im.Image)
	for _, t := range im.Tags {
		if current[t.String()] == digest {
			continue
		}
		ann := map[string]string{refNameAnnotation: t.String()}
		if err := p.ReplaceImage(im.Image, match.Annotation(refNameAnnotation, t.String()), layout.WithAnnotations(ann)); err != nil {
			r.Status = Failed
			return r, oneLine(fmt.Sprintf("layout %s: writing %s", l.dir, t), err)
		}
		r.Status = Pushed
	}
	if r.Status == Pushed {
		r.BytesSent = missing
	}
	return r, nil
}

// refs maps each ref name in the layout's index to its digest.
func (l *Layout) refs(p layout.Path) (map[string]v1.Hash, error) {
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, oneLine("layout "+l.dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, oneLine("layout "+l.dir, err)
	}
	out := map[string]v1.Hash{}
	for _, d := range im.Manifests {
		if n, ok := d.Annotations[refNameAnnotation]; ok {
			out[n] = d.Digest
		}
	}
	return out, nil
}

// newBlobBytes is the size of the image's blobs (manifest included) the layout lacks.
func newBlobBytes(p layout.Path, img v1.Image) int64 {
	ls, err := blobsOf(img)
	if err != nil {
		return 0
	}
	var n int64
	for _, l := range ls {
		d, err1 := l.Digest()
		size, err2 := l.Size()
		if err1 == nil && err2 == nil && !exists(p, d) {
			n += size
		}
	}
	if d, err := img.Digest(); err == nil && !exists(p, d) {
		if size, err := img.Size(); err == nil {
			n += size
		}
	}
	return n
}

func exists(p layout.Path, d v1.Hash) bool {
	_, err := os.Stat(filepath.Join(string(p), "blobs", d.Algorithm, d.Hex))
	return err == nil
}

// Close does nothing.
func (l *Layout) Close() error { return nil }
