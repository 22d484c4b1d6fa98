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
	"sort"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lock"
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
	in, err := lock.LoadInputs(*ws)
	if err != nil {
		return err
	}
	s, ok := in.Sets[*set]
	if !ok {
		return fmt.Errorf("no set %s", *set)
	}

	if *mode == "cold" {
		return cold(*ws, *set, *cache, rw)
	}
	// Warm: fetch from the cache, parse and index once, then resolve repeatedly.
	c, err := aptrepo.New(http.DefaultClient, aptrepo.Options{CacheDir: *cache, Offline: true, BaseDir: *ws})
	if err != nil {
		return err
	}
	var pkgs []resolve.Package
	prio := map[string]bool{}
	for _, src := range in.Sources {
		use := false
		for _, n := range s.Sources {
			use = use || n == src.Name
		}
		if !use {
			continue
		}
		base := src.URL
		if rw != nil {
			base = strings.TrimSuffix(rw.Rewrite(src.URL + "/dists/" + src.Suite + "/InRelease")[0], "/dists/"+src.Suite+"/InRelease")
		}
		idx, err := c.Fetch(context.Background(), aptrepo.Source{Name: src.Name, URL: base, Suite: src.Suite,
			Components: src.Components, Architectures: src.Architectures, Keyring: src.Keyring})
		if err != nil {
			return err
		}
		for i := range idx.Packages {
			p := &idx.Packages[i]
			pkgs = append(pkgs, resolve.Package{Name: p.Name, Version: p.Version, Architecture: p.Architecture,
				Depends: p.Depends, PreDepends: p.PreDepends, Recommends: p.Recommends, Provides: p.Provides,
				Conflicts: p.Conflicts, Breaks: p.Breaks, MultiArch: p.MultiArch, Essential: p.Essential,
				Priority: p.Priority, Repo: src.Name, RepoPriority: src.Priority})
			for _, bp := range s.BasePriorities {
				if p.Priority == bp && (p.Architecture == in.Arch || p.Architecture == "all") {
					prio[p.Name] = true
				}
			}
		}
	}
	var reqs []resolve.Request
	explicit := map[string]bool{}
	for _, r := range s.Requests {
		req, err := lock.ParseRequest(r)
		if err != nil {
			return err
		}
		explicit[req.Name] = true
	}
	var base []string
	for name := range prio {
		if !explicit[name] {
			base = append(base, name)
		}
	}
	sort.Strings(base)
	for _, name := range base {
		reqs = append(reqs, resolve.Request{Name: name})
	}
	for _, r := range s.Requests {
		req, _ := lock.ParseRequest(r)
		reqs = append(reqs, resolve.Request{Name: req.Name, Version: req.Version})
	}
	if *printReqs {
		for _, r := range reqs {
			fmt.Println(r.Name)
		}
		return nil
	}
	ix := resolve.NewIndex(pkgs, in.Arch)
	var times []time.Duration
	var selected int
	for i := 0; i < *n; i++ {
		start := time.Now()
		res, err := ix.Resolve(reqs, resolve.Options{Arch: in.Arch, Exclude: s.Exclude})
		if err != nil {
			return err
		}
		times = append(times, time.Since(start))
		selected = len(res.Packages)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("warm resolve (index built, %d indexed package versions, %d requests -> %d packages): median %v, min %v over %d runs\n",
		ix.Len(), len(reqs), selected, times[len(times)/2].Round(time.Microsecond), times[0].Round(time.Microsecond), *n)
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
