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
// failure in sources.json order is the error, naming the sets that need the source. floor
// holds the Release dates recorded by the previous lockfile (releaseFloor).
func fetch(ctx context.Context, opt Options, in lockfile.Inputs, selected []string, floor map[string]time.Time, log io.Writer) (map[string]*aptrepo.Index, int64, error) {
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
	f := &fetcher{c: client, rw: opt.Rewriter, floor: floor, allowOlder: opt.AllowOlderRelease, log: prog}
	indexes, errs := f.all(ctx, in.Sources, needBy)
	for _, src := range in.Sources { // in sources.json order: the first failure
		if err := errs[src.Name]; err != nil {
			return nil, 0, fmt.Errorf("%w (needed by %s)", err, strings.Join(needBy[src.Name], ", "))
		}
	}
	return indexes, prog.nbytes, nil
}

// releaseFloor returns, by source name, the Release date that prev recorded for the source
// of in with the same URL and suite: a fetched Release must not be older.
func releaseFloor(in lockfile.Inputs, prev *lockfile.Lockfile) map[string]time.Time {
	floor := map[string]time.Time{}
	if prev == nil {
		return floor
	}
	for _, src := range in.Sources {
		if r, ok := prev.Releases[src.Name]; ok && r.URL == src.URL && r.Suite == src.Suite {
			floor[src.Name] = r.Date
		}
	}
	return floor
}

// fetcher fetches the indexes of sources through a downloader config.
type fetcher struct {
	c          *aptrepo.Client
	rw         *urlrewrite.Config
	floor      map[string]time.Time
	allowOlder bool
	log        *progress
}

// all fetches the sources that needBy names, one goroutine each.
func (f *fetcher) all(ctx context.Context, srcs []aptrepo.Source, needBy map[string][]string) (map[string]*aptrepo.Index, map[string]error) {
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
			idx, err := f.source(ctx, src)
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

// bases returns the base URLs to fetch src from, in order: the URLs that the downloader
// config gives for its InRelease URL (rewritten, then filtered by allow and block), with
// the "dists/<suite>/InRelease" suffix cut off again. Every index file of a base is on the
// base's host, so the allow and block verdict on InRelease holds for all of them. A
// rewrite that does not keep the suffix is an error.
func bases(rw *urlrewrite.Config, src aptrepo.Source) ([]string, error) {
	suffix := "/dists/" + src.Suite + "/InRelease"
	urls := rw.Rewrite(src.URL + suffix)
	if len(urls) == 0 {
		msg := ""
		if rw.AllBlockedMessage != "" {
			msg = ": " + rw.AllBlockedMessage
		}
		return nil, fmt.Errorf("source %s: every URL for %s is blocked by the downloader config%s", src.Name, src.URL, msg)
	}
	var out []string
	for _, u := range urls {
		b, ok := strings.CutSuffix(u, suffix)
		if !ok {
			return nil, fmt.Errorf("source %s: the downloader config rewrites %s to %s, which does not end in %s (rewrite the repository root, not single files)", src.Name, src.URL+suffix, u, suffix)
		}
		out = append(out, b)
	}
	return out, nil
}

// source fetches src from the first of its bases that works and whose Release is not older
// than the recorded one.
func (f *fetcher) source(ctx context.Context, src aptrepo.Source) (*aptrepo.Index, error) {
	urls, err := bases(f.rw, src)
	if err != nil {
		return nil, err
	}
	var first error
	for _, base := range urls {
		s := src
		s.URL = base
		idx, err := f.c.Fetch(ctx, s)
		if err == nil {
			err = f.checkDate(src, idx.Release)
		}
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
	var older *olderError
	if errors.As(first, &older) {
		return nil, first
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

// olderError is a Release older than the one the previous lockfile recorded.
type olderError struct {
	source, file      string
	recorded, offered time.Time
}

func (e *olderError) Error() string {
	offered := "no Date"
	if !e.offered.IsZero() {
		offered = "Date " + e.offered.Format(time.RFC3339)
	}
	return fmt.Sprintf("source %s: %s is older than the one locked before (%s, recorded %s)",
		e.source, e.file, offered, e.recorded.Format(time.RFC3339))
}

// checkDate refuses rel when it is older than the date recorded for src, unless allowed
// (then it only warns).
func (f *fetcher) checkDate(src aptrepo.Source, rel *aptrepo.Release) error {
	recorded, ok := f.floor[src.Name]
	if !ok || !rel.Date.Before(recorded) {
		return nil
	}
	err := &olderError{source: src.Name, file: "dists/" + src.Suite + "/" + rel.File, recorded: recorded, offered: rel.Date}
	if !f.allowOlder {
		return fmt.Errorf("%w: a replayed or rolled-back repository? --allow-older-release accepts it", err)
	}
	f.log.printf("  warning: %v: accepted (--allow-older-release)\n", err)
	return nil
}

// progress prints one line per fetched file.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	start  map[string]time.Time
	nbytes int64
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
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
