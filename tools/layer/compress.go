package layer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/ci-images/ci-images/tools/pgzip"
)

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Check reports what Write would refuse in c before reading anything: an unknown
// compression.
func (c Config) Check() error {
	switch c.Compression {
	case "", "none", "gzip", "gz", "zstd", "zst":
		return nil
	}
	return fmt.Errorf("unknown compression %q (want none, gzip or zstd)", c.Compression)
}

// compressor wraps w with the named deterministic compressor: "" or "none" (pass-through);
// "gzip": tools/pgzip, whose bytes do not depend on the number of CPUs; or "zstd": the
// single-threaded klauspost/compress encoder at its default level. Changing either setting
// changes every layer digest. Close flushes the compressor but does not close w.
func compressor(w io.Writer, kind string) (io.WriteCloser, error) {
	if err := (Config{Compression: kind}).Check(); err != nil {
		return nil, err
	}
	switch kind {
	case "gzip", "gz":
		return pgzip.NewWriter(w), nil
	case "zstd", "zst":
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
		if err != nil {
			return nil, err
		}
		return zw, nil
	}
	return nopCloser{w}, nil // "" or "none"
}

// writeCompressed writes the tar of t through the compressor, hashing the uncompressed stream
// on the way. It returns the number of entries, the bytes of file content and the diff_id.
func writeCompressed(w io.Writer, t *tree, compression string) (int, int64, string, error) {
	cw, err := compressor(w, compression)
	if err != nil {
		return 0, 0, "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(cw, h), 1<<20)
	n, size, err := t.writeTar(bw)
	if err != nil {
		return 0, 0, "", fmt.Errorf("writing tar: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, "", fmt.Errorf("writing tar: %w", err)
	}
	if err := cw.Close(); err != nil {
		return 0, 0, "", fmt.Errorf("compressing: %w", err)
	}
	return n, size, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
