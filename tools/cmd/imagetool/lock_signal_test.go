package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowServer answers every request with the headers and a few bytes of a long body, then
// stalls until the client goes away: a mirror that hangs mid-download. Its channel receives
// each request's path when the request arrives.
func slowServer(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	arrived := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n"))
		w.(http.Flusher).Flush()
		select {
		case arrived <- r.URL.Path:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv, arrived
}

// TestLockLeavesNothingHalfWritten: a lock that fails, or that is stopped by SIGINT or
// SIGTERM while it fetches, exits non-zero (within a second of the signal), leaves the
// previous lockfile as it was and no temporary file behind.
func TestLockLeavesNothingHalfWritten(t *testing.T) {
	w := newLockWorkspace(t)
	good := w.locked(t)
	lockPath := w.path("images/apt.lock.json")
	slow, arrived := slowServer(t)
	slowHost := strings.TrimPrefix(slow.URL, "http://")
	goodCfg := readTestFile(t, w.path("dl.cfg"))
	slowCfg := strings.Replace(goodCfg, "http://"+w.debianHost+"/", "http://"+slowHost+"/", 1)
	// The cache would answer without the network: every run here starts with an empty one.
	for _, tc := range []struct {
		name     string
		packages string // images/small/packages.json
		config   string // dl.cfg
		signal   os.Signal
		// want is the last line of stderr.
		want string
	}{
		{
			name: "resolution fails", config: goodCfg,
			packages: `{"requests": ["openssl", "no-such-package"], "exclude": ["perl-base"]}`,
			want:     "imagetool lock: set small (images/small/packages.json): ",
		},
		{
			name: "SIGINT while fetching", config: slowCfg, packages: smallPackages, signal: os.Interrupt,
			want: "imagetool lock: interrupted (interrupt signal received): " + lockPath + " was not changed",
		},
		{
			name: "SIGTERM while fetching", config: slowCfg, packages: smallPackages, signal: syscall.SIGTERM,
			want: "imagetool lock: interrupted (terminated signal received): " + lockPath + " was not changed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.RemoveAll(w.path("cache")); err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, w.path("dl.cfg"), tc.config)
			writeTestFile(t, w.path("images/small/packages.json"), tc.packages)
			defer writeTestFile(t, w.path("dl.cfg"), goodCfg)
			defer writeTestFile(t, w.path("images/small/packages.json"), smallPackages)
			var r result
			if tc.signal == nil {
				r = w.lock(t)
			} else {
				r = interruptLock(t, w, tc.signal, arrived)
			}
			if r.code == 0 || !strings.HasPrefix(r.lastLine(), tc.want) {
				t.Errorf("exit %d, last line %q\nwant a failure, %q", r.code, r.lastLine(), tc.want)
			}
			w.assertFiles(t, inputFiles, good)
			if got := readTestFile(t, lockPath); got != good {
				t.Errorf("lockfile changed")
			}
		})
	}
}

// interruptLock starts `imagetool lock` on w, sends sig once the slow server has a request,
// and returns the result; it fails the test if imagetool takes more than a second to exit.
func interruptLock(t *testing.T, w *lockWorkspace, sig os.Signal, arrived chan string) result {
	t.Helper()
	for len(arrived) > 0 {
		<-arrived
	}
	cmd, stdout, stderr := imagetoolCmd(t, "lock", "--workspace", w.dir, "--downloader-config", "dl.cfg", "--cache-dir", w.path("cache"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case p := <-arrived:
		t.Logf("fetching %s", p)
	case err := <-done:
		t.Fatalf("imagetool exited before fetching: %v\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("imagetool did not fetch from the slow server\n%s", stderr)
	}
	start := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("imagetool still running 10s after %v\n%s", sig, stderr)
	}
	took := time.Since(start)
	t.Logf("exited %v after %v", err, took)
	if took > time.Second {
		t.Errorf("imagetool took %v to stop after %v, want at most a second", took, sig)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// TestLockRemovesWhatAKilledLockLeft: a lock killed with SIGKILL while writing leaves its
// temporary lockfile beside the lockfile, or a temporary index in the cache; the next lock
// that writes the same file removes it and leaves only its results.
func TestLockRemovesWhatAKilledLockLeft(t *testing.T) {
	w := newLockWorkspace(t)
	w.locked(t)
	// An index the next lock downloads and caches again.
	cached := tree(t, w.path("cache/sha256"))
	if len(cached) == 0 {
		t.Fatal("nothing cached")
	}
	if err := os.Remove(filepath.Join(w.path("cache/sha256"), cached[0])); err != nil {
		t.Fatal(err)
	}
	left := []string{
		w.path("images/.apt.lock.json.tmp-123456"),
		filepath.Join(w.path("cache/sha256"), "."+cached[0]+".tmp-123456"),
	}
	for _, p := range left {
		writeTestFile(t, p, `{"version": 1, "packa`)
	}
	if r := w.lock(t); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, p := range left {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	w.assertFiles(t, inputFiles, "")
}
