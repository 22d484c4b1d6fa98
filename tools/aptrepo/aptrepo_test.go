package aptrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/ci-images/ci-images/tools/internal/testrepo"
)

func newClient(t *testing.T, opt Options) *Client {
	t.Helper()
	c, err := New(&http.Client{Timeout: 30 * time.Second}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func debianSource(srv *testrepo.Server, suite string) Source {
	return Source{
		Name: "debian", URL: srv.URL, Suite: suite,
		Components: []string{"main"}, Architectures: []string{"amd64", "arm64"},
		Keyring: srv.KeyringPath, Priority: 500,
	}
}

func find(pkgs []Package, name, arch string) *Package {
	for i := range pkgs {
		if pkgs[i].Name == name && (arch == "" || pkgs[i].Architecture == arch) {
			return &pkgs[i]
		}
	}
	return nil
}

// fetchDeb downloads p from the repository at base and checks it against
// its Packages entry.
func fetchDeb(t *testing.T, base string, p *Package) []byte {
	t.Helper()
	u := base + "/" + p.Filename
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v %s", u, err, resp.Status)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(data)) != p.Size {
		t.Fatalf("%s: .deb does not match its Packages entry", u)
	}
	return data
}

func TestFetchDebian(t *testing.T) {
	l := testrepo.Debian(t)
	c := newClient(t, Options{})
	ctx := context.Background()

	idx, err := c.Fetch(ctx, debianSource(l.Debian, "bookworm"))
	if err != nil {
		t.Fatal(err)
	}
	r := idx.Release
	if r.File != "InRelease" || r.Suite != "oldstable" || r.Codename != "bookworm" || !r.AcquireByHash ||
		!r.Date.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || r.Signer == "" || len(r.Components) != 1 {
		t.Errorf("Release: %+v", r)
	}
	if len(idx.Packages) != 2*4+2*10 {
		t.Errorf("%d packages", len(idx.Packages))
	}
	bash := find(idx.Packages, "bash", "arm64")
	if bash == nil || !bash.Essential || bash.PreDepends != "libc6 (>= 2.36), libtinfo6 (>= 6)" ||
		bash.Version != "5.2.15-2+b7" || bash.Repo != "debian" || bash.Priority != "required" ||
		bash.Key() != "bash_5.2.15-2+b7_arm64" {
		t.Errorf("bash: %+v", bash)
	}
	mawk := find(idx.Packages, "mawk", "amd64")
	if mawk == nil || mawk.Provides != "awk" || mawk.MultiArch != "foreign" || mawk.Essential {
		t.Errorf("mawk: %+v", mawk)
	}
	libc := find(idx.Packages, "libc6", "amd64")
	if libc == nil || libc.MultiArch != "same" || libc.Version != testrepo.Libc6Version ||
		libc.Breaks == "" || libc.Conflicts == "" || libc.Recommends == "" {
		t.Errorf("libc6: %+v", libc)
	}
	tz := find(idx.Packages, "tzdata", "")
	if tz == nil || tz.Architecture != "all" || tz.Depends != "debconf (>= 0.5) | debconf-2.0" {
		t.Errorf("tzdata: %+v", tz)
	}
	if !strings.HasPrefix(libc.Filename, "pool/main/g/glibc/libc6_") {
		t.Errorf("libc6 Filename %q", libc.Filename)
	}
	fetchDeb(t, l.Debian.URL, libc)
	// Indexes came by hash, as .xz.
	var byHash int
	for _, p := range l.Debian.Requests() {
		if strings.Contains(p, "/by-hash/SHA256/") {
			byHash++
		}
		if strings.HasSuffix(p, "/Packages.gz") || strings.HasSuffix(p, "/Packages") {
			t.Errorf("unexpected request %s", p)
		}
	}
	if byHash != 2 {
		t.Errorf("%d by-hash requests, want 2: %q", byHash, l.Debian.Requests())
	}

	upd, err := c.Fetch(ctx, debianSource(l.Debian, "bookworm-updates"))
	if err != nil {
		t.Fatal(err)
	}
	if tz := find(upd.Packages, "tzdata", ""); tz == nil || tz.Version != testrepo.TzdataUpdatesVersion {
		t.Errorf("updates tzdata: %+v", tz)
	}
	sec, err := c.Fetch(ctx, debianSource(l.Security, "bookworm-security"))
	if err != nil {
		t.Fatal(err)
	}
	if p := find(sec.Packages, "libssl3", "arm64"); p == nil || p.Version != testrepo.Libssl3SecVersion ||
		!strings.HasPrefix(p.Filename, "pool/") {
		t.Errorf("security libssl3: %+v", p)
	} else {
		fetchDeb(t, l.Security.URL, p)
	}
}

func TestFetchPGDG(t *testing.T) {
	l := testrepo.PGDG(t)
	c := newClient(t, Options{})
	ctx := context.Background()
	src := Source{
		Name: "pgdg", URL: l.Main.URL, Suite: "bookworm-pgdg",
		Components: []string{"main", "16"}, Architectures: []string{"amd64"}, Keyring: l.Main.KeyringPath,
	}
	idx, err := c.Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Release.AcquireByHash {
		t.Error("pgdg layout has no by-hash")
	}
	var libpq []string
	for _, p := range idx.Packages {
		if p.Name == "libpq5" {
			component := strings.Split(p.Filename, "/")[1] // pool/<component>/...
			libpq = append(libpq, component+"="+p.Version)
		}
	}
	if want := "main=" + testrepo.PG17Latest + " 16=" + testrepo.PG16Latest; strings.Join(libpq, " ") != want {
		t.Errorf("libpq5: %q, want %q", libpq, want)
	}
	pg16 := find(idx.Packages, "postgresql-16", "amd64")
	if pg16 == nil || pg16.Version != testrepo.PG16Latest {
		t.Fatalf("postgresql-16: %+v", pg16)
	}
	fetchDeb(t, l.Main.URL, pg16)

	arch := Source{
		Name: "pgdg-archive", URL: l.Archive.URL, Suite: "bookworm-pgdg-archive",
		Components: []string{"main"}, Architectures: []string{"arm64"}, Keyring: l.Archive.KeyringPath,
	}
	aidx, err := c.Fetch(ctx, arch)
	if err != nil {
		t.Fatal(err)
	}
	var vers []string
	for _, p := range aidx.Packages {
		if p.Name == "postgresql-16" {
			vers = append(vers, p.Version)
		}
	}
	if want := testrepo.PG16First + " " + testrepo.PG16Old + " " + testrepo.PG16Latest; strings.Join(vers, " ") != want {
		t.Errorf("archive postgresql-16 versions %q", vers)
	}
	// Plain is preferred when it is the only supported variant listed first.
	c2 := newClient(t, Options{Compressions: []string{""}})
	l.Main.ResetRequests()
	if _, err := c2.Fetch(ctx, src); err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Main.Requests() {
		if strings.HasSuffix(p, ".gz") {
			t.Errorf("fetched %s with Compressions [\"\"]", p)
		}
	}
}

// checkErr asserts a one-line *Error naming repo and file that wraps want.
func checkErr(t *testing.T, err error, want error, file string, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v on %s", want, file)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is %T, not *Error", msg, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", msg, want)
	}
	if prefix := "debian: " + file + ": "; !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q does not start with %q", msg, prefix)
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("error %q does not contain %q", msg, c)
		}
	}
	t.Logf("error: %s", msg)
}

func TestFailures(t *testing.T) {
	const (
		dir  = "dists/bookworm/"
		pxz  = dir + "main/binary-amd64/Packages.xz"
		pgz  = dir + "main/binary-amd64/Packages.gz"
		ppl  = dir + "main/binary-amd64/Packages"
		inr  = dir + "InRelease"
		rel  = dir + "Release"
		rgpg = dir + "Release.gpg"
	)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		opt      Options
		src      func(*Source)
		tamper   func(t *testing.T, s *testrepo.Server)
		want     error // nil: success
		file     string
		contains []string
		check    func(t *testing.T, s *testrepo.Server, idx *Index)
	}{
		{
			name:   "tampered Packages.xz",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Corrupt(pxz) },
			want:   ErrChecksum, file: pxz, contains: []string{"sha256 mismatch (want "},
		},
		{
			name: "tampered Packages.xz, other size",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Tamper(pxz, func(b []byte) []byte { return append(b, 0) })
			},
			want: ErrSize, file: pxz,
		},
		{
			name:   "truncated download",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Truncate(pxz, len(s.File(pxz))/2) },
			want:   ErrSize, file: pxz, contains: []string{"size mismatch (want "},
		},
		{
			name: "bad signature on InRelease",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Tamper(inr, func(b []byte) []byte { return bytes.Replace(b, []byte("Origin: Debian"), []byte("Origin: Evil!!"), 1) })
			},
			want: ErrSignature, file: inr, contains: []string{"bad signature: "},
		},
		{
			name:   "InRelease signed by an unknown key",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Resign("bookworm", testrepo.NewKey(t)) },
			want:   ErrSignature, file: inr, contains: []string{"unknown"},
		},
		{
			name:   "InRelease not clearsigned",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Set(inr, s.File(rel)) },
			want:   ErrSignature, file: inr,
		},
		{
			name:   "missing InRelease falls back to Release + Release.gpg",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Delete(inr) },
			check: func(t *testing.T, s *testrepo.Server, idx *Index) {
				if idx.Release.File != "Release" || !strings.Contains(strings.Join(s.Requests(), " "), "Release.gpg") {
					t.Errorf("no fallback: %q", s.Requests())
				}
			},
		},
		{
			name: "missing InRelease, Release.gpg by an unknown key",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Resign("bookworm", testrepo.NewKey(t))
				s.Delete(inr)
			},
			want: ErrSignature, file: rgpg,
		},
		{
			name: "missing InRelease, tampered Release",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Delete(inr)
				s.Tamper(rel, func(b []byte) []byte { return bytes.Replace(b, []byte("Label: Debian"), []byte("Label: Evil!!"), 1) })
			},
			want: ErrSignature, file: rgpg,
		},
		{
			name:   "missing InRelease and Release.gpg",
			tamper: func(t *testing.T, s *testrepo.Server) { s.Delete(inr); s.Delete(rgpg) },
			want:   ErrNotFound, file: rgpg,
		},
		{
			name: "unknown suite",
			src:  func(s *Source) { s.Suite = "trixie" },
			want: ErrNotFound, file: "dists/trixie/Release", contains: []string{"/debian/dists/trixie/"},
		},
		{
			name: "Release for another suite",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.RewriteRelease("bookworm", replace("Codename: bookworm", "Codename: sid"))
			},
			want: ErrInvalid, file: inr, contains: []string{`want "bookworm"`},
		},
		{
			name:   "server error",
			tamper: func(t *testing.T, s *testrepo.Server) { s.SetStatus(pxz, http.StatusInternalServerError) },
			want:   nil, file: pxz, contains: []string{"500"},
		},
		{
			name: "by-hash 404 falls back to the plain name",
			tamper: func(t *testing.T, s *testrepo.Server) {
				for _, p := range s.Paths() {
					if strings.Contains(p, "/by-hash/") {
						s.Delete(p)
					}
				}
			},
			check: func(t *testing.T, s *testrepo.Server, idx *Index) {
				if !strings.Contains(strings.Join(s.Requests(), " "), "/binary-amd64/Packages.xz") {
					t.Errorf("no plain-name request: %q", s.Requests())
				}
			},
		},
		{
			name: "Packages.xz 404 falls back to .gz",
			tamper: func(t *testing.T, s *testrepo.Server) {
				for _, p := range s.Paths() {
					if strings.Contains(p, "/by-hash/") || strings.HasSuffix(p, ".xz") {
						s.Delete(p)
					}
				}
			},
			check: func(t *testing.T, s *testrepo.Server, idx *Index) {
				if !strings.Contains(strings.Join(s.Requests(), " "), "/binary-amd64/Packages.gz") {
					t.Errorf("no .gz request: %q", s.Requests())
				}
			},
		},
		{
			name: "no variant downloadable",
			tamper: func(t *testing.T, s *testrepo.Server) {
				for _, p := range []string{pxz, pgz, ppl} {
					s.Delete(p)
				}
				s.RewriteRelease("bookworm", replace("Acquire-By-Hash: yes\n", ""))
			},
			want: ErrNotFound, file: ppl,
		},
		{
			name: "uncompressed index does not match Release",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Corrupt(ppl)
				s.RewriteRelease("bookworm", relistPlain(s.File(ppl)))
			},
			want: ErrChecksum, file: pxz, contains: []string{"uncompressed"},
		},
		{
			name: "component not in Release",
			src:  func(s *Source) { s.Components = []string{"main", "contrib"} },
			want: ErrNotFound, file: inr, contains: []string{`"contrib"`},
		},
		{
			name: "Valid-Until in the past is ignored (snapshots expire by design)",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.RewriteRelease("bookworm", replace("Acquire-By-Hash", "Valid-Until: Tue, 09 Jan 2024 03:04:05 UTC\nAcquire-By-Hash"))
			},
			check: func(t *testing.T, s *testrepo.Server, idx *Index) {
				if idx.Release.ValidUntil.Year() != 2024 {
					t.Errorf("ValidUntil %v", idx.Release.ValidUntil)
				}
			},
		},
		{
			name: "malformed Packages entry",
			tamper: func(t *testing.T, s *testrepo.Server) {
				s.Set(ppl, []byte("Package: x\nVersion: 1\nArchitecture: all\nFilename: ../../etc/passwd\nSize: 1\nSHA256: "+strings.Repeat("a", 64)+"\n"))
				relist := relistPlain(s.File(ppl))
				s.RewriteRelease("bookworm", func(r string) string {
					// List only the plain index, with its real hash.
					return relist(dropLines(r, "binary-amd64/Packages."))
				})
			},
			want: ErrInvalid, file: ppl, contains: []string{"bad Filename"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := testrepo.DebianSpec()
			srv := testrepo.Serve(t, d)
			if tc.tamper != nil {
				tc.tamper(t, srv)
			}
			srv.ResetRequests()
			src := debianSource(srv, "bookworm")
			if tc.src != nil {
				tc.src(&src)
			}
			idx, err := newClient(t, tc.opt).Fetch(ctx, src)
			if tc.want == nil && tc.file == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(idx.Packages) == 0 {
					t.Error("no packages")
				}
				if tc.check != nil {
					tc.check(t, srv, idx)
				}
				return
			}
			checkErr(t, err, tc.want, tc.file, tc.contains...)
		})
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func dropLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// relistPlain rewrites the SHA256 entry of main/binary-amd64/Packages to
// describe data.
func relistPlain(data []byte) func(string) string {
	return func(r string) string {
		sum := sha256.Sum256(data)
		lines := strings.Split(r, "\n")
		inSHA := false
		for i, l := range lines {
			if !strings.HasPrefix(l, " ") {
				inSHA = l == "SHA256:"
				continue
			}
			if inSHA && strings.HasSuffix(l, " main/binary-amd64/Packages") {
				lines[i] = " " + hex.EncodeToString(sum[:]) + " " + strconv.Itoa(len(data)) + " main/binary-amd64/Packages"
			}
		}
		return strings.Join(lines, "\n")
	}
}

func TestCacheAndOffline(t *testing.T) {
	d, _ := testrepo.DebianSpec()
	srv := testrepo.Serve(t, d)
	cache := t.TempDir()
	ctx := context.Background()
	src := debianSource(srv, "bookworm")
	first, err := newClient(t, Options{CacheDir: cache}).Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	// Second run: only InRelease is downloaded.
	srv.ResetRequests()
	var events []Progress
	c := newClient(t, Options{CacheDir: cache, Progress: func(p Progress) { events = append(events, p) }})
	if _, err := c.Fetch(ctx, src); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests(); len(r) != 1 || !strings.HasSuffix(r[0], "/InRelease") {
		t.Errorf("re-run requests: %q", r)
	}
	cached := 0
	for _, e := range events {
		if e.Cached {
			cached++
		}
	}
	if cached != 2 {
		t.Errorf("%d cache hits, want 2: %+v", cached, events)
	}
	// A corrupted cache entry is detected and replaced.
	entries, _ := filepath.Glob(filepath.Join(cache, "sha256", "*"))
	if len(entries) != 2 {
		t.Fatalf("cache holds %d files", len(entries))
	}
	for _, e := range entries {
		os.WriteFile(e, []byte("garbage"), 0o644)
	}
	srv.ResetRequests()
	if _, err := newClient(t, Options{CacheDir: cache}).Fetch(ctx, src); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("after cache corruption: %d requests, want 3", n)
	}
	// Offline: no network at all, same result, signature still checked.
	srv.ResetRequests()
	off, err := newClient(t, Options{CacheDir: cache, Offline: true}).Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 0 || len(off.Packages) != len(first.Packages) || off.Release.SHA256 != first.Release.SHA256 {
		t.Errorf("offline: %d requests, %d packages", len(srv.Requests()), len(off.Packages))
	}
	// Offline with a different keyring fails.
	other := src
	other.Keyring = testrepo.WriteKeyring(t, testrepo.NewKey(t))
	_, err = newClient(t, Options{CacheDir: cache, Offline: true}).Fetch(ctx, other)
	checkErr(t, err, ErrSignature, "dists/bookworm/InRelease")
	// Offline for a suite never fetched.
	other = src
	other.Suite = "bookworm-updates"
	_, err = newClient(t, Options{CacheDir: cache, Offline: true}).Fetch(ctx, other)
	checkErr(t, err, nil, "dists/bookworm-updates/InRelease", "offline")
}

