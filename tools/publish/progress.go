package publish

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints progress lines for a run: periodically and when an image is complete. A nil
// writer prints nothing.
type progress struct {
	w     io.Writer
	total int
	stats func() Stats
	start time.Time
	mu    sync.Mutex
	done  int
	quit  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w io.Writer, every time.Duration, total, unchanged int, stats func() Stats) *progress {
	p := &progress{w: w, total: total, stats: stats, start: time.Now(), quit: make(chan struct{})}
	if w == nil {
		return p
	}
	fmt.Fprintf(w, "publish: %d image(s) to push, %d unchanged\n", total, unchanged)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.line("")
			}
		}
	}()
	return p
}

// imageDone records that an image is complete in the registry (blobs and manifest).
func (p *progress) imageDone(name string) {
	p.mu.Lock()
	p.done++
	p.mu.Unlock()
	p.line(name + " complete")
}

// line prints "publish: [done/total] what, N sent, N request(s) failed and retried, elapsed".
func (p *progress) line(what string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats()
	if what != "" {
		what += ", "
	}
	fmt.Fprintf(p.w, "publish: [%d/%d] %s%s sent, %d request(s) failed and retried, %s\n",
		p.done, p.total, what, FormatBytes(s.BytesSent()), s.FailedRequests, time.Since(p.start).Round(100*time.Millisecond))
}

func (p *progress) stop() {
	if p.w == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
}

// FormatBytes writes a byte count in SI units: 0 B, 999 B, 1.2 kB, 45.1 MB, 1.30 GB.
func FormatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
