// Package pushtest tests the push targets of //images end to end: `tools/bazel run` of
// //images:push_all and friends against the CNCF distribution registry (registrytest), behind a
// loopback proxy that counts the bytes sent, then `docker pull` and `docker run` of a pushed
// image. bench_test.go holds the push benchmark (bench/push/run.sh).
package pushtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/registrytest"
)

// harness is a workspace whose push targets the test runs, and a registry to push to.
type harness struct {
	ws    string // the workspace root
	work  string // files that `bazel run` must see (in tools/bazel's offline chroot too)
	reg   *registrytest.Registry
	proxy *registrytest.Proxy
}

// newHarness starts a registry (htpasswd auth with user/password when user is set) and a
// counting proxy in front of it. It skips the test unless CI_IMAGES_INTEGRATION=1.
func newHarness(t *testing.T, user, password string) *harness {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING push end-to-end test: set CI_IMAGES_INTEGRATION=1 (runs tools/bazel, " + registrytest.DistributionModule + "@" + registrytest.DistributionVersion + " and docker)")
	}
	ws, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ws, "tools", "bazel")); err != nil {
		t.Fatalf("workspace root: %v", err)
	}
	h := &harness{ws: ws, work: workDir(t)}
	bin, took, err := registrytest.Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if took > 0 {
		t.Logf("built the registry in %v", took.Round(time.Second))
	}
	if h.reg, err = registrytest.Start(context.Background(), bin, registrytest.Options{Dir: h.dir(t, "registry"), User: user, Password: password}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.reg.Stop() })
	if h.proxy, err = registrytest.NewProxy(h.reg, registrytest.Faults{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.proxy.Close() })
	return h
}

// workDir is a temporary directory under the cache's bazel-root: tools/bazel's offline chroot
// mounts that at the same path, so `bazel run` sees the files the test writes there.
func workDir(t *testing.T) string {
	t.Helper()
	bin, err := registrytest.CacheDir() // <cache>/bin
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(filepath.Dir(bin), "bazel-root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "push-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (h *harness) dir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(h.work, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// dockerConfig writes a docker config.json with credentials for the proxy, as docker login
// does, and returns its directory (for DOCKER_CONFIG).
func (h *harness) dockerConfig(t *testing.T, name, user, password string) string {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, err := json.Marshal(map[string]any{"auths": map[string]any{h.proxy.Host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := h.dir(t, name)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixedStatus writes a --workspace_status_command script with a fixed BUILD_TIMESTAMP and commit.
func (h *harness) fixedStatus(t *testing.T, timestamp int64, commit string) string {
	t.Helper()
	p := filepath.Join(h.work, "fixed-status")
	s := fmt.Sprintf("#!/bin/sh\necho BUILD_TIMESTAMP %d\necho STABLE_GIT_COMMIT %s\n", timestamp, commit)
	if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// result is what one tools/bazel command did.
type result struct {
	err            error
	stdout, stderr string
	took           time.Duration
}

// lastLine is the last non-empty line of stderr: after `bazel run`, the pushed tool's.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	return lines[len(lines)-1]
}

// bazel runs tools/bazel with args in the workspace, with env added to the environment.
func (h *harness) bazel(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(h.ws, "tools", "bazel"), args...)
	cmd.Dir = h.ws
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{err: err, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	t.Logf("tools/bazel %s: %v in %v", strings.Join(args, " "), err, r.took.Round(100*time.Millisecond))
	return r
}

// mustBazel is bazel, failing the test if the command fails.
func (h *harness) mustBazel(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := h.bazel(t, env, args...)
	if r.err != nil {
		t.Fatalf("tools/bazel %s: %v\n%s\n%s", strings.Join(args, " "), r.err, r.stdout, tail(r.stderr, 30))
	}
	return r
}

// pushConfig is the configuration a push target's rule wrote (bazel-bin/images/<target>.push.json).
type pushConfig struct {
	Images []struct {
		Name       string   `json:"name"`
		Layout     string   `json:"layout"`
		Repository string   `json:"repository"`
		Versions   []string `json:"versions"`
	} `json:"images"`
	LeftOut []string `json:"left_out"`
}

func (h *harness) pushConfig(t *testing.T, target string) pushConfig {
	t.Helper()
	var c pushConfig
	b, err := os.ReadFile(h.bin("images", target+".push.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(c.Images) == 0 {
		t.Fatalf("push configuration of %s: %v (%d images)", target, err, len(c.Images))
	}
	return c
}

// bin is a path under bazel-bin.
func (h *harness) bin(parts ...string) string {
	return filepath.Join(append([]string{h.ws, "bazel-bin"}, parts...)...)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
