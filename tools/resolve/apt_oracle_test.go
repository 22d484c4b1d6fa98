package resolve

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/deb822"
)

// The tests in this file compare Resolve with apt itself: `apt-get -s
// install --no-install-recommends` against an empty dpkg status, over the
// host's own apt lists (a Debian bookworm host after `apt-get update`).
// They are skipped when there are no lists or no apt-get.

const aptLists = "/var/lib/apt/lists"

// hostPackages reads every *_Packages* list of the host through
// apt-helper, which decompresses whatever format apt stored: one repository
// per list, named by the list's file name, at the default priority.
func hostPackages(t testing.TB) []*aptrepo.Index {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("SKIPPING apt oracle: apt-get not found: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(aptLists, "*_binary-amd64_Packages*"))
	if len(files) == 0 {
		t.Skipf("SKIPPING apt oracle: no Packages lists in %s (run apt-get update)", aptLists)
	}
	var repos []*aptrepo.Index
	for _, f := range files {
		repo := &aptrepo.Index{Source: aptrepo.Source{Name: filepath.Base(f)}}
		out, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", f).Output()
		if err != nil {
			t.Fatalf("apt-helper cat-file %s: %v", f, err)
		}
		paras, err := deb822.ParseAll(out)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range paras {
			pkg, err := aptrepo.ParsePackage(p, repo.Source.Name)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			repo.Packages = append(repo.Packages, pkg)
		}
		repos = append(repos, repo)
	}
	return repos
}

// aptInstall runs apt-get's simulation on an empty status and returns the
// "name_version" of every package it would install, sorted, or an error.
func aptInstall(t testing.TB, dir string, recommends bool, names []string) ([]string, error) {
	args := []string{"-s", "-q", "-o", "Dir::State::status=" + filepath.Join(dir, "status"),
		"-o", "Dir::Cache::pkgcache=" + filepath.Join(dir, "pkgcache.bin"),
		"-o", "Dir::Cache::srcpkgcache=" + filepath.Join(dir, "srcpkgcache.bin"),
		"-o", "APT::Install-Recommends=" + strconv.FormatBool(recommends), "-o", "APT::Install-Suggests=false",
		"-o", "Dir::Etc::preferences=/dev/null", "-o", "Dir::Etc::preferencesparts=/nonexistent",
		"install"}
	args = append(args, names...)
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(string(out)))
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(line, "Inst ")
		if !ok {
			continue
		}
		name, rest, _ := strings.Cut(rest, " (")
		ver, _, _ := strings.Cut(rest, " ")
		got = append(got, name+"_"+ver)
	}
	sort.Strings(got)
	return got, nil
}

// aptOracleCases are install requests whose closures exercise virtual
// packages (awk, debconf-2.0, mail-transport-agent), alternatives,
// Pre-Depends and versioned dependencies across bookworm and its updates.
var aptOracleCases = [][]string{
	{"postgresql-15"},
	{"base-files"},         // Pre-Depends: awk -> mawk (Priority: required)
	{"base-files", "gawk"}, // an awk provider already selected wins
	{"original-awk", "base-files"},
	{"postgresql-client-15"},
	{"libpq-dev"},
	{"curl"},
	{"git"},
	{"python3"},
	{"openssh-server"},
	{"ca-certificates"},
	{"locales"},
	{"gnupg"},
	{"sudo", "less", "wget"},
	{"bsd-mailx"},
	{"build-essential"},
	{"postgresql-15-postgis-3"},
	{"libreoffice-core-nogui"},
	{"gawk", "bsd-mailx"},
	{"postfix", "bsd-mailx"},
	{"bsd-mailx", "postfix"},
	{"apt"},
	{"python3-psycopg2"},
	{"awk"},
	{"mail-transport-agent"},
	{"default-jre-headless"},
	{"nosuchpackage-xyz"},
	{"tzdata", "systemd"},
	{"exim4-daemon-heavy", "postfix"},
	{"+recommends", "postgresql-15"},
	{"+recommends", "curl", "git"},
	{"+recommends", "python3-pip"},
}

// oracleCase splits a leading "+recommends" marker off a case.
func oracleCase(c []string) (names []string, recommends bool) {
	if len(c) > 0 && c[0] == "+recommends" {
		return c[1:], true
	}
	return c, false
}

func TestMatchesAptGet(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING apt oracle in -short mode")
	}
	start := time.Now()
	repos := hostPackages(t)
	parsed := time.Since(start)
	start = time.Now()
	ix := NewIndex("amd64", repos...)
	indexed := time.Since(start)
	t.Logf("%d packages: read and parsed in %v, indexed in %v", ix.Len(), parsed, indexed)

	// An empty status file, and apt's binary caches kept beside it so that
	// only the first apt-get run builds them.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		keys []string
		err  error
	}
	apt := make([]outcome, len(aptOracleCases))
	names, rec := oracleCase(aptOracleCases[0])
	keys, err := aptInstall(t, dir, rec, names)
	apt[0] = outcome{keys, err}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, c := range aptOracleCases {
		if i == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			names, rec := oracleCase(c)
			keys, err := aptInstall(t, dir, rec, names)
			apt[i] = outcome{keys, err}
		}()
	}
	wg.Wait()

	for i, c := range aptOracleCases {
		start := time.Now()
		names, rec := oracleCase(c)
		res, err := ix.Resolve(reqs(names...), Options{Recommends: rec})
		took := time.Since(start)
		want := apt[i]
		if want.err != nil {
			if err == nil {
				t.Errorf("%v: apt fails but Resolve does not:\napt: %v", c, firstLine(want.err.Error()))
			} else {
				t.Logf("%v: both fail; apt: %s; resolve: %v", c, lastError(want.err.Error()), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: Resolve: %v (apt installs %d packages)", c, err, len(want.keys))
			continue
		}
		var got []string
		for _, p := range res.Packages {
			got = append(got, p.Name+"_"+p.Version)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want.keys) {
			t.Errorf("%v: differs from apt-get\nonly resolve: %v\nonly apt:     %v", c, minus(got, want.keys), minus(want.keys, got))
			continue
		}
		t.Logf("%v: %d packages, same as apt-get (resolved in %v)", c, len(got), took)
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func lastError(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "E: ") {
			return lines[i]
		}
	}
	return firstLine(s)
}

// BenchmarkRealIndex measures NewIndex + Resolve over the host's full
// bookworm lists (parsing the lists is not measured).
func BenchmarkRealIndex(b *testing.B) {
	repos := hostPackages(b)
	rs := reqs("postgresql-15", "build-essential", "git", "curl", "python3", "openssh-server", "locales")
	var n, indexed int
	for b.Loop() {
		ix := NewIndex("amd64", repos...)
		res, err := ix.Resolve(rs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n, indexed = len(res.Packages), ix.Len()
	}
	b.ReportMetric(float64(n), "pkgs")
	b.ReportMetric(float64(indexed), "indexed")
}
