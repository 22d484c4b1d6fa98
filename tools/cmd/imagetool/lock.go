package main

import (
	"context"
	"errors"
	"flag"
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

// lockFlags are the flags of `imagetool lock`.
type lockFlags struct {
	workspace, sets, dlConfig, cacheDir string
	check, recommends, allowOlder       bool
}

func (f *lockFlags) register(fs *flag.FlagSet, e *env) {
	fs.StringVar(&f.workspace, "workspace", "", "repository root (default $BUILD_WORKSPACE_DIRECTORY, else the working directory)")
	fs.StringVar(&f.sets, "sets", "", "comma-separated glob patterns of the sets to lock, e.g. 'debian15' or 'extbuilder_*' (default: all)")
	fs.BoolVar(&f.check, "check", false, "only check that the lockfile matches its inputs and its own content hash (no network); exit 1 if stale, edited or corrupt")
	fs.StringVar(&f.dlConfig, "downloader-config", e.getenv("CI_IMAGES_DOWNLOADER_CONFIG"), "Bazel downloader config whose rewrites apply to index downloads (the lockfile keeps canonical URLs); default $CI_IMAGES_DOWNLOADER_CONFIG, which tools/bazel sets in offline mode")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache of verified indexes (default ~/.cache/ci-images/apt)")
	fs.BoolVar(&f.recommends, "recommends", false, "follow Recommends like apt's default (off: --no-install-recommends)")
	fs.BoolVar(&f.allowOlder, "allow-older-release", false, "accept a Release file older than the one the lockfile recorded for the same source (refused by default: a replayed or rolled-back repository)")
}

func runLock(ctx context.Context, e *env, args []string) error {
	var f lockFlags
	fs := newFlags("lock", e)
	f.register(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	ws, err := f.workspaceDir(e)
	if err != nil {
		return err
	}
	if f.check {
		return checkLock(e, ws)
	}
	opt, err := f.options(e, ws)
	if err != nil {
		return err
	}
	_, err = lock.Lock(ctx, opt)
	return err
}

// workspaceDir is --workspace, else $BUILD_WORKSPACE_DIRECTORY, else the working directory.
func (f *lockFlags) workspaceDir(e *env) (string, error) {
	if f.workspace != "" {
		return f.workspace, nil
	}
	if ws := e.getenv("BUILD_WORKSPACE_DIRECTORY"); ws != "" {
		return ws, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	return wd, nil
}

// checkLock is `lock --check`: errStale when the lockfile does not match its inputs.
func checkLock(e *env, ws string) error {
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

// options turns the flags into lock.Options for the workspace ws.
func (f *lockFlags) options(e *env, ws string) (lock.Options, error) {
	opt := lock.Options{
		Workspace:         ws,
		Recommends:        f.recommends,
		Log:               e.stderr,
		AllowOlderRelease: f.allowOlder,
		HTTPClient:        &http.Client{Timeout: 10 * time.Minute},
		CacheDir:          f.cacheDir,
	}
	for _, s := range strings.Split(f.sets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			opt.Sets = append(opt.Sets, s)
		}
	}
	if f.dlConfig != "" {
		p := f.dlConfig
		if !filepath.IsAbs(p) {
			p = filepath.Join(ws, p)
		}
		rw, err := urlrewrite.Load(p)
		if err != nil {
			return opt, err
		}
		opt.Rewriter = rw
	}
	if opt.CacheDir == "" {
		if home := e.getenv("HOME"); home != "" {
			opt.CacheDir = filepath.Join(home, ".cache", "ci-images", "apt")
		}
	}
	return opt, nil
}
