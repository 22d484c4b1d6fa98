package lock

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/resolve"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

const debianSources = "/etc/apt/sources.list.d/debian.sources"

// machineMirrors returns the first URIs of the two stanzas of debian.sources (Debian,
// Debian security). Gated by CI_IMAGES_INTEGRATION=1; with it, a missing mirror is fatal.
func machineMirrors(t *testing.T) (main, security string) {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING integration test against the machine's Debian mirror: set CI_IMAGES_INTEGRATION=1")
	}
	f, err := os.Open(debianSources)
	if err != nil {
		t.Fatalf("CI_IMAGES_INTEGRATION=1 but no Debian mirror: %v", err)
	}
	defer f.Close()
	var uris []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "URIs:"); ok {
			if u := strings.Fields(rest); len(u) > 0 {
				uris = append(uris, strings.TrimSuffix(u[0], "/"))
			}
		}
	}
	if len(uris) < 2 {
		t.Fatalf("CI_IMAGES_INTEGRATION=1 but %s names %d mirror URIs, want 2 (Debian, security)", debianSources, len(uris))
	}
	return uris[0], uris[1]
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// mirrorRewriter maps the canonical snapshot URLs to the machine's mirror, like
// tools/mirror-config.
func mirrorRewriter(t *testing.T, main, security string) *urlrewrite.Config {
	t.Helper()
	cfg := "rewrite snapshot.debian.org/archive/debian/[0-9]+T[0-9]+Z/(.*) " + main + "/$1\n" +
		"rewrite snapshot.debian.org/archive/debian-security/[0-9]+T[0-9]+Z/(.*) " + security + "/$1\n"
	rw, err := urlrewrite.Parse("mirror", strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return rw
}

// realWorkspace is a workspace with the repository's Debian sources and keyring and the
// given Debian-only sets.
func realWorkspace(t *testing.T, sets map[string]PackagesConfig) string {
	t.Helper()
	root := repoRoot()
	ws := t.TempDir()
	var sc SourcesConfig
	if err := decodeStrict(root, SourcesFile, &sc); err != nil {
		t.Fatal(err)
	}
	var debian []aptrepo.Source
	for _, s := range sc.Sources {
		if strings.HasPrefix(s.Name, "debian") {
			debian = append(debian, s)
		}
	}
	sc.Sources = debian
	writeJSON(t, filepath.Join(ws, SourcesFile), sc)
	copyFile(t, filepath.Join(root, "images/keys/debian-archive.asc"), filepath.Join(ws, "images/keys/debian-archive.asc"))
	copyFile(t, filepath.Join(root, PGVersionsFile), filepath.Join(ws, PGVersionsFile))
	for name, pc := range sets {
		writeJSON(t, filepath.Join(ws, "images", name, "packages.json"), pc)
	}
	return ws
}

// aptState is a private apt configuration (no root state touched) using the mirror.
type aptState struct {
	dir  string
	opts []string
}

func newAptState(t *testing.T, main, security string) *aptState {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Fatalf("CI_IMAGES_INTEGRATION=1 but no apt-get: %v", err)
	}
	d := t.TempDir()
	for _, p := range []string{"state/lists/partial", "cache/archives/partial", "etc"} {
		if err := os.MkdirAll(filepath.Join(d, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(repoRoot(), "images/keys/debian-archive.asc")
	// One-line format: one suite per line.
	list := "deb [signed-by=" + key + "] " + main + " bookworm main\n" +
		"deb [signed-by=" + key + "] " + main + " bookworm-updates main\n" +
		"deb [signed-by=" + key + "] " + security + " bookworm-security main\n"
	writeFile(t, filepath.Join(d, "etc/sources.list"), []byte(list))
	writeFile(t, filepath.Join(d, "status"), nil)
	return &aptState{dir: d, opts: []string{
		"-o", "Dir::State=" + filepath.Join(d, "state"),
		"-o", "Dir::State::status=" + filepath.Join(d, "status"),
		"-o", "Dir::Etc::SourceList=" + filepath.Join(d, "etc/sources.list"),
		"-o", "Dir::Etc::SourceParts=/dev/null",
		"-o", "Dir::Etc::Preferences=/dev/null",
		"-o", "Dir::Etc::PreferencesParts=/dev/null",
		"-o", "Dir::Cache=" + filepath.Join(d, "cache"),
		"-o", "Debug::NoLocking=1",
		"-o", "APT::Architecture=amd64",
		"-o", "APT::Architectures=amd64",
		"-o", "APT::Sandbox::User=root",
		"-o", "Acquire::Languages=none",
		"-o", "APT::Install-Suggests=false",
	}}
}

func (a *aptState) update(t *testing.T) {
	t.Helper()
	cmd := exec.Command("apt-get", append(a.opts, "-q", "update")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
}

// install runs apt-get install -s and returns name=version of the packages it would install.
func (a *aptState) install(t *testing.T, recommends bool, names []string) []string {
	t.Helper()
	args := append(append([]string(nil), a.opts...), "-q", "-s", "install")
	if !recommends {
		args = append(args, "--no-install-recommends")
	}
	cmd := exec.Command("apt-get", append(args, names...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get install -s: %v\n%s", err, out)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(line, "Inst ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		got = append(got, f[0]+"="+strings.TrimPrefix(f[1], "("))
	}
	sort.Strings(got)
	return got
}

func diff(a, b []string) (onlyA, onlyB []string) {
	inB := map[string]bool{}
	for _, x := range b {
		inB[x] = true
	}
	inA := map[string]bool{}
	for _, x := range a {
		inA[x] = true
		if !inB[x] {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !inA[x] {
			onlyB = append(onlyB, x)
		}
	}
	return
}

// integrationSets are real bookworm sets compared with apt-get.
func integrationSets() map[string]PackagesConfig {
	return map[string]PackagesConfig{
		"pg15": {Requests: []string{"postgresql-15", "postgresql-server-dev-15", "build-essential"}},
		"extdeps": {Requests: []string{"autoconf", "build-essential", "libcurl4-openssl-dev", "libicu-dev", "liblz4-dev",
			"libreadline-dev", "libselinux1-dev", "libssl-dev", "libxslt1-dev", "libzstd-dev", "locales", "gosu",
			"postgresql-15", "postgresql-client-15", "postgresql-server-dev-15", "libpq-dev", "libpq5"}},
		"tools":    {Requests: []string{"gdb", "lcov", "git", "curl", "python3-venv", "libdbd-pg-perl", "libipc-run-perl", "net-tools", "lsof"}},
		"debian15": {BasePriorities: []string{"required"}, Requests: []string{"postgresql-15", "postgresql-server-dev-15", "postgresql-client-15", "build-essential", "locales", "ca-certificates", "libpq-dev"}},
	}
}

// TestLockMatchesAptGet locks real bookworm (+updates, +security) sets through the
// machine's mirror and compares each with `apt-get install -s --no-install-recommends`
// on a private, empty apt state using the same sources.
func TestLockMatchesAptGet(t *testing.T) {
	main, security := machineMirrors(t)
	rw := mirrorRewriter(t, main, security)
	sets := integrationSets()
	ws := realWorkspace(t, sets)
	var log strings.Builder
	start := time.Now()
	sum, err := Lock(context.Background(), Options{Workspace: ws, Rewriter: rw, CacheDir: filepath.Join(t.TempDir(), "cache"), Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("lock: %d packages in %v\n%s", sum.Packages, time.Since(start), log.String())
	lf, err := lockfile.Read(filepath.Join(ws, LockFile))
	if err != nil {
		t.Fatal(err)
	}

	// The exact request lists the resolver saw (base priorities expanded), for apt-get.
	in, err := LoadInputs(ws)
	if err != nil {
		t.Fatal(err)
	}
	c, err := aptrepo.New(&http.Client{Timeout: 5 * time.Minute}, aptrepo.Options{BaseDir: ws, CacheDir: filepath.Join(t.TempDir(), "cache2")})
	if err != nil {
		t.Fatal(err)
	}
	var repos []*aptrepo.Index
	f := &fetcher{c: c, rw: rw, log: &progress{w: io.Discard}}
	for _, src := range in.Sources {
		idx, err := f.source(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		repos = append(repos, idx)
	}
	ix := resolve.NewIndex(in.Arch, repos...)

	apt := newAptState(t, main, security)
	apt.update(t)
	for _, name := range in.SetNames() {
		reqs, _, err := Requests(ix, in.Sets[name])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range reqs {
			n := r.Name
			if r.Version != "" {
				n += "=" + r.Version
			}
			names = append(names, n)
		}
		want := apt.install(t, false, names)
		var got []string
		for _, k := range lf.Sets[name] {
			p := lf.Packages[k]
			got = append(got, p.Name+"="+p.Version)
		}
		sort.Strings(got)
		onlyLock, onlyApt := diff(got, want)
		if len(onlyLock)+len(onlyApt) > 0 {
			t.Errorf("set %s: lock has %d packages, apt-get %d\n  only in lock: %v\n  only in apt-get: %v", name, len(got), len(want), onlyLock, onlyApt)
		} else {
			t.Logf("set %s: %d packages, identical to apt-get install -s --no-install-recommends", name, len(got))
		}
	}
}
