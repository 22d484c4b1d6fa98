package layer

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// GzipLevel is the fixed gzip level used for layers. Changing it changes
// every layer digest.
const GzipLevel = 6

// ZstdLevel is the fixed zstd level used for layers.
const ZstdLevel = zstd.SpeedDefault

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Compress wraps w with the named deterministic compressor: "" or "none"
// (pass-through); "gzip": one gzip member (no name, MTIME 0, OS 255)
// deflated by klauspost/compress at GzipLevel in independent 1 MiB blocks
// compressed in parallel (pgzip.go), whose bytes do not depend on the
// number of CPUs; or "zstd": single-threaded encoder at ZstdLevel. Close
// flushes the compressor but does not close w.
func Compress(w io.Writer, kind string) (io.WriteCloser, error) {
	switch kind {
	case "", "none":
		return nopCloser{w}, nil
	case "gzip", "gz":
		return newParallelGzip(w, GzipLevel, 0), nil
	case "zstd", "zst":
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(ZstdLevel), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
		if err != nil {
			return nil, err
		}
		return zw, nil
	}
	return nil, fmt.Errorf("unknown compression %q (want none, gzip or zstd)", kind)
}
