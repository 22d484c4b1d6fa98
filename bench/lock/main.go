// Command bench/lock measures `imagetool lock` on the full bookworm main index, with the
// indexes already in the cache (downloads excluded):
//
//	cold: lock.Lock offline: verify InRelease, check and decompress Packages.xz, parse,
//	      index and resolve the set, write the lockfile (a fresh process each run.sh call)
//	warm: the index already parsed and built; resolve only (median of -n runs)
//
// and reports the Go runtime's peak memory; run.sh adds /usr/bin/time's maximum RSS and
// apt-get install -s on the same request with a private apt state.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lock"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/resolve"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/lock:", err)
		os.Exit(1)
	}
}

func run() error {
	ws := flag.String("workspace", ".", "repository root")
	cache := flag.String("cache-dir", filepath.Join(os.Getenv("HOME"), ".cache", "ci-images", "apt"), "index cache (filled by imagetool lock)")
	dl := flag.String("downloader-config", "", "the downloader config the cache was filled with")
	set := flag.String("set", "debian15", "set to lock")
	n := flag.Int("n", 20, "warm resolve runs")
	printReqs := flag.Bool("print-requests", false, "print the set's expanded request names (for apt-get) and exit")
	mode := flag.String("mode", "warm", "warm (resolve only, repeated) or cold (one whole offline lock)")
	flag.Parse()

	var rw *urlrewrite.Config
	if *dl != "" {
		var err error
		if rw, err = urlrewrite.Load(*dl); err != nil {
			return err
		}
	}
	if *mode == "cold" {
		return cold(*ws, *set, *cache, rw)
	}
	in, err := lock.LoadInputs(*ws)
	if err != nil {
		return err
	}
	s, ok := in.Sets[*set]
	if !ok {
		return fmt.Errorf("no set %s", *set)
	}
	ix, err := index(*ws, *cache, rw, in, s)
	if err != nil {
		return err
	}
	reqs, _, err := lock.Requests(ix, s)
	if err != nil {
		return err
	}
	if *printReqs {
		for _, r := range reqs {
			fmt.Println(r.Name)
		}
		return nil
	}
	return warm(ix, reqs, resolve.Options{Arch: in.Arch, Exclude: s.Exclude}, *n)
}

// index reads the set's indexes from the cache (offline, as lock does) and indexes them.
func index(ws, cache string, rw *urlrewrite.Config, in lockfile.Inputs, s lockfile.SetInputs) (*resolve.Index, error) {
	c, err := aptrepo.New(http.DefaultClient, aptrepo.Options{CacheDir: cache, Offline: true, BaseDir: ws})
	if err != nil {
		return nil, err
	}
	var repos []*aptrepo.Index
	for _, src := range in.Sources {
		if !slices.Contains(s.Sources, src.Name) {
			continue
		}
		if rw != nil {
			suffix := "/dists/" + src.Suite + "/InRelease"
			src.URL = strings.TrimSuffix(rw.Rewrite(src.URL + suffix)[0], suffix)
		}
		idx, err := c.Fetch(context.Background(), src)
		if err != nil {
			return nil, err
		}
		repos = append(repos, idx)
	}
	return resolve.NewIndex(in.Arch, repos...), nil
}

// warm resolves reqs n times against the built index and prints the median.
func warm(ix *resolve.Index, reqs []resolve.Request, opts resolve.Options, n int) error {
	var times []time.Duration
	var selected int
	for i := 0; i < n; i++ {
		start := time.Now()
		res, err := ix.Resolve(reqs, opts)
		if err != nil {
			return err
		}
		times = append(times, time.Since(start))
		selected = len(res.Packages)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("warm resolve (index built, %d indexed package versions, %d requests -> %d packages): median %v, min %v over %d runs\n",
		ix.Len(), len(reqs), selected, times[len(times)/2].Round(time.Microsecond), times[0].Round(time.Microsecond), n)
	printMem()
	return nil
}

// cold runs one whole lock from the cache (a fresh process: run.sh measures its RSS).
func cold(ws, set, cache string, rw *urlrewrite.Config) error {
	out := filepath.Join(os.TempDir(), fmt.Sprintf("bench-lock-%d.json", os.Getpid()))
	defer os.Remove(out)
	start := time.Now()
	sum, err := lock.Lock(context.Background(), lock.Options{Workspace: ws, Sets: []string{set}, CacheDir: cache,
		Offline: true, Rewriter: rw, Output: out, Log: io.Discard})
	if err != nil {
		return err
	}
	fmt.Printf("cold lock (cached indexes: verify, decompress, parse, index, resolve, write): %v, %d packages\n",
		time.Since(start).Round(time.Millisecond), sum.Packages)
	printMem()
	return nil
}

func printMem() {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(sample)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("  go runtime: %.0f MiB mapped, HeapSys %.0f MiB\n",
		float64(sample[0].Value.Uint64())/(1<<20), float64(ms.HeapSys)/(1<<20))
}
