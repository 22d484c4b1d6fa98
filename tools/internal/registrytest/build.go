// Package registrytest runs a real container registry for tests: the CNCF distribution registry
// (github.com/distribution/distribution/v3, pinned at DistributionVersion), built from the Go
// module proxy on first use and cached, started on 127.0.0.1 with a configuration the test
// writes (storage in a temporary directory, optional htpasswd auth and TLS from a throwaway CA),
// and stopped by its PID. A Proxy in front of it counts bytes per request type and injects faults
// (500, 429, connection resets, slow responses) on a share of requests.
//
// The registry is a separate binary, not a dependency of this module: building it from the module
// proxy (as tools/check builds bazel-remote) keeps go.mod lean.
package registrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The registry module and version, and the package of its command.
const (
	DistributionModule  = "github.com/distribution/distribution/v3"
	DistributionVersion = "v3.1.2"
	distributionCommand = "./cmd/registry"
)

// CacheDir is where built binaries are kept: $CI_IMAGES_CACHE/bin, else
// $XDG_CACHE_HOME/ci-images/bin, else ~/.cache/ci-images/bin (the same cache as tools/check).
func CacheDir() (string, error) {
	if d := os.Getenv("CI_IMAGES_CACHE"); d != "" {
		return filepath.Join(d, "bin"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("registrytest: no cache directory: %w", err)
	}
	return filepath.Join(d, "ci-images", "bin"), nil
}

// Binary returns the path of the registry binary, building it first if the cache does not hold
// it. Concurrent callers (test packages run in parallel) wait for one build. It reports how long
// the build took (zero when cached).
func Binary(ctx context.Context) (string, time.Duration, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", 0, err
	}
	bin := filepath.Join(dir, "registry-"+DistributionVersion)
	if _, err := os.Stat(bin); err == nil {
		return bin, 0, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("registrytest: %w", err)
	}
	unlock, err := lockFile(bin + ".lock")
	if err != nil {
		return "", 0, err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, 0, nil // built by another process while we waited
	}
	start := time.Now()
	if err := build(ctx, bin); err != nil {
		return "", 0, err
	}
	return bin, time.Since(start), nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("registrytest: locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// build downloads the module's source from the Go module proxy (go mod download) and builds its
// command in place, outside this module (GOWORK=off, the module's own go.mod and go.sum).
func build(ctx context.Context, bin string) error {
	mod := DistributionModule + "@" + DistributionVersion
	var out bytes.Buffer
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	dl.Stdout, dl.Stderr = &out, &out
	dl.Dir = os.TempDir() // outside any module: nothing here touches this repository's go.mod
	dl.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GO111MODULE=on")
	if err := dl.Run(); err != nil {
		return fmt.Errorf("registrytest: go mod download %s: %w: %s", mod, err, lastLines(out.String(), 5))
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out.Bytes(), &info); err != nil || info.Dir == "" {
		return fmt.Errorf("registrytest: go mod download %s: no module directory (%v%s)", mod, err, info.Error)
	}
	tmp := bin + ".tmp"
	gb := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, distributionCommand)
	gb.Dir = info.Dir
	gb.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	if msg, err := gb.CombinedOutput(); err != nil {
		return fmt.Errorf("registrytest: building %s: %w: %s", mod, err, lastLines(string(msg), 5))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
