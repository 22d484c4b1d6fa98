package layer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// cancellingWriter cancels its context at its first write and records what the spool
// directory held then.
type cancellingWriter struct {
	cancel  context.CancelCauseFunc
	cause   error
	dir     string
	n       int
	spoolOK bool
}

func (w *cancellingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		es, _ := os.ReadDir(w.dir)
		w.spoolOK = len(es) == 0
		w.cancel(w.cause)
	}
	w.n += len(p)
	return len(p), nil
}

// WriteContext stops when its context is done, at any stage, with the context's cause; the
// spool files are never visible in TempDir, not even while they are in use.
func TestWriteContext(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<20) // 16 MiB: many gzip blocks
	debs := inputs(t, coreutils(), libfoo(), debtest.Deb{Package: "big", Version: "1", Architecture: "all", Compression: "none",
		Files: []debtest.File{{Path: "usr/share/big", Body: big}}})
	stop := errors.New("interrupt signal received")
	for _, tc := range []struct {
		name   string
		before bool // cancelled before Write starts, else at the first write of the layer
	}{
		{"cancelled before", true},
		{"cancelled while writing", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancelCause(context.Background())
			w := &cancellingWriter{cancel: cancel, cause: stop, dir: dir}
			if tc.before {
				cancel(stop)
			}
			_, err := WriteContext(ctx, w, debs, Options{Config: Config{Compression: "gzip", MergedUsr: true}, TempDir: dir})
			if !errors.Is(err, stop) {
				t.Fatalf("error %v, want the cause %v", err, stop)
			}
			if tc.before && w.n != 0 {
				t.Errorf("%d bytes written after a cancellation before the start", w.n)
			}
			if !tc.before && (!w.spoolOK || w.n >= len(big)/2) {
				t.Errorf("spool directory empty while writing: %v; %d bytes written after the cancellation", w.spoolOK, w.n)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("left in TempDir: %v", es)
			}
		})
	}
}

// An unknown compression is refused before any package is read.
func TestCheckFirst(t *testing.T) {
	dir := t.TempDir()
	_, err := Write(&cancellingWriter{}, []string{dir + "/missing.deb"}, Options{Config: Config{Compression: "lzma"}, TempDir: dir})
	if err == nil || err.Error() != `layer: unknown compression "lzma" (want none, gzip or zstd)` {
		t.Errorf("error %v", err)
	}
	if err := (Config{Compression: "zstd"}).Check(); err != nil {
		t.Errorf("zstd: %v", err)
	}
}
