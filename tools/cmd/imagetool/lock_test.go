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

// TestLockCommand locks a Debian-only set from fixture repositories through a downloader
// config, then checks --check before and after an input changes.
func TestLockCommand(t *testing.T) {
	d := testrepo.Debian(t)
	ws := t.TempDir()
	key, err := os.ReadFile(d.Debian.KeyringPath)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(ws, "images/keys/debian.asc"), string(key))
	writeTestFile(t, filepath.Join(ws, "pg_versions.bzl"), `PG_VERSIONS = {"16": "16.13"}`)
	src := func(name, url, suite string) map[string]any {
		return map[string]any{"name": name, "url": url, "suite": suite, "components": []string{"main"}, "keyring": "images/keys/debian.asc"}
	}
	sources, _ := json.Marshal(map[string]any{"arch": "amd64", "sources": []any{
		src("debian", "https://snapshot.invalid/archive/debian/20240102T000000Z", "bookworm"),
		src("debian-security", "https://snapshot.invalid/archive/debian-security/20240102T000000Z", "bookworm-security"),
	}})
	writeTestFile(t, filepath.Join(ws, "images/sources.json"), string(sources))
	writeTestFile(t, filepath.Join(ws, "images/small/packages.json"), `{"requests": ["openssl", "bash"], "exclude": ["perl-base"]}`)
	host := func(u string) string { return strings.SplitN(strings.TrimPrefix(u, "http://"), "/", 2)[0] }
	// The security suite lives on its own server, as on a real mirror.
	writeTestFile(t, filepath.Join(ws, "dl.cfg"), "rewrite snapshot.invalid/archive/debian/[0-9]+T[0-9]+Z/(.*) http://"+host(d.Debian.URL)+"/debian/$1\n"+
		"rewrite snapshot.invalid/archive/debian-security/[0-9]+T[0-9]+Z/(.*) http://"+host(d.Security.URL)+"/debian-security/$1\n")

	code, _, errs := runCmd(t, "lock", "--check", "--workspace", ws)
	if code != 1 || !strings.Contains(errs, "lockfile is stale: run tools/bazel run //images:lock") {
		t.Fatalf("check without lockfile: code %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "lock", "--workspace", ws, "--downloader-config", "dl.cfg", "--cache-dir", filepath.Join(ws, "cache"))
	if code != 0 {
		t.Fatalf("lock: code %d, stderr %s", code, errs)
	}
	for _, want := range []string{"dists/bookworm/InRelease", "Packages", "locked 1 set(s) (small)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	lock, err := os.ReadFile(filepath.Join(ws, "images/apt.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lock), `"https://snapshot.invalid/archive/debian-security/20240102T000000Z/pool/`) || strings.Contains(string(lock), "127.0.0.1") {
		t.Errorf("lockfile does not record canonical URLs only:\n%s", lock)
	}
	if code, _, errs := runCmd(t, "lock", "--check", "--workspace", ws); code != 0 {
		t.Fatalf("check after lock: code %d, stderr %q", code, errs)
	}
	writeTestFile(t, filepath.Join(ws, "images/small/packages.json"), `{"requests": ["openssl"], "exclude": ["perl-base"]}`)
	code, _, errs = runCmd(t, "lock", "--check", "--workspace", ws)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 1 || lines[len(lines)-1] != "imagetool lock: lockfile is stale: run tools/bazel run //images:lock" || !strings.Contains(errs, "changed sets: small") {
		t.Fatalf("check after edit: code %d, stderr %q", code, errs)
	}
	if code, _, errs := runCmd(t, "lock", "--workspace", ws, "--sets", "nothing*"); code != 1 || !strings.Contains(errs, "matches no set") {
		t.Errorf("bad --sets: code %d, stderr %q", code, errs)
	}
	if code, _, _ := runCmd(t, "lock", "--bogus"); code != 2 {
		t.Errorf("bad flag: code %d", code)
	}
}
