package ctxio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestStopsWhenDone(t *testing.T) {
	stop := errors.New("interrupt signal received")
	ctx, cancel := context.WithCancelCause(context.Background())
	r := Reader(ctx, strings.NewReader("abcdef"))
	var out bytes.Buffer
	w := Writer(ctx, &out)
	buf := make([]byte, 3)
	if n, err := r.Read(buf); n != 3 || err != nil {
		t.Fatalf("read before cancel: %d, %v", n, err)
	}
	if n, err := w.Write(buf); n != 3 || err != nil {
		t.Fatalf("write before cancel: %d, %v", n, err)
	}
	cancel(stop)
	if n, err := r.Read(buf); n != 0 || err != stop {
		t.Errorf("read after cancel: %d, %v; want 0, %v", n, err, stop)
	}
	if n, err := w.Write(buf); n != 0 || err != stop {
		t.Errorf("write after cancel: %d, %v; want 0, %v", n, err, stop)
	}
	if _, err := io.Copy(io.Discard, r); err != stop {
		t.Errorf("copy after cancel: %v", err)
	}
	if out.String() != "abc" {
		t.Errorf("written %q, want abc", out.String())
	}
}
