package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/lock"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// errStale is returned by `lock --check` for a stale lockfile (exit status 1).
var errStale = errors.New(lock.StaleMessage)

func runLock(ctx context.Context, e *env, args []string) error {
	fs := newFlags("lock", e)
	workspace := fs.String("workspace", "", "repository root (default $BUILD_WORKSPACE_DIRECTORY, else the working directory)")
	sets := fs.String("sets", "", "comma-separated glob patterns of the sets to lock, e.g. 'debian15' or 'extbuilder_*' (default: all)")
	check := fs.Bool("check", false, "only check that the lockfile matches its inputs (no network); exit 1 if stale")
	dlConfig := fs.String("downloader-config", e.getenv("CI_IMAGES_DOWNLOADER_CONFIG"), "Bazel downloader config whose rewrites apply to index downloads (the lockfile keeps canonical URLs); default $CI_IMAGES_DOWNLOADER_CONFIG, which tools/bazel sets in offline mode")
	cacheDir := fs.String("cache-dir", "", "cache of verified indexes (default ~/.cache/ci-images/apt)")
	recommends := fs.Bool("recommends", false, "follow Recommends like apt's default (off: --no-install-recommends)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	ws := *workspace
	if ws == "" {
		ws = e.getenv("BUILD_WORKSPACE_DIRECTORY")
	}
	if ws == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		ws = wd
	}
	if *check {
		st, err := lock.Check(ws, "")
		if err != nil {
			return err
		}
		if st.Stale() {
			fmt.Fprintf(e.stderr, "%s\n", st)
			return errStale
		}
		fmt.Fprintf(e.stderr, "lockfile is up to date (%s)\n", st)
		return nil
	}
	opt := lock.Options{
		Workspace:  ws,
		Recommends: *recommends,
		Log:        e.stderr,
		HTTPClient: &http.Client{Timeout: 10 * time.Minute},
	}
	if *sets != "" {
		for _, s := range strings.Split(*sets, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opt.Sets = append(opt.Sets, s)
			}
		}
	}
	if *dlConfig != "" {
		p := *dlConfig
		if !filepath.IsAbs(p) {
			p = filepath.Join(ws, p)
		}
		rw, err := urlrewrite.Load(p)
		if err != nil {
			return err
		}
		opt.Rewriter = rw
	}
	opt.CacheDir = *cacheDir
	if opt.CacheDir == "" {
		if home := e.getenv("HOME"); home != "" {
			opt.CacheDir = filepath.Join(home, ".cache", "ci-images", "apt")
		}
	}
	_, err := lock.Lock(ctx, opt)
	return err
}
