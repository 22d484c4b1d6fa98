package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/ci-images/ci-images/tools/atomicfile"
	"github.com/ci-images/ci-images/tools/ctxio"
	"github.com/ci-images/ci-images/tools/pgzip"
)

// openLayer reads a layer file once, through: it detects the compression (gzip and zstd by
// magic, else a plain tar), checks that the content is a tar archive, and computes the digest
// and the diff_id, which must equal spec.DiffID if that is given. A plain tar is compressed
// with tools/pgzip on the way, into a temporary file without a name in tempDir. The file stays
// open (appended to files) until the image is written, and its bytes are verified again as
// they are copied.
func openLayer(ctx context.Context, spec Layer, tempDir string, files *[]*os.File) (v1.Layer, error) {
	f, err := os.Open(spec.Path)
	if err != nil {
		return nil, err
	}
	*files = append(*files, f)
	magic := make([]byte, 4)
	n, _ := f.ReadAt(magic, 0)
	l := &fileLayer{ctx: ctx, f: f, mediaType: types.OCILayer}
	var s scan
	switch kind := compressionOf(magic[:n]); kind {
	case "none":
		out, err := atomicfile.TempFile(tempDir, "layer-*.tar.gz")
		if err != nil {
			return nil, err
		}
		*files = append(*files, out)
		if s, err = scanLayer(ctx, f, kind, out); err != nil {
			return nil, err
		}
		l.f, l.digest, l.size = out, s.gzDigest, s.gzSize
	default:
		if kind == "zstd" {
			l.mediaType = types.OCILayerZStd
		}
		if s, err = scanLayer(ctx, f, kind, nil); err != nil {
			return nil, err
		}
		l.digest, l.size = s.digest, s.size
	}
	l.diffID = s.diffID
	if err := checkDiffID(spec.DiffID, s.diffID); err != nil {
		return nil, err
	}
	return partial.CompressedToLayer(l)
}

// compressionOf names the compression of a file starting with magic: "gzip", "zstd" or "none".
func compressionOf(magic []byte) string {
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return "gzip"
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return "zstd"
	}
	return "none"
}

// checkDiffID compares a recorded diff_id (imagetool layer -diffid), if any, with the computed
// one.
func checkDiffID(recorded string, computed v1.Hash) error {
	if recorded == "" {
		return nil
	}
	d, err := v1.NewHash(recorded)
	if err != nil {
		return fmt.Errorf("recorded diff_id: %w", err)
	}
	if d != computed {
		return fmt.Errorf("recorded diff_id %s, but the content hashes to %s", d, computed)
	}
	return nil
}

// scan is what scanLayer computed.
type scan struct {
	digest, diffID v1.Hash
	size           int64
	// gzDigest and gzSize describe the gzip written for a plain tar.
	gzDigest v1.Hash
	gzSize   int64
}

// scanLayer reads the file f, compressed by kind, to its end. It hashes the file (digest), the
// decompressed stream (diff_id) and checks that the latter is a tar archive; for a plain tar
// it writes the deterministic gzip of it to gz.
func scanLayer(ctx context.Context, f *os.File, kind string, gz io.Writer) (scan, error) {
	var s scan
	dh, uh, gh := sha256.New(), sha256.New(), sha256.New()
	raw := &countingReader{r: io.TeeReader(ctxio.Reader(ctx, bufio.NewReaderSize(f, 1<<20)), dh)}
	plain, err := decompress(raw, kind)
	if err != nil {
		return s, err
	}
	defer plain.Close()
	var sink io.Writer = uh
	var zw *pgzip.Writer
	var gc *countingWriter
	if gz != nil {
		gc = &countingWriter{w: io.MultiWriter(gz, gh)}
		zw = pgzip.NewWriter(gc)
		sink = io.MultiWriter(uh, zw)
	}
	tee := io.TeeReader(plain, sink)
	if err := checkTar(tee); err != nil {
		return s, err
	}
	// The rest: padding after the end of the archive, and anything after the compressed stream.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return s, err
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return s, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return s, fmt.Errorf("compressing: %w", err)
		}
		s.gzDigest, s.gzSize = sha256Hash(gh.Sum(nil)), gc.n
	}
	s.digest, s.diffID, s.size = sha256Hash(dh.Sum(nil)), sha256Hash(uh.Sum(nil)), raw.n
	return s, nil
}

// decompress returns the decompressed stream of r.
func decompress(r io.Reader, kind string) (io.ReadCloser, error) {
	switch kind {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(r), nil
}

// checkTar reads a tar archive to its end-of-archive marker.
func checkTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		_, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("not a valid tar archive: %w", err)
			}
			return err
		}
	}
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

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a layer file (or the gzip of a plain tar) whose digests scanLayer computed. It
// is a partial.CompressedLayer with a DiffID; partial.CompressedToLayer adds Uncompressed.
type fileLayer struct {
	ctx            context.Context
	f              *os.File
	digest, diffID v1.Hash
	size           int64
	mediaType      types.MediaType
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed reads the file again, verifying it against the digest and size.
func (l *fileLayer) Compressed() (io.ReadCloser, error) {
	return verified(l.ctx, io.NopCloser(io.NewSectionReader(l.f, 0, 1<<62)), l.digest, l.size), nil
}
