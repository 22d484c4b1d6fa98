package image

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/ci-images/ci-images/tools/pgzip"
)

// openLayer returns the layer for a file: a gzip file with a recorded diff_id is only hashed,
// other gzip and zstd files are used as they are, and a plain tar is compressed into a
// temporary file first (its name appended to temps).
func openLayer(spec Layer, tempDir string, temps *[]string) (v1.Layer, error) {
	magic, err := readMagic(spec.Path)
	if err != nil {
		return nil, err
	}
	opener := func() (io.ReadCloser, error) { return os.Open(spec.Path) }
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		if spec.DiffID != "" {
			return knownGzipLayer(spec.Path, spec.DiffID)
		}
		return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer))
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayerZStd), tarball.WithCompression(compression.ZStd))
	}
	// Plain tar: compress deterministically, hashing the uncompressed and compressed streams
	// in the same pass (no re-reading for the digests).
	out, err := os.CreateTemp(tempDir, "layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	*temps = append(*temps, out.Name())
	l, err := compressFile(spec.Path, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return l, err
}

// readMagic returns the first (up to) 4 bytes of the file at path.
func readMagic(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	return magic[:n], nil
}

func mediaType(l v1.Layer) types.MediaType {
	mt, err := l.MediaType()
	if err != nil {
		return types.OCILayer
	}
	return mt
}

// compressFile gzips the tar at path into out (an *os.File) with tools/pgzip.
func compressFile(path string, out *os.File) (*gzipFileLayer, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	diffID := sha256.New()
	digest := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(out, digest)}
	zw := pgzip.NewWriter(cw)
	if _, err := io.Copy(io.MultiWriter(zw, diffID), bufio.NewReaderSize(in, 1<<20)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &gzipFileLayer{path: out.Name(), diffID: sha256Hash(diffID.Sum(nil)), digest: sha256Hash(digest.Sum(nil)), size: cw.n}, nil
}

func sha256Hash(sum []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum)}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// knownGzipLayer is a gzip layer whose diff_id its writer recorded: only the compressed file
// is hashed.
func knownGzipLayer(path, diffID string) (*gzipFileLayer, error) {
	d, err := v1.NewHash(diffID)
	if err != nil {
		return nil, fmt.Errorf("%s: diff_id: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &gzipFileLayer{path: path, diffID: d, digest: sha256Hash(h.Sum(nil)), size: n}, nil
}

// gzipFileLayer is a gzip-compressed layer file whose digests are known.
type gzipFileLayer struct {
	path           string
	diffID, digest v1.Hash
	size           int64
}

func (l *gzipFileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *gzipFileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *gzipFileLayer) Size() (int64, error)                { return l.size, nil }
func (l *gzipFileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *gzipFileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *gzipFileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: func() error { zr.Close(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }
