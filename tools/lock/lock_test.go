package lock

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/internal/testrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// fixture is a workspace whose sources point at testrepo servers.
type fixture struct {
	ws     string
	pgdg   *testrepo.PGDGLayout
	debian *testrepo.DebianLayout
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

// baseExclude stands for the parts of a Debian base system the fixture does not serve.
var baseExclude = []string{"adduser", "lsb-base", "netbase", "perl", "perl-base", "ssl-cert", "ucf"}

// sourcesFor returns sources.json content with canonical URLs given by url(name, served).
func sourcesFor(f *fixture, url func(name, served string) string) SourcesConfig {
	src := func(name, served, suite, keyring string, prio int, mirrors ...string) aptrepo.Source {
		return aptrepo.Source{Name: name, URL: url(name, served), Suite: suite, Components: []string{"main"},
			Keyring: keyring, Priority: prio, Mirrors: mirrors}
	}
	return SourcesConfig{Arch: "amd64", Sources: []aptrepo.Source{
		src("debian", f.debian.Debian.URL, "bookworm", "images/keys/debian.asc", 0),
		src("debian-updates", f.debian.Debian.URL, "bookworm-updates", "images/keys/debian.asc", 0),
		src("debian-security", f.debian.Security.URL, "bookworm-security", "images/keys/debian.asc", 0),
		src("pgdg", f.pgdg.Main.URL, "bookworm-pgdg", "images/keys/pgdg.asc", 0, "https://apt-archive.example/pub/repos/apt"),
		src("pgdg-archive", f.pgdg.Archive.URL, "bookworm-pgdg-archive", "images/keys/pgdg.asc", 100),
	}}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ws: t.TempDir(), pgdg: testrepo.PGDG(t), debian: testrepo.Debian(t)}
	copyFile(t, f.pgdg.Main.KeyringPath, filepath.Join(f.ws, "images/keys/pgdg.asc"))
	copyFile(t, f.debian.Debian.KeyringPath, filepath.Join(f.ws, "images/keys/debian.asc"))
	writeJSON(t, filepath.Join(f.ws, SourcesFile), sourcesFor(f, func(_, served string) string { return served }))
	writeFile(t, filepath.Join(f.ws, PGVersionsFile), []byte("PG_VERSIONS = {\n    \"16\": \"16.1\",\n    \"17\": \"17.9\",\n}\n"))
	writeJSON(t, filepath.Join(f.ws, "images/ext/packages.json"), PackagesConfig{
		PerPGVersion: true,
		Requests:     []string{"postgresql-{major}={pg}", "libpq5={pg}", "postgresql-{major}-dbgsym={pg}?", "ca-certificates"},
		Exclude:      baseExclude,
	})
	writeJSON(t, filepath.Join(f.ws, "images/deb/packages.json"), PackagesConfig{
		Sources:  []string{"debian", "debian-updates", "debian-security"},
		Requests: []string{"openssl", "tzdata"},
		Exclude:  []string{"perl-base"},
	})
	return f
}

func (f *fixture) lock(t *testing.T, sets ...string) (*Summary, string, error) {
	t.Helper()
	var log bytes.Buffer
	sum, err := Lock(context.Background(), Options{Workspace: f.ws, Sets: sets, CacheDir: filepath.Join(f.ws, ".cache"), Log: &log})
	return sum, log.String(), err
}

