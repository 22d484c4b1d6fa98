// Package lock computes images/apt.lock.json. Lock runs five phases, each a function:
//
//   - load: the inputs (images/sources.json, images/*/packages.json, pg_versions.bzl, the
//     keyrings: LoadInputs), the sets to lock and the previous lockfile;
//   - fetch: the apt indexes of the sources the selected sets need, verified by aptrepo,
//     optionally through a Bazel downloader config's rewrites;
//   - resolve: every set like apt (resolve), sets with the same sources sharing one index;
//   - assemble: the new lockfile from the new sets and the unchanged previous ones;
//   - write and report: a deterministic lockfile (lockfile) that records canonical URLs
//     only, and a summary on Options.Log.
//
// Sets not selected keep their previous entries when their set inputs are unchanged; see
// package lockfile for how partially locked files work.
package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// StaleMessage is the one line `--check` prints for a stale lockfile.
const StaleMessage = "lockfile is stale: run tools/bazel run //images:lock"

// Options configure Lock.
type Options struct {
	// Workspace is the repository root.
	Workspace string
	// Sets are glob patterns (path.Match) of the sets to (re-)lock; empty: all.
	Sets []string
	// Recommends follows Recommends like apt's default.
	Recommends bool
	// CacheDir caches verified indexes (aptrepo.Options.CacheDir); "" disables.
	CacheDir string
	// Rewriter rewrites index URLs (Bazel --downloader_config); nil: none.
	Rewriter *urlrewrite.Config
	// HTTPClient; nil: a client with a 10-minute timeout.
	HTTPClient *http.Client
	// Log receives progress and summary lines; nil: discarded.
	Log io.Writer
	// Output is the lockfile path; "" means <Workspace>/images/apt.lock.json.
	Output string
	// Offline uses only CacheDir (aptrepo.Options.Offline): signatures and hashes are
	// still verified. For benchmarks and air-gapped re-locks.
	Offline bool
}

// Summary describes a finished lock.
type Summary struct {
	Locked  []string // sets resolved now
	Kept    []string // sets kept from the previous lockfile
	Dropped []string // previously locked sets dropped because their inputs changed
	Missing []string // defined sets not in the lockfile
	// Packages is the number of packages in the lockfile, DebBytes their total size.
	Packages int
	DebBytes int64
	// IndexBytes is the size of the indexes fetched or read from the cache.
	IndexBytes int64
	Duration   time.Duration
	// Notes are the per-set notes of the sets locked now.
	Notes map[string][]string
}

func (o *Options) output() string {
	if o.Output != "" {
		return o.Output
	}
	return filepath.Join(o.Workspace, LockFile)
}

// Check recomputes the input hashes from the files only (no network) and compares them
// with the lockfile. A missing lockfile is stale.
func Check(workspace, lockPath string) (lockfile.Status, error) {
	in, err := LoadInputs(workspace)
	if err != nil {
		return lockfile.Status{}, err
	}
	if lockPath == "" {
		lockPath = filepath.Join(workspace, LockFile)
	}
	lf, err := lockfile.Read(lockPath)
	if errors.Is(err, os.ErrNotExist) {
		return lockfile.Check(nil, in), nil
	}
	if err != nil {
		return lockfile.Status{}, err
	}
	in.Recommends = lf.Inputs.Recommends
	return lockfile.Check(lf, in), nil
}

// Lock locks the selected sets and writes the lockfile.
func Lock(ctx context.Context, opt Options) (*Summary, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	in, selected, prev, err := load(opt)
	if err != nil {
		return nil, err
	}
	indexes, indexBytes, err := fetch(ctx, opt, in, selected, log)
	if err != nil {
		return nil, err
	}
	results, err := resolveSets(in, selected, indexes, log)
	if err != nil {
		return nil, err
	}
	out, sum, err := assemble(in, selected, results, prev)
	if err != nil {
		return nil, err
	}
	if err := lockfile.Write(opt.output(), out); err != nil {
		return nil, err
	}
	sum.IndexBytes = indexBytes
	sum.Duration = time.Since(start)
	report(log, sum)
	return sum, nil
}

// load reads the inputs (with opt.Recommends), selects the sets to lock and reads the
// previous lockfile (nil if there is none).
func load(opt Options) (lockfile.Inputs, []string, *lockfile.Lockfile, error) {
	in, err := LoadInputs(opt.Workspace)
	if err != nil {
		return in, nil, nil, err
	}
	in.Recommends = opt.Recommends
	selected, err := selectSets(in, opt.Sets)
	if err != nil {
		return in, nil, nil, err
	}
	prev, err := lockfile.Read(opt.output())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return in, nil, nil, fmt.Errorf("previous lockfile: %w", err)
	}
	return in, selected, prev, nil
}

// selectSets returns the set names matching patterns (all when empty).
func selectSets(in lockfile.Inputs, patterns []string) ([]string, error) {
	all := in.SetNames()
	if len(patterns) == 0 {
		return all, nil
	}
	chosen := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--sets %q: %w", p, err)
		}
		n := 0
		for _, s := range all {
			if ok, _ := path.Match(p, s); ok {
				chosen[s] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("--sets %q matches no set (defined: %s)", p, strings.Join(all, ", "))
		}
	}
	var out []string
	for _, s := range all {
		if chosen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}
