package runner

import (
	"bytes"
	"sync"
)

// tailBuffer keeps the last lines written to it (stdout and stderr write concurrently).
type tailBuffer struct {
	mu    sync.Mutex
	lines int
	buf   []byte
}

// tailKeep bounds the bytes kept: enough for the last lines unless they are very long.
const tailKeep = 64 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailKeep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailKeep:]...)
	}
	return len(p), nil
}

// String returns the last t.lines lines.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := bytes.TrimRight(t.buf, "\n")
	for i, n := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' {
			if n++; n == t.lines {
				return string(b[i+1:]) + "\n"
			}
		}
	}
	if len(b) == 0 {
		return ""
	}
	return string(b) + "\n"
}
