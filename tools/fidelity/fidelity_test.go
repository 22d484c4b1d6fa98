package fidelity

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/fsdiff"
	"github.com/ci-images/ci-images/tools/lockfile"
)

// TestFidelity compares the image in $FIDELITY_LAYOUT with its oracle (see the package doc).
func TestFidelity(t *testing.T) {
	env := fidelityEnv(t)
	lf, err := lockfile.Read(env.lockfile)
	if err != nil {
		t.Fatal(err)
	}
	phases, suite := lockedPhases(t, lf, env)
	policy := fsdiff.Debian()
	opts := fsdiff.ReadOptions{Normalizers: policy.Normalizers, Keep: KeepBody}

	img, err := Flatten(env.layout)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fsdiff.ReadTar(img, opts)
	img.Close()
	if err != nil {
		t.Fatalf("reading the image: %v", err)
	}
	accounts, err := ImageAccounts(AccountFilesOf(got))
	if err != nil {
		t.Fatalf("the image's accounts: %v", err)
	}
	want, mirror := buildOracle(t, suite, phases, accounts, opts)
	// The mirror's host name shows up in the oracle (apt's lists, sources.list); it must not
	// reach logs or reports.
	redact := strings.NewReplacer(mirrorHost(mirror), "<mirror>")

	r := fsdiff.Compare(want, got, policy)
	t.Logf("image %s (set %s) against its oracle:\n%s", env.layout, env.set, r.Summary())
	owners := Owners(want)
	if env.report != "" {
		if err := os.WriteFile(env.report, []byte(redact.Replace(FormatReport(r, owners))), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("every difference: %s", env.report)
	}
	if n := len(r.Unexplained); n > 0 {
		var b strings.Builder
		for i, d := range r.Unexplained {
			if i == 200 {
				fmt.Fprintf(&b, "... and %d more (set FIDELITY_REPORT for all)\n", n-i)
				break
			}
			fmt.Fprintf(&b, "%s%s\n", d, ownerNote(owners, d.Path))
		}
		t.Errorf("%d unexplained differences between the image and what dpkg and the maintainer scripts make:\n%s", n, redact.Replace(b.String()))
	}
}

type testEnv struct {
	layout, debs, set, baseSet, lockfile, report string
}

func fidelityEnv(t *testing.T) testEnv {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING fidelity test (debootstrap + apt-get oracle of an image): set CI_IMAGES_INTEGRATION=1")
	}
	env := testEnv{layout: os.Getenv("FIDELITY_LAYOUT"), debs: os.Getenv("FIDELITY_DEBS"), set: "debian15", baseSet: "base",
		report: os.Getenv("FIDELITY_REPORT")}
	if env.layout == "" || env.debs == "" {
		t.Skip("SKIPPING fidelity test: set FIDELITY_LAYOUT (an image's OCI layout) and FIDELITY_DEBS (its .deb files); images/tests/fidelity does")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPING fidelity test: building the oracle chroot needs root")
	}
	for _, tool := range []string{"debootstrap", "unshare", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPING fidelity test: %s not found: %v", tool, err)
		}
	}
	if s, ok := os.LookupEnv("FIDELITY_SET"); ok {
		env.set = s
	}
	if s, ok := os.LookupEnv("FIDELITY_BASE_SET"); ok {
		env.baseSet = s
	}
	env.lockfile = os.Getenv("FIDELITY_LOCKFILE")
	if env.lockfile == "" {
		_, file, _, _ := runtime.Caller(0)
		env.lockfile = filepath.Join(filepath.Dir(file), "..", "..", "images", "apt.lock.json")
	}
	return env
}

// lockedPhases returns the phases (base set, then the whole set) with their .deb files, and
// the suite to debootstrap.
func lockedPhases(t *testing.T, lf *lockfile.Lockfile, env testEnv) ([]Phase, string) {
	t.Helper()
	files := debsBySHA256(t, env.debs)
	sets := []string{env.set}
	if env.baseSet != "" {
		sets = []string{env.baseSet, env.set}
	}
	var phases []Phase
	for _, set := range sets {
		keys, ok := lf.Sets[set]
		if !ok {
			t.Fatalf("%s: no set %s", env.lockfile, set)
		}
		ph := Phase{Set: set}
		for _, k := range keys {
			p := lf.Packages[k]
			if files[p.SHA256] == "" {
				t.Fatalf("%s: no .deb with the sha256 of %s (%s)", env.debs, k, p.SHA256)
			}
			ph.Packages = append(ph.Packages, Package{Key: k, SHA256: p.SHA256, File: files[p.SHA256]})
		}
		phases = append(phases, ph)
	}
	return phases, mainSuite(t, lf, env.set)
}

// mainSuite is the suite of the set's sources without a "-" (bookworm, not bookworm-updates).
func mainSuite(t *testing.T, lf *lockfile.Lockfile, set string) string {
	t.Helper()
	var suites []string
	for _, name := range lf.Inputs.Sets[set].Sources {
		for _, s := range lf.Inputs.Sources {
			if s.Name == name && !strings.Contains(s.Suite, "-") {
				suites = append(suites, s.Suite)
			}
		}
	}
	sort.Strings(suites)
	if len(suites) == 0 || suites[0] != suites[len(suites)-1] {
		t.Fatalf("set %s: want one main suite among its sources, have %v", set, suites)
	}
	return suites[0]
}

// debsBySHA256 hashes every *.deb in dir (following symlinks).
func debsBySHA256(t *testing.T, dir string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no .deb files in %s (%v)", dir, err)
	}
	out := map[string]string{}
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[hex.EncodeToString(h.Sum(nil))] = name
	}
	return out
}

// mirrorHost is the host part of a mirror URL (the whole string if it does not parse).
func mirrorHost(mirror string) string {
	if u, err := url.Parse(mirror); err == nil && u.Host != "" {
		return u.Host
	}
	return mirror
}

// buildOracle builds (or takes from the cache) the oracle and reads it; it also returns the
// mirror it was made from.
func buildOracle(t *testing.T, suite string, phases []Phase, accounts Accounts, opts fsdiff.ReadOptions) (fsdiff.Tree, string) {
	t.Helper()
	mirror, err := MirrorFor(DebianSources, suite)
	if err != nil {
		t.Fatal(err)
	}
	version, err := exec.Command("debootstrap", "--version").Output()
	if err != nil {
		t.Fatalf("debootstrap --version: %v", err)
	}
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	o := &Oracle{Mirror: mirror, Suite: suite, DebootstrapVersion: strings.TrimSpace(string(version)), Phases: phases,
		Accounts: accounts, CacheDir: cache, Progress: testWriter{t}}
	path, cached, err := o.Build()
	if err != nil {
		t.Fatalf("building the oracle: %v", err)
	}
	t.Logf("oracle: %s (cached: %v)", path, cached)
	f, err := openTarZst(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tree, err := fsdiff.ReadTar(f, opts)
	if err != nil {
		t.Fatalf("reading the oracle: %v", err)
	}
	return tree, mirror
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
