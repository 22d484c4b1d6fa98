// Package ctxio makes long reads and writes stop when a context is done: a copy of a
// gigabyte layer ends within one buffer of a cancellation (Ctrl-C), with the context's cause
// (for signal.NotifyContext, "interrupt signal received") as its error.
package ctxio

import (
	"context"
	"io"
)

// Reader returns a reader that reads from r until ctx is done, then fails with its cause.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &reader{ctx, r} }

// Writer returns a writer that writes to w until ctx is done, then fails with its cause.
func Writer(ctx context.Context, w io.Writer) io.Writer { return &writer{ctx, w} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (r *reader) Read(p []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, context.Cause(r.ctx)
	}
	return r.r.Read(p)
}

type writer struct {
	ctx context.Context
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if w.ctx.Err() != nil {
		return 0, context.Cause(w.ctx)
	}
	return w.w.Write(p)
}
