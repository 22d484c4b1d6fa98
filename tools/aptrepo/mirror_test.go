package aptrepo

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// mirrorURLs returns the URIs: of /etc/apt/sources.list.d/debian.sources
// (the Debian mirror first, the security mirror second) or skips. The test
// runs only with CI_IMAGES_INTEGRATION=1, CI_IMAGES_MIRROR_TESTS=1 or CI=true so that plain
// `go test` stays hermetic; under CI a missing sources file is fatal.
func mirrorURLs(t *testing.T) []string {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	if os.Getenv("CI_IMAGES_MIRROR_TESTS") != "1" && os.Getenv("CI_IMAGES_INTEGRATION") != "1" && !ci {
		t.Skip("SKIPPING mirror test: set CI_IMAGES_INTEGRATION=1 (or CI=true) to fetch from the Debian mirror in /etc/apt/sources.list.d/debian.sources")
	}
	const sources = "/etc/apt/sources.list.d/debian.sources"
	f, err := os.Open(sources)
	if err != nil {
		if ci {
			t.Fatalf("CI=true but no Debian mirror configured: %v", err)
		}
		t.Skipf("SKIPPING mirror test: %v", err)
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "URIs:"); ok {
			if u := strings.Fields(rest); len(u) > 0 {
				urls = append(urls, u[0])
			}
		}
	}
	if len(urls) == 0 {
		t.Fatalf("%s: no URIs: line", sources)
	}
	return urls
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestDebianMirror(t *testing.T) {
	urls := mirrorURLs(t)
	u := urls[0]
	c, err := New(&http.Client{Timeout: 5 * time.Minute}, Options{BaseDir: repoRoot(t), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	src := Source{
		Name: "debian", URL: u, Suite: "bookworm",
		Components: []string{"main"}, Architectures: []string{"amd64"},
		Keyring: "images/keys/debian-archive.asc",
	}
	ctx := context.Background()
	start := time.Now()
	idx, err := c.Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fetched %d packages in %v, Release signed by %s, dated %v", len(idx.Packages), time.Since(start), idx.Release.Signer, idx.Release.Date)
	if n := len(idx.Packages); n < 50000 {
		t.Errorf("only %d packages", n)
	}
	if idx.Release.Codename != "bookworm" || !idx.Release.AcquireByHash || idx.Release.Date.IsZero() {
		t.Errorf("unexpected Release: codename %q by-hash %v date %v", idx.Release.Codename, idx.Release.AcquireByHash, idx.Release.Date)
	}
	var bash *Package
	for i := range idx.Packages {
		if idx.Packages[i].Name == "bash" {
			bash = &idx.Packages[i]
		}
	}
	if bash == nil {
		t.Fatal("bash not found")
	}
	if !bash.Essential || bash.PreDepends == "" || !strings.HasPrefix(bash.Filename, "pool/main/b/bash/") {
		t.Errorf("bash looks wrong: %+v", *bash)
	}
	// Second run: indexes come from the cache.
	cached := 0
	c2, _ := New(&http.Client{Timeout: time.Minute}, Options{BaseDir: repoRoot(t), CacheDir: c.opt.CacheDir,
		Progress: func(p Progress) {
			if p.Cached {
				cached++
			}
		}})
	start = time.Now()
	idx2, err := c2.Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cached re-run: %d packages in %v", len(idx2.Packages), time.Since(start))
	if cached != 1 || len(idx2.Packages) != len(idx.Packages) {
		t.Errorf("re-run: %d cache hits, %d packages", cached, len(idx2.Packages))
	}
}

func TestDebianSecurityMirror(t *testing.T) {
	urls := mirrorURLs(t)
	if len(urls) < 2 {
		t.Skip("SKIPPING: no security mirror (second URIs: stanza) configured")
	}
	c, err := New(&http.Client{Timeout: 5 * time.Minute}, Options{BaseDir: repoRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := c.Fetch(context.Background(), Source{
		Name: "debian-security", URL: urls[1], Suite: "bookworm-security",
		Components: []string{"main"}, Architectures: []string{"amd64"},
		Keyring: "images/keys/debian-archive.asc",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages, Release %s signed by %s", len(idx.Packages), idx.Release.Date, idx.Release.Signer)
	if idx.Release.Codename != "bookworm-security" || len(idx.Packages) < 100 {
		t.Errorf("codename %q, %d packages", idx.Release.Codename, len(idx.Packages))
	}
}
