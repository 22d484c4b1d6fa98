package layer

import (
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
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
// (pass-through), "gzip" (klauspost/compress gzip at GzipLevel, header with
// no name, no mtime, OS 255), or "zstd" (single-threaded, ZstdLevel, no
// content checksum variation). Close flushes the compressor but does not
// close w.
func Compress(w io.Writer, kind string) (io.WriteCloser, error) {
	switch kind {
	case "", "none":
		return nopCloser{w}, nil
	case "gzip", "gz":
		zw, err := gzip.NewWriterLevel(w, GzipLevel)
		if err != nil {
			return nil, err
		}
		// klauspost/compress writes ModTime.Unix() unconditionally, so the
		// zero time.Time would give a garbage MTIME: use the Unix epoch (0).
		zw.ModTime = time.Unix(0, 0)
		return zw, nil
	case "zstd", "zst":
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(ZstdLevel), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
		if err != nil {
			return nil, err
		}
		return zw, nil
	}
	return nil, fmt.Errorf("unknown compression %q (want none, gzip or zstd)", kind)
}