func TestKeyringFormats(t *testing.T) {
	d, _ := testrepo.DebianSpec()
	srv := testrepo.Serve(t, d)
	// Binary keyring.
	el, err := loadKeyring(srv.KeyringPath)
	if err != nil {
		t.Fatal(err)
	}
	var bin bytes.Buffer
	if err := el[0].Serialize(&bin); err != nil {
		t.Fatal(err)
	}
	binPath := filepath.Join(t.TempDir(), "k.gpg")
	os.WriteFile(binPath, bin.Bytes(), 0o644)
	// Two armored blocks, ours second.
	multi := append(testrepo.ArmoredPublicKey(t, testrepo.NewKey(t)), testrepo.ArmoredPublicKey(t, srv.Key)...)
	multiPath := filepath.Join(t.TempDir(), "multi.asc")
	os.WriteFile(multiPath, multi, 0o644)
	for _, p := range []string{binPath, multiPath} {
		src := debianSource(srv, "bookworm")
		src.Keyring = p
		if _, err := newClient(t, Options{}).fetchRelease(context.Background(), src); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Relative keyring paths resolve against BaseDir.
	src := debianSource(srv, "bookworm")
	src.Keyring = filepath.Base(binPath)
	if _, err := newClient(t, Options{BaseDir: filepath.Dir(binPath)}).fetchRelease(context.Background(), src); err != nil {
		t.Error(err)
	}
	src.Keyring = "/nonexistent.asc"
	if _, err := newClient(t, Options{}).fetchRelease(context.Background(), src); err == nil || !strings.Contains(err.Error(), "debian: ") {
		t.Errorf("missing keyring: %v", err)
	}
}

func TestContextCanceled(t *testing.T) {
	d, _ := testrepo.DebianSpec()
	srv := testrepo.Serve(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t, Options{}).Fetch(ctx, debianSource(srv, "bookworm"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Source{Name: "x", URL: "https://example.org/debian", Suite: "bookworm", Components: []string{"main"}, Architectures: []string{"amd64"}, Keyring: "k.asc"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Source){
		func(s *Source) { s.Name = "" },
		func(s *Source) { s.Name = "a b" },
		func(s *Source) { s.URL = "ftp://x/y" },
		func(s *Source) { s.Suite = "" },
		func(s *Source) { s.Suite = "../x" },
		func(s *Source) { s.Components = nil },
		func(s *Source) { s.Architectures = []string{"../amd64"} },
		func(s *Source) { s.Keyring = "" },
		func(s *Source) { s.Mirrors = []string{"https://ok.example/debian", "mirror.example/debian"} },
	} {
		s := good
		mod(&s)
		if s.Validate() == nil {
			t.Errorf("%+v validated", s)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(http.DefaultClient, Options{Offline: true}); err == nil {
		t.Error("Offline without CacheDir accepted")
	}
}

// TestExpiredKey: a Release signed while the key was valid is rejected once
// the key has expired, and accepted within the key's lifetime.
func TestExpiredKey(t *testing.T) {
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return created }, KeyLifetimeSecs: 7 * 24 * 3600}
	key, err := openpgp.NewEntity("expiring", "", "expiring@example.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := testrepo.DebianSpec()
	d.Key = key // testrepo signs at 2024-01-02, inside the key's lifetime
	srv := testrepo.Serve(t, d)
	src := debianSource(srv, "bookworm")
	_, err = newClient(t, Options{}).fetchRelease(context.Background(), src)
	checkErr(t, err, ErrSignature, "dists/bookworm/InRelease", "expired")
	// Within the lifetime the check passes.
	now := func() time.Time { return created.Add(48 * time.Hour) }
	if _, err := newClient(t, Options{Now: now}).fetchRelease(context.Background(), src); err != nil {
		t.Fatal(err)
	}
}
