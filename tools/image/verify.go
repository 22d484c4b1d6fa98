package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"

	"github.com/ci-images/ci-images/tools/ctxio"
)

// verified returns a reader of the blob rc that fails, instead of ending, unless the bytes
// hash to digest and their count is size; it also stops when ctx is done.
func verified(ctx context.Context, rc io.ReadCloser, digest v1.Hash, size int64) io.ReadCloser {
	return &verifier{r: ctxio.Reader(ctx, rc), c: rc, h: sha256.New(), want: digest, size: size}
}

type verifier struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	n    int64
	want v1.Hash
	size int64
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.size {
		return n, fmt.Errorf("blob %s: more than its %d bytes", v.want, v.size)
	}
	if err == io.EOF {
		if got := sha256Hash(v.h.Sum(nil)); v.n != v.size || got != v.want {
			return n, fmt.Errorf("blob %s: content hashes to %s (%d bytes, want %d): the file was modified", v.want, got, v.n, v.size)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.c.Close() }

// checkBlob verifies a blob read whole (a manifest, an index, a config) against its
// descriptor's digest.
func checkBlob(what string, b []byte, want v1.Hash) error {
	got, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s %s: content hashes to %s: the file was modified", what, want, got)
	}
	return nil
}

// verifiedImage is an image read from a layout whose layer blobs are verified as they are
// read (see verified), and whose copies stop when ctx is done.
type verifiedImage struct {
	v1.Image
	ctx context.Context
}

func (i *verifiedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for k, l := range ls {
		if out[k], err = i.wrap(l, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (i *verifiedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	return i.wrap(i.Image.LayerByDigest(h))
}

func (i *verifiedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	return i.wrap(i.Image.LayerByDiffID(h))
}

func (i *verifiedImage) wrap(l v1.Layer, err error) (v1.Layer, error) {
	if err != nil {
		return nil, err
	}
	return partial.CompressedToLayer(&verifiedBlob{Layer: l, ctx: i.ctx})
}

// verifiedBlob is a layout layer whose Compressed is verified.
type verifiedBlob struct {
	v1.Layer
	ctx context.Context
}

func (b *verifiedBlob) Compressed() (io.ReadCloser, error) {
	d, err := b.Digest()
	if err != nil {
		return nil, err
	}
	n, err := b.Size()
	if err != nil {
		return nil, err
	}
	rc, err := b.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return verified(b.ctx, rc, d, n), nil
}