func (f *fixture) read(t *testing.T) (*lockfile.Lockfile, []byte) {
	t.Helper()
	p := filepath.Join(f.ws, LockFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := lockfile.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	return lf, b
}

// versions maps package name to locked key for one set.
func versions(lf *lockfile.Lockfile, set string) map[string]lockfile.Package {
	out := map[string]lockfile.Package{}
	for _, k := range lf.Sets[set] {
		p := lf.Packages[k]
		out[p.Name] = p
	}
	return out
}

func TestLockFixture(t *testing.T) {
	f := newFixture(t)
	sum, log, err := f.lock(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	t.Logf("log:\n%s", log)
	lf, first := f.read(t)

	if want := []string{"deb", "ext_16", "ext_17"}; strings.Join(sum.Locked, " ") != strings.Join(want, " ") {
		t.Errorf("locked %v, want %v", sum.Locked, want)
	}
	for _, want := range []string{"pgdg-archive", "dists/bookworm-pgdg-archive/InRelease", "locked 3 set(s)"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// 16.1 is only in the archive; the pin must not pick 16.13 (a prefix match).
	v16 := versions(lf, "ext_16")
	if p := v16["postgresql-16"]; p.Version != testrepo.PG16First || p.Repo != "pgdg-archive" {
		t.Errorf("postgresql-16: %+v, want %s from pgdg-archive", p, testrepo.PG16First)
	}
	if p := v16["libpq5"]; p.Version != testrepo.PG16First {
		t.Errorf("libpq5 in ext_16: %s, want %s", p.Version, testrepo.PG16First)
	}
	// Unpinned dependencies take the candidate: newest client from pgdg main.
	if p := v16["postgresql-client-16"]; p.Version != testrepo.PG16Latest || p.Repo != "pgdg" {
		t.Errorf("postgresql-client-16: %+v, want %s from pgdg", p, testrepo.PG16Latest)
	}
	if p := v16["libssl3"]; p.Version != testrepo.Libssl3SecVersion || p.Repo != "debian-security" {
		t.Errorf("libssl3: %+v, want the security update", p)
	}
	if p := v16["tzdata"]; p.Version != testrepo.TzdataUpdatesVersion || p.Repo != "debian-updates" {
		t.Errorf("tzdata: %+v, want the stable update", p)
	}
	for _, x := range baseExclude {
		if _, ok := v16[x]; ok {
			t.Errorf("excluded %s selected", x)
		}
	}
	v17 := versions(lf, "ext_17")
	pg17 := v17["postgresql-17"]
	if pg17.Version != testrepo.PG17Latest {
		t.Errorf("postgresql-17: %+v", pg17)
	}
	// URLs: canonical first, then the source's mirrors; the sha256 is the served file's.
	if pg17.Repo == "pgdg" {
		want := []string{f.pgdg.Main.URL + "/" + f.pgdg.Main.DebPath("postgresql-17", testrepo.PG17Latest, "amd64"),
			"https://apt-archive.example/pub/repos/apt/" + f.pgdg.Main.DebPath("postgresql-17", testrepo.PG17Latest, "amd64")}
		if strings.Join(pg17.URLs, " ") != strings.Join(want, " ") {
			t.Errorf("postgresql-17 urls %q, want %q", pg17.URLs, want)
		}
	} else {
		t.Errorf("postgresql-17 from %s; pgdg (priority 500) must win over pgdg-archive (100) for the same version", pg17.Repo)
	}
	// depends name the packages that satisfied each relation.
	if d := strings.Join(v16["postgresql-16"].Depends, " "); !strings.Contains(d, "postgresql-client-16_"+testrepo.PG16Latest+"_amd64") || !strings.Contains(d, "libssl3_"+testrepo.Libssl3SecVersion+"_amd64") {
		t.Errorf("postgresql-16 depends: %s", d)
	}

	// The optional dbgsym requests are dropped with a note; deb uses Debian only.
	for _, set := range []string{"ext_16", "ext_17"} {
		if n := lf.Notes[set]; len(n) != 1 || !strings.Contains(n[0], "dbgsym") {
			t.Errorf("notes of %s: %q", set, n)
		}
	}
	for _, p := range versions(lf, "deb") {
		if !strings.HasPrefix(p.Repo, "debian") {
			t.Errorf("deb uses %s from %s", p.Name, p.Repo)
		}
	}

	// Same inputs, same bytes.
	if _, log, err := f.lock(t); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if _, again := f.read(t); !bytes.Equal(first, again) {
		t.Error("second lock gives different bytes")
	}
	if st, err := Check(f.ws, ""); err != nil || st.Stale() || len(st.Missing) != 0 {
		t.Errorf("check after lock: %+v %v", st, err)
	}
}

func TestLockPartialAndCheck(t *testing.T) {
	f := newFixture(t)
	if _, log, err := f.lock(t, "ext_16"); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	st, err := Check(f.ws, "")
	if err != nil || st.Stale() || strings.Join(st.Missing, " ") != "deb ext_17" {
		t.Fatalf("after partial lock: %+v %v", st, err)
	}
	if _, log, err := f.lock(t, "ext_1[7]", "deb"); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	lf, _ := f.read(t)
	if len(lf.Sets) != 3 {
		t.Fatalf("sets %v", lf.Sets)
	}

	// Changing deb's requests: deb is stale, ext_* are not.
	writeJSON(t, filepath.Join(f.ws, "images/deb/packages.json"), PackagesConfig{
		Sources: []string{"debian", "debian-updates", "debian-security"}, Requests: []string{"openssl"}, Exclude: []string{"perl-base"},
	})
	st, err = Check(f.ws, "")
	if err != nil || !st.Stale() || strings.Join(st.Changed, " ") != "deb" {
		t.Fatalf("after edit: %+v %v", st, err)
	}
	// Re-locking only ext_16 drops deb (its inputs changed) and keeps ext_17.
	sum, _, err := f.lock(t, "ext_16")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sum.Kept, " ") != "ext_17" || strings.Join(sum.Dropped, " ") != "deb" {
		t.Errorf("kept %v dropped %v", sum.Kept, sum.Dropped)
	}
	lf, _ = f.read(t)
	if _, ok := lf.Sets["deb"]; ok {
		t.Error("stale set deb kept")
	}
	used := map[string]bool{}
	for _, keys := range lf.Sets {
		for _, k := range keys {
			used[k] = true
		}
	}
	for k := range lf.Packages {
		if !used[k] {
			t.Errorf("package %s belongs to no set", k)
		}
	}
	if st, _ := Check(f.ws, ""); st.Stale() || strings.Join(st.Missing, " ") != "deb" {
		t.Errorf("after re-lock: %+v", st)
	}

	// pg_versions.bzl changes: everything pinned to it is stale.
	writeFile(t, filepath.Join(f.ws, PGVersionsFile), []byte("PG_VERSIONS = {\"16\": \"16.12\", \"17\": \"17.9\"}\n"))
	if st, _ := Check(f.ws, ""); !st.Stale() || strings.Join(st.Changed, " ") != "ext_16" {
		t.Errorf("after pg_versions change: %+v", st)
	}
	// A keyring changes: every set using it is stale.
	writeFile(t, filepath.Join(f.ws, "images/keys/debian.asc"), append(must(os.ReadFile(filepath.Join(f.ws, "images/keys/debian.asc"))), '\n'))
	if st, _ := Check(f.ws, ""); strings.Join(st.Changed, " ") != "ext_16 ext_17" {
		t.Errorf("after keyring change: %+v", st)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestLockErrors(t *testing.T) {
	oneLine := func(t *testing.T, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("no error, want %q", want)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("error is not one line: %q", msg)
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("error %q lacks %q", msg, w)
			}
		}
	}
	t.Run("unknown package", func(t *testing.T) {
		f := newFixture(t)
		writeJSON(t, filepath.Join(f.ws, "images/deb/packages.json"), PackagesConfig{Requests: []string{"openssl", "no-such-package"}, Exclude: []string{"perl-base"}})
		_, _, err := f.lock(t, "deb")
		oneLine(t, err, "set deb", "images/deb/packages.json", "no-such-package")
		if _, err := os.Stat(filepath.Join(f.ws, LockFile)); !os.IsNotExist(err) {
			t.Error("a failed lock wrote the lockfile")
		}
	})
	t.Run("unsatisfiable pin", func(t *testing.T) {
		f := newFixture(t)
		writeFile(t, filepath.Join(f.ws, PGVersionsFile), []byte("PG_VERSIONS = {\"16\": \"16.5\"}\n"))
		_, _, err := f.lock(t, "ext_16")
		oneLine(t, err, "set ext_16", "images/ext/packages.json", "16.5")
	})
	t.Run("bad signature", func(t *testing.T) {
		f := newFixture(t)
		f.pgdg.Archive.Resign("bookworm-pgdg-archive", testrepo.NewKey(t))
		_, _, err := f.lock(t, "ext_16")
		oneLine(t, err, "pgdg-archive", "dists/bookworm-pgdg-archive/InRelease", "signature", "needed by ext_16")
	})
	t.Run("unreachable source", func(t *testing.T) {
		f := newFixture(t)
		sc := sourcesFor(f, func(name, served string) string {
			if name == "pgdg" {
				return "http://127.0.0.1:1/pub/repos/apt"
			}
			return served
		})
		writeJSON(t, filepath.Join(f.ws, SourcesFile), sc)
		_, _, err := f.lock(t, "ext_*")
		oneLine(t, err, "source pgdg unreachable", "needed by ext_16, ext_17")
		// Debian-only sets do not need pgdg.
		if _, log, err := f.lock(t, "deb"); err != nil {
			t.Errorf("deb: %v\n%s", err, log)
		}
	})
	t.Run("every URL blocked", func(t *testing.T) {
		f := newFixture(t)
		rw, err := urlrewrite.Parse("dl.cfg", strings.NewReader("rewrite (127.0.0.1.*) $1\nblock *\nall_blocked_message use the corporate mirror\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Lock(context.Background(), Options{Workspace: f.ws, Sets: []string{"deb"}, Rewriter: rw})
		oneLine(t, err, "source debian: every URL for ", "blocked by the downloader config: use the corporate mirror", "needed by deb")
	})
	t.Run("keyring_sha256 in sources.json", func(t *testing.T) {
		f := newFixture(t)
		sc := sourcesFor(f, func(_, served string) string { return served })
		sc.Sources[0].KeyringSHA256 = strings.Repeat("0", 64)
		writeJSON(t, filepath.Join(f.ws, SourcesFile), sc)
		_, _, err := f.lock(t)
		oneLine(t, err, SourcesFile, "source debian", "keyring_sha256 is computed")
	})
	t.Run("bad packages.json", func(t *testing.T) {
		f := newFixture(t)
		writeFile(t, filepath.Join(f.ws, "images/deb/packages.json"), []byte(`{"requests": ["a"], "bogus": 1}`))
		_, _, err := f.lock(t)
		oneLine(t, err, "images/deb/packages.json", "bogus")
		writeFile(t, filepath.Join(f.ws, "images/deb/packages.json"), []byte(`{"requests": ["postgresql-{major}"]}`))
		_, _, err = f.lock(t)
		oneLine(t, err, "images/deb/packages.json", "{major}")
	})
}

// TestLockThroughRewrite: canonical URLs that do not resolve, a downloader config mapping
// them to the fixture servers; the lockfile records the canonical URLs.
func TestLockThroughRewrite(t *testing.T) {
	f := newFixture(t)
	canon := map[string]string{
		f.debian.Debian.URL:   "https://snapshot.invalid/archive/debian/20240102T000000Z",
		f.debian.Security.URL: "https://snapshot.invalid/archive/debian-security/20240102T000000Z",
		f.pgdg.Main.URL:       "https://apt.invalid/pub/repos/apt",
		f.pgdg.Archive.URL:    "https://apt-archive.invalid/pub/repos/apt",
	}
	writeJSON(t, filepath.Join(f.ws, SourcesFile), sourcesFor(f, func(_, served string) string { return canon[served] }))
	strip := func(u string) string { return strings.TrimPrefix(u, "http://") }
	host := func(u string) string { return strings.SplitN(strip(u), "/", 2)[0] }
	cfg := "rewrite snapshot.invalid/archive/debian/[0-9]+T[0-9]+Z/(.*) http://" + strip(f.debian.Debian.URL) + "/$1\n" +
		"rewrite snapshot.invalid/archive/debian-security/[0-9]+T[0-9]+Z/(.*) http://" + strip(f.debian.Security.URL) + "/$1\n" +
		"rewrite apt.invalid/(.*) http://" + host(f.pgdg.Main.URL) + "/$1\n" +
		"rewrite apt-archive.invalid/(.*) http://" + host(f.pgdg.Archive.URL) + "/$1\n" +
		"rewrite (.*\\.invalid/.*) $1\n"
	rw, err := urlrewrite.Parse("dl.cfg", strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := Lock(context.Background(), Options{Workspace: f.ws, Rewriter: rw, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	lf, b := f.read(t)
	for _, served := range []string{f.debian.Debian.URL, f.pgdg.Main.URL, "127.0.0.1"} {
		if bytes.Contains(b, []byte(served)) {
			t.Errorf("lockfile mentions the served URL %s", served)
		}
	}
	pg := versions(lf, "ext_16")["postgresql-16"]
	if !strings.HasPrefix(pg.URLs[0], "https://apt-archive.invalid/pub/repos/apt/pool/") {
		t.Errorf("postgresql-16 urls %q", pg.URLs)
	}
	// The rewritten locations really serve the recorded files: every .deb resolves under a
	// fixture server with the recorded sha256 (checked by testrepo's Debs map).
	for _, p := range lf.Packages {
		found := false
		for served, c := range canon {
			if rest, ok := strings.CutPrefix(p.URLs[0], c+"/"); ok {
				for _, s := range []*testrepo.Server{f.debian.Debian, f.debian.Security, f.pgdg.Main, f.pgdg.Archive} {
					if s.URL == served && s.File(rest) != nil {
						found = true
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: %s is not served under its rewritten URL", p.Key(), p.URLs[0])
		}
	}
}
