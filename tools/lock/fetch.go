package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// fetch fetches and verifies, concurrently, the indexes of every source the selected sets
// use. It returns them by source name, and the bytes of index files read. The first
// failure in sources.json order is the error, naming the sets that need the source.
func fetch(ctx context.Context, opt Options, in lockfile.Inputs, selected []string, log io.Writer) (map[string]*aptrepo.Index, int64, error) {
	needBy := map[string][]string{}
	for _, s := range selected {
		for _, src := range in.Sets[s].Sources {
			needBy[src] = append(needBy[src], s)
		}
	}
	prog := &progress{w: log, start: map[string]time.Time{}}
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	client, err := aptrepo.New(hc, aptrepo.Options{
		CacheDir: opt.CacheDir, Offline: opt.Offline, BaseDir: opt.Workspace, Progress: prog.report,
		UserAgent: "ci-images-lock",
	})
	if err != nil {
		return nil, 0, fmt.Errorf("apt client: %w", err)
	}
	fmt.Fprintf(log, "locking %d set(s): %s\n", len(selected), strings.Join(selected, ", "))
	indexes, errs := fetchAll(ctx, client, opt.Rewriter, in.Sources, needBy)
	for _, src := range in.Sources { // in sources.json order: the first failure
		if err := errs[src.Name]; err != nil {
			return nil, 0, fmt.Errorf("%w (needed by %s)", err, strings.Join(needBy[src.Name], ", "))
		}
	}
	return indexes, prog.nbytes, nil
}

// fetchAll fetches the sources that needBy names, one goroutine each.
func fetchAll(ctx context.Context, c *aptrepo.Client, rw *urlrewrite.Config, srcs []aptrepo.Source, needBy map[string][]string) (map[string]*aptrepo.Index, map[string]error) {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		indexes = map[string]*aptrepo.Index{}
		errs    = map[string]error{}
	)
	for _, src := range srcs {
		if needBy[src.Name] == nil {
			continue
		}
		wg.Add(1)
		go func(src aptrepo.Source) {
			defer wg.Done()
			idx, err := fetchSource(ctx, c, rw, src)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[src.Name] = err
				return
			}
			indexes[src.Name] = idx
		}(src)
	}
	wg.Wait()
	return indexes, errs
}

// bases returns the base URLs to fetch src from, in order: the rewrites of its InRelease
// URL with the "dists/<suite>/InRelease" suffix cut off again.
func bases(rw *urlrewrite.Config, src aptrepo.Source) []string {
	suffix := "/dists/" + src.Suite + "/InRelease"
	var out []string
	for _, u := range rw.Rewrite(src.URL + suffix) {
		if b, ok := strings.CutSuffix(u, suffix); ok {
			out = append(out, b)
		}
	}
	return out
}

// fetchSource fetches src from the first of its bases that works.
func fetchSource(ctx context.Context, c *aptrepo.Client, rw *urlrewrite.Config, src aptrepo.Source) (*aptrepo.Index, error) {
	urls := bases(rw, src)
	if len(urls) == 0 {
		msg := ""
		if rw.AllBlockedMessage != "" {
			msg = ": " + rw.AllBlockedMessage
		}
		return nil, fmt.Errorf("source %s: every URL for %s is blocked by the downloader config%s", src.Name, src.URL, msg)
	}
	var first error
	for _, base := range urls {
		s := src
		s.URL = base
		idx, err := c.Fetch(ctx, s)
		if err == nil {
			return idx, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if first == nil {
			first = err
		}
	}
	what := "cannot fetch"
	var netErr net.Error
	if errors.As(first, &netErr) {
		what = "unreachable"
	}
	if len(urls) > 1 {
		return nil, fmt.Errorf("source %s %s (%s, tried %d URLs): %w", src.Name, what, src.URL, len(urls), first)
	}
	return nil, fmt.Errorf("source %s %s (%s): %w", src.Name, what, src.URL, first)
}

// progress prints one line per fetched file.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	start  map[string]time.Time
	nbytes int64
}

func (p *progress) report(ev aptrepo.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := ev.Repo + " " + ev.File
	if !ev.Done {
		p.start[k] = time.Now()
		return
	}
	p.nbytes += ev.Bytes
	if ev.Cached {
		fmt.Fprintf(p.w, "  %-16s %-52s %9s  cached\n", ev.Repo, ev.File, humanBytes(ev.Bytes))
		return
	}
	fmt.Fprintf(p.w, "  %-16s %-52s %9s  %v\n", ev.Repo, ev.File, humanBytes(ev.Bytes), time.Since(p.start[k]).Round(time.Millisecond))
	delete(p.start, k)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
