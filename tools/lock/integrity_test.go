package lock

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/testrepo"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// cancelOn is a log that cancels a context when a line contains marker.
type cancelOn struct {
	mu     sync.Mutex
	marker string
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(c.marker)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

// TestLockInterruptedAfterFetching: a cancellation that arrives after the indexes were
// fetched (here while resolving) still stops the lock before it writes anything.
func TestLockInterruptedAfterFetching(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{marker: "  note: ", cancel: cancel}
	_, err := Lock(ctx, Options{Workspace: f.ws, Sets: []string{"ext_16"}, Log: log})
	want := "interrupted (context canceled): " + filepath.Join(f.ws, LockFile) + " was not changed"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q\n%s", err, want, log.buf.String())
	}
	if _, err := os.Stat(filepath.Join(f.ws, LockFile)); !os.IsNotExist(err) {
		t.Errorf("an interrupted lock wrote the lockfile (%v)", err)
	}
}

// TestLockStaleMirrorFallsBack: a mirror that serves an InRelease older than the recorded
// one is passed over for the next URL of the downloader config, as a mirror that fails is.
func TestLockStaleMirrorFallsBack(t *testing.T) {
	f := newFixture(t)
	if _, log, err := f.lock(t, "deb"); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	spec, _ := testrepo.DebianSpec()
	spec.Key = f.debian.Debian.Key
	bw := spec.Suites["bookworm"]
	bw.Date = time.Date(2023, 6, 10, 0, 0, 0, 0, time.UTC)
	spec.Suites["bookworm"] = bw
	stale := testrepo.Serve(t, spec)
	canonical := strings.TrimPrefix(f.debian.Debian.URL, "http://")
	rw, err := urlrewrite.Parse("dl.cfg", strings.NewReader(
		"rewrite "+canonical+"/(.*) "+stale.URL+"/$1\nrewrite ("+canonical+"/.*) $1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := Lock(context.Background(), Options{Workspace: f.ws, Sets: []string{"deb"}, Rewriter: rw, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if n := strings.Count(strings.Join(stale.Requests(), "\n"), "/dists/bookworm/InRelease"); n != 1 {
		t.Errorf("the stale mirror served InRelease %d times, want 1:\n%s", n, stale.Requests())
	}
	lf, _ := f.read(t)
	if got := lf.Releases["debian"].Date; !got.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("recorded %v, want the canonical server's date", got)
	}
	// With only the stale mirror, the lock is refused.
	only, err := urlrewrite.Parse("dl.cfg", strings.NewReader("rewrite "+canonical+"/(.*) "+stale.URL+"/$1\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(context.Background(), Options{Workspace: f.ws, Sets: []string{"deb"}, Rewriter: only})
	want := "source debian: dists/bookworm/InRelease is older than the one locked before (Date 2023-06-10T00:00:00Z, recorded 2024-01-02T03:04:05Z)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
