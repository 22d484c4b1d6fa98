// Package lock computes images/apt.lock.json. Lock runs five phases, each a function:
//
//   - load: the inputs (images/sources.json, images/*/packages.json, pg_versions.bzl, the
//     keyrings: LoadInputs; unknown keys, unknown values and trailing data are errors), the
//     sets to lock and the previous lockfile (a corrupt one is an error; one that fails its
//     content hash is ignored with a warning);
//   - fetch: the apt indexes of the sources the selected sets need, verified by aptrepo,
//     through a Bazel downloader config's rewrites and allow/block filters; a Release older
//     than the one the previous lockfile recorded for the same URL and suite is refused
//     (Options.AllowOlderRelease);
//   - resolve: every set like apt (resolve), sets with the same sources sharing one index;
//   - assemble: the new lockfile from the new sets and the unchanged previous ones, with
//     the Release dates;
//   - write and report: a deterministic lockfile (lockfile) that records canonical URLs
//     only, replaced atomically, and a summary on Options.Log.
//
// A cancelled context (SIGINT or SIGTERM in imagetool) stops the fetches and Lock returns
// before writing, so an interrupted lock leaves the previous lockfile as it was.
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
	// AllowOlderRelease accepts a Release file dated before the one the previous lockfile
	// recorded for the same source URL and suite (refused by default: a replay).
	AllowOlderRelease bool
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
// with the lockfile. A missing lockfile is stale; a lockfile that is not valid
// (lockfile.CorruptError) or whose content does not match its content_sha256
// (lockfile.ErrEdited) is an error.
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
	if err := lf.Verify(); err != nil {
		return lockfile.Status{}, fmt.Errorf("%s: %w", lockPath, err)
	}
	in.Recommends = lf.Inputs.Recommends
	return lockfile.Check(lf, in), nil
}

// Lock locks the selected sets and writes the lockfile. When ctx is cancelled (SIGINT or
// SIGTERM in imagetool) it stops fetching and returns an error without writing anything.
func Lock(ctx context.Context, opt Options) (*Summary, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	in, selected, prev, err := load(opt, log)
	if err != nil {
		return nil, err
	}
	indexes, indexBytes, err := fetch(ctx, opt, in, selected, releaseFloor(in, prev), log)
	if err != nil {
		return nil, interrupted(ctx, opt, err)
	}
	results, err := resolveSets(in, selected, indexes, log)
	if err != nil {
		return nil, err
	}
	out, sum, err := assemble(in, selected, results, prev, indexes)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, interrupted(ctx, opt, err)
	}
	if err := lockfile.Write(opt.output(), out); err != nil {
		return nil, err
	}
	sum.IndexBytes = indexBytes
	sum.Duration = time.Since(start)
	report(log, sum)
	return sum, nil
}

// interrupted replaces err by one line saying that the lock was interrupted and nothing
// written, when ctx is done.
func interrupted(ctx context.Context, opt Options, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("interrupted (%v): %s was not changed", context.Cause(ctx), opt.output())
}

// load reads the inputs (with opt.Recommends), selects the sets to lock and reads the
// previous lockfile: nil if there is none, or if it was edited by hand (nothing is kept from
// it then, with a warning on log). A corrupt previous lockfile is an error.
func load(opt Options, log io.Writer) (lockfile.Inputs, []string, *lockfile.Lockfile, error) {
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
	if errors.Is(err, os.ErrNotExist) {
		return in, selected, nil, nil
	}
	if err != nil {
		return in, nil, nil, err
	}
	if err := prev.Verify(); err != nil {
		fmt.Fprintf(log, "warning: %s: %v; nothing is kept from it (sets, release dates)\n", opt.output(), err)
		return in, selected, nil, nil
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
