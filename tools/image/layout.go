package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/ci-images/ci-images/tools/atomicfile"
)

// ReadLayout returns the single image of an OCI image layout directory, such as oci_image
// writes: index.json lists one image manifest, or one index holding one. A symlinked layout
// (Bazel's sandboxes and runfiles link each file of a tree artifact) is read from the real
// directory of its index.json, where its blobs are.
//
// Every blob is verified: the nested index, the manifest and the config here, against the
// digests that name them; each layer's bytes against its digest and size as they are read
// (a modified blob is an error at the end of its stream).
func ReadLayout(dir string) (v1.Image, error) {
	return readLayout(context.Background(), dir)
}

// readLayout is ReadLayout whose layer reads stop when ctx is done.
func readLayout(ctx context.Context, dir string) (v1.Image, error) {
	idxFile, err := filepath.EvalSymlinks(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var idx v1.ImageIndex
	if idx, err = layout.ImageIndexFromPath(filepath.Dir(idxFile)); err != nil {
		return nil, err
	}
	for range 2 {
		d, err := onlyManifest(idx)
		if err != nil {
			return nil, err
		}
		switch {
		case d.MediaType.IsImage():
			return verifiedLayoutImage(ctx, idx, d.Digest)
		case d.MediaType.IsIndex():
			if idx, err = idx.ImageIndex(d.Digest); err != nil {
				return nil, err
			}
			raw, err := idx.RawManifest()
			if err != nil {
				return nil, err
			}
			if err := checkBlob("index", raw, d.Digest); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unsupported media type %s in the index", d.MediaType)
		}
	}
	return nil, errors.New("indexes nested too deep")
}

// verifiedLayoutImage opens the image h of idx, verifies its manifest and config, and wraps
// it so that its layers are verified as they are read.
func verifiedLayoutImage(ctx context.Context, idx v1.ImageIndex, h v1.Hash) (v1.Image, error) {
	img, err := idx.Image(h)
	if err != nil {
		return nil, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	if err := checkBlob("manifest", raw, h); err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	if err := checkBlob("config", cfg, m.Config.Digest); err != nil {
		return nil, err
	}
	return &verifiedImage{Image: img, ctx: ctx}, nil
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

// checkOut refuses an output path that holds something other than an OCI layout (or an
// empty directory): Write replaces what is there.
func checkOut(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.Name() == "index.json" || e.Name() == "oci-layout" {
			return nil
		}
	}
	if len(es) > 0 {
		return fmt.Errorf("%s holds files but no OCI image layout: not replacing it", dir)
	}
	return nil
}

// writeLayout writes img as the only manifest of a new OCI layout, built beside dir, and its
// digest to digestFile (if not empty), then puts both in place (tools/atomicfile): a failure,
// or ctx done before they are complete, leaves what was there untouched.
func writeLayout(ctx context.Context, dir string, img v1.Image, digestFile string) (v1.Hash, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return v1.Hash{}, err
	}
	tmp, err := atomicfile.CreateDir(dir, 0o755)
	if err != nil {
		return v1.Hash{}, err
	}
	defer tmp.Abort()
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	if _, err := layout.Write(tmp.Name(), idx); err != nil {
		return v1.Hash{}, fmt.Errorf("writing layout %s: %w", dir, err)
	}
	h, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("digest: %w", err)
	}
	pending := []atomicfile.Pending{tmp}
	if digestFile != "" {
		f, err := atomicfile.Create(digestFile, 0o644)
		if err != nil {
			return v1.Hash{}, err
		}
		defer f.Abort()
		if _, err := f.WriteString(h.String() + "\n"); err != nil {
			return v1.Hash{}, fmt.Errorf("writing %s: %w", digestFile, err)
		}
		pending = append(pending, f)
	}
	if err := context.Cause(ctx); err != nil {
		return v1.Hash{}, err
	}
	return h, atomicfile.Commit(pending...)
}

// Digest returns the manifest digest of the single image in an OCI layout.
func Digest(layoutDir string) (v1.Hash, error) {
	img, err := ReadLayout(layoutDir)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %s: %w", layoutDir, err)
	}
	return img.Digest()
}
