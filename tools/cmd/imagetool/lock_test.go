package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/internal/testrepo"
)

func writeTestFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockWorkspace is a workspace with one Debian-only set, "small", whose sources have
// canonical URLs that do not resolve (snapshot.invalid) and a downloader config (dl.cfg)
// that rewrites them to the fixture servers on 127.0.0.1, as on a machine with a mirror.
type lockWorkspace struct {
	dir   string
	repos *testrepo.DebianLayout
	// hosts of the two fixture servers ("127.0.0.1:port").
	debianHost, securityHost string
}

const smallPackages = `{"requests": ["openssl", "bash"], "exclude": ["perl-base"]}`

func newLockWorkspace(t *testing.T) *lockWorkspace {
	t.Helper()
	d := testrepo.Debian(t)
	host := func(u string) string { return strings.SplitN(strings.TrimPrefix(u, "http://"), "/", 2)[0] }
	w := &lockWorkspace{dir: t.TempDir(), repos: d, debianHost: host(d.Debian.URL), securityHost: host(d.Security.URL)}
	writeTestFile(t, w.path("images/keys/debian.asc"), readTestFile(t, d.Debian.KeyringPath))
	writeTestFile(t, w.path("pg_versions.bzl"), `PG_VERSIONS = {"16": "16.13"}`)
	w.writeSources(t, "https://snapshot.invalid/archive/debian/20240102T000000Z", "https://snapshot.invalid/archive/debian-security/20240102T000000Z")
	writeTestFile(t, w.path("images/small/packages.json"), smallPackages)
	// The security suite lives on its own server, as on a real mirror.
	writeTestFile(t, w.path("dl.cfg"), "rewrite snapshot.invalid/archive/debian/[0-9]+T[0-9]+Z/(.*) http://"+w.debianHost+"/debian/$1\n"+
		"rewrite snapshot.invalid/archive/debian-security/[0-9]+T[0-9]+Z/(.*) http://"+w.securityHost+"/debian-security/$1\n")
	return w
}

func (w *lockWorkspace) path(rel string) string { return filepath.Join(w.dir, filepath.FromSlash(rel)) }

// writeSources writes images/sources.json with the two Debian sources at these URLs.
func (w *lockWorkspace) writeSources(t *testing.T, debianURL, securityURL string) {
	t.Helper()
	src := func(name, url, suite string) map[string]any {
		return map[string]any{"name": name, "url": url, "suite": suite, "components": []string{"main"}, "keyring": "images/keys/debian.asc"}
	}
	sources, _ := json.Marshal(map[string]any{"arch": "amd64", "sources": []any{
		src("debian", debianURL, "bookworm"),
		src("debian-security", securityURL, "bookworm-security"),
	}})
	writeTestFile(t, w.path("images/sources.json"), string(sources))
}

// lock runs `imagetool lock` on the workspace through dl.cfg with a cache inside it.
func (w *lockWorkspace) lock(t *testing.T, args ...string) result {
	t.Helper()
	return runImagetool(t, append([]string{"lock", "--workspace", w.dir, "--downloader-config", "dl.cfg", "--cache-dir", w.path("cache")}, args...)...)
}

// check runs `imagetool lock --check` on the workspace.
func (w *lockWorkspace) check(t *testing.T) result {
	t.Helper()
	return runImagetool(t, "lock", "--check", "--workspace", w.dir)
}

// locked locks the workspace and returns the lockfile's content.
func (w *lockWorkspace) locked(t *testing.T) string {
	t.Helper()
	if r := w.lock(t); r.code != 0 {
		t.Fatalf("lock: exit %d\n%s", r.code, r.stderr)
	}
	return readTestFile(t, w.path("images/apt.lock.json"))
}

// inputFiles are the files of a workspace after a lock, outside the cache.
var inputFiles = []string{"dl.cfg", "images/apt.lock.json", "images/keys/debian.asc", "images/small/packages.json", "images/sources.json", "pg_versions.bzl"}

// assertFiles checks that the workspace holds exactly want outside the cache, that
// nothing in it (cache included) is a temporary file, and that the lockfile is lockfile
// (when not "").
func (w *lockWorkspace) assertFiles(t *testing.T, want []string, lockfile string) {
	t.Helper()
	if got := tree(t, w.dir, "cache"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("workspace holds %q, want %q", got, want)
	}
	if tmp := temporaries(t, w.dir); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %q", tmp)
	}
	if lockfile != "" && readTestFile(t, w.path("images/apt.lock.json")) != lockfile {
		t.Errorf("the lockfile changed")
	}
}

// TestLockCommand locks a Debian-only set from fixture repositories through a downloader
// config, then checks --check before and after an input changes.
func TestLockCommand(t *testing.T) {
	w := newLockWorkspace(t)
	r := w.check(t)
	if r.code != 1 || !strings.Contains(r.stderr, "lockfile is stale: run tools/bazel run //images:lock") {
		t.Fatalf("check without lockfile: code %d, stderr %q", r.code, r.stderr)
	}
	r = w.lock(t)
	if r.code != 0 {
		t.Fatalf("lock: code %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"dists/bookworm/InRelease", "Packages", "locked 1 set(s) (small)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	lock := readTestFile(t, w.path("images/apt.lock.json"))
	if !strings.Contains(lock, `"https://snapshot.invalid/archive/debian-security/20240102T000000Z/pool/`) || strings.Contains(lock, "127.0.0.1") {
		t.Errorf("lockfile does not record canonical URLs only:\n%s", lock)
	}
	w.assertFiles(t, inputFiles, "")
	if r := w.check(t); r.code != 0 || !strings.HasPrefix(r.firstLine(), "lockfile is up to date") {
		t.Fatalf("check after lock: code %d, stderr %q", r.code, r.stderr)
	}
	writeTestFile(t, w.path("images/small/packages.json"), `{"requests": ["openssl"], "exclude": ["perl-base"]}`)
	r = w.check(t)
	if r.code != 1 || r.lastLine() != "imagetool lock: lockfile is stale: run tools/bazel run //images:lock" || !strings.Contains(r.stderr, "changed sets: small") {
		t.Fatalf("check after edit: code %d, stderr %q", r.code, r.stderr)
	}
	if r := w.lock(t, "--sets", "nothing*"); r.code != 1 || !strings.Contains(r.stderr, "matches no set") {
		t.Errorf("bad --sets: code %d, stderr %q", r.code, r.stderr)
	}
	if r := runImagetool(t, "lock", "--bogus"); r.code != 2 {
		t.Errorf("bad flag: code %d", r.code)
	}
}
