package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
)

func sample() *Lockfile {
	in := Inputs{
		Arch:             "amd64",
		PGVersions:       map[string]string{"16": "16.13", "17": "17.9"},
		PGVersionsSHA256: strings.Repeat("a", 64),
		Sources: []aptrepo.Source{
			{Name: "pgdg", URL: "https://apt.postgresql.org/pub/repos/apt", Suite: "bookworm-pgdg", Components: []string{"main"}, Architectures: []string{"amd64"}, Keyring: "images/keys/pgdg.asc", KeyringSHA256: strings.Repeat("b", 64), Mirrors: []string{"https://apt-archive.postgresql.org/pub/repos/apt"}},
			{Name: "debian", URL: "https://snapshot.debian.org/archive/debian/20261120T060000Z", Suite: "bookworm", Components: []string{"main"}, Architectures: []string{"amd64"}, Keyring: "images/keys/debian-archive.asc", KeyringSHA256: strings.Repeat("c", 64)},
			{Name: "pgdg-archive", URL: "https://apt-archive.postgresql.org/pub/repos/apt", Suite: "bookworm-pgdg-archive", Components: []string{"main"}, Architectures: []string{"amd64"}, Keyring: "images/keys/pgdg.asc", KeyringSHA256: strings.Repeat("b", 64), Priority: 100},
		},
		Sets: map[string]SetInputs{
			"exttester_16": {File: "images/exttester/packages.json", Requests: []string{"postgresql-16=16.13", "libc6", "postgresql-16-dbgsym=16.13?"}, Sources: []string{"pgdg", "debian", "pgdg-archive"}, Exclude: []string{"z", "a"}},
			"debian15":     {File: "images/debian15/packages.json", Requests: []string{"postgresql-15"}, Sources: []string{"debian"}, BasePriorities: []string{"required"}},
		},
	}
	pkg := func(name, version, arch string, deps ...string) Package {
		return Package{Name: name, Version: version, Arch: arch, Repo: "debian", URLs: []string{"https://snapshot.debian.org/x/" + name + ".deb"}, SHA256: strings.Repeat("d", 64), Size: 10, Depends: deps}
	}
	libc := pkg("libc6", "2.36-9+deb12u9", "amd64", "libgcc-s1_12.2.0-14_amd64")
	libgcc := pkg("libgcc-s1", "12.2.0-14", "amd64", "libc6_2.36-9+deb12u9_amd64")
	pg := pkg("postgresql-15", "15.14-0+deb12u1", "amd64", "tzdata_2025b-0+deb12u1_all", "libc6_2.36-9+deb12u9_amd64")
	tz := pkg("tzdata", "2025b-0+deb12u1", "all")
	lf := &Lockfile{
		Version: Version,
		Inputs:  in,
		Packages: map[string]Package{
			libc.Key(): libc, libgcc.Key(): libgcc, pg.Key(): pg, tz.Key(): tz,
		},
		Sets: map[string][]string{
			"debian15": {pg.Key(), libc.Key(), tz.Key(), libgcc.Key()},
		},
		Notes: map[string][]string{"debian15": {"b note", "a note"}},
		Releases: map[string]Release{"debian": {URL: "https://snapshot.debian.org/archive/debian/20261120T060000Z",
			Suite: "bookworm", Date: time.Date(2026, 11, 15, 9, 10, 11, 0, time.UTC)}},
	}
	lf.InputsSHA256 = in.Hash()
	lf.SetInputsSHA256 = map[string]string{"debian15": in.SetHash("debian15")}
	return lf
}

// shuffled returns a deep copy of lf with every order-insensitive list permuted.
func shuffled(lf *Lockfile, r *rand.Rand) *Lockfile {
	perm := func(s []string) []string {
		c := append([]string(nil), s...)
		r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		return c
	}
	out := *lf
	out.Inputs.Sources = append([]aptrepo.Source(nil), lf.Inputs.Sources...)
	r.Shuffle(len(out.Inputs.Sources), func(i, j int) {
		out.Inputs.Sources[i], out.Inputs.Sources[j] = out.Inputs.Sources[j], out.Inputs.Sources[i]
	})
	out.Inputs.Sets = map[string]SetInputs{}
	for k, s := range lf.Inputs.Sets {
		s.Sources, s.Exclude = perm(s.Sources), perm(s.Exclude)
		out.Inputs.Sets[k] = s
	}
	out.Packages = map[string]Package{}
	for k, p := range lf.Packages {
		p.Depends = perm(p.Depends)
		out.Packages[k] = p
	}
	out.Sets = map[string][]string{}
	for k, s := range lf.Sets {
		out.Sets[k] = perm(s)
	}
	out.Notes = map[string][]string{}
	for k, s := range lf.Notes {
		out.Notes[k] = perm(s)
	}
	return &out
}

func TestDeterministic(t *testing.T) {
	base := sample()
	want, err := marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(want, []byte("}\n")) || !bytes.Contains(want, []byte("\n  \"inputs\": {")) {
		t.Fatalf("unexpected encoding:\n%s", want)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		s := shuffled(base, r)
		if s.Inputs.Hash() != base.Inputs.Hash() {
			t.Fatalf("inputs hash depends on order")
		}
		got, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("shuffle %d encodes differently:\n%s\nwant\n%s", i, got, want)
		}
	}
	// Request order is meaningful: changing it changes the hash.
	other := sample()
	s := other.Inputs.Sets["exttester_16"]
	s.Requests = []string{"libc6", "postgresql-16=16.13", "postgresql-16-dbgsym=16.13?"}
	other.Inputs.Sets["exttester_16"] = s
	if other.Inputs.Hash() == base.Inputs.Hash() || other.Inputs.SetHash("exttester_16") == base.Inputs.SetHash("exttester_16") {
		t.Error("request order does not change the hashes")
	}
	if other.Inputs.SetHash("debian15") != base.Inputs.SetHash("debian15") {
		t.Error("another set's requests change debian15's set hash")
	}
}

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "apt.lock.json")
	lf := sample()
	if err := Write(p, lf); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lf) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, lf)
	}
	if err := Write(p, got); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(p)
	if !bytes.Equal(first, second) {
		t.Error("re-writing a read lockfile changes its bytes")
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Inconsistent files are rejected.
	bad := sample()
	bad.Sets["debian15"] = append(bad.Sets["debian15"], "nope_1_amd64")
	if _, err := marshal(bad); err == nil || !strings.Contains(err.Error(), "nope_1_amd64") {
		t.Errorf("dangling set entry: %v", err)
	}
	if _, err := unmarshal([]byte(`{"version": 2}`)); err == nil {
		t.Error("version 2 accepted")
	}
	if _, err := unmarshal([]byte(`{"version": 1, "extra": 1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestCheck(t *testing.T) {
	lf := sample()
	in := sample().Inputs
	st := Check(lf, in)
	if st.Stale() || !reflect.DeepEqual(st.Missing, []string{"exttester_16"}) {
		t.Fatalf("fresh lockfile: %+v (%s)", st, st)
	}

	// An unlocked set's requests change: inputs hash changes, no locked set changed.
	in2 := sample().Inputs
	s := in2.Sets["exttester_16"]
	s.Requests = append(s.Requests, "gdb")
	in2.Sets["exttester_16"] = s
	st = Check(lf, in2)
	if !st.Stale() || len(st.Changed) != 0 || !strings.Contains(st.String(), "inputs changed") {
		t.Errorf("unlocked set changed: %+v (%s)", st, st)
	}

	// A keyring used by debian15 changes: debian15 is stale.
	in3 := sample().Inputs
	for i := range in3.Sources {
		if in3.Sources[i].Name == "debian" {
			in3.Sources[i].KeyringSHA256 = strings.Repeat("e", 64)
		}
	}
	st = Check(lf, in3)
	if !st.Stale() || !reflect.DeepEqual(st.Changed, []string{"debian15"}) {
		t.Errorf("keyring changed: %+v", st)
	}

	// pgdg's keyring changes: not a source of debian15.
	in4 := sample().Inputs
	for i := range in4.Sources {
		if in4.Sources[i].Name == "pgdg" {
			in4.Sources[i].Priority = 600
		}
	}
	st = Check(lf, in4)
	if !st.Stale() || len(st.Changed) != 0 {
		t.Errorf("pgdg changed: %+v", st)
	}

	// pg_versions.bzl changes (content only).
	in5 := sample().Inputs
	in5.PGVersionsSHA256 = strings.Repeat("f", 64)
	if st := Check(lf, in5); !st.Stale() {
		t.Errorf("pg_versions.bzl change not detected")
	}

	// debian15 removed from the inputs.
	in6 := sample().Inputs
	delete(in6.Sets, "debian15")
	if st := Check(lf, in6); !st.Stale() || !reflect.DeepEqual(st.Removed, []string{"debian15"}) {
		t.Errorf("removed set: %+v", st)
	}

	if st := Check(nil, in); !st.Stale() || len(st.Missing) != 2 {
		t.Errorf("no lockfile: %+v", st)
	}
}

func TestNewPackage(t *testing.T) {
	src := aptrepo.Source{Name: "pgdg", URL: "https://apt.postgresql.org/pub/repos/apt/", Mirrors: []string{"https://mirror.example/apt/", "https://other.example/apt"}}
	p := &aptrepo.Package{Name: "libpq5", Version: "17.9-1.pgdg120+1", Architecture: "amd64", Repo: "pgdg",
		Filename: "pool/main/p/postgresql-17/libpq5_17.9-1.pgdg120+1_amd64.deb", SHA256: strings.Repeat("e", 64), Size: 42}
	got := NewPackage(p, src, nil)
	want := Package{Name: "libpq5", Version: "17.9-1.pgdg120+1", Arch: "amd64", Repo: "pgdg", URLs: []string{
		"https://apt.postgresql.org/pub/repos/apt/" + p.Filename,
		"https://mirror.example/apt/" + p.Filename,
		"https://other.example/apt/" + p.Filename,
	}, SHA256: p.SHA256, Size: 42, Depends: []string{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.Key() != p.Key() {
		t.Errorf("Key %s, want %s", got.Key(), p.Key())
	}
}

// edit decodes a lockfile's JSON, applies fn to it and encodes it again (as a person with
// an editor or jq would).
func edit(t *testing.T, data []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func TestVerify(t *testing.T) {
	good, err := marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	libc := "libc6_2.36-9+deb12u9_amd64"
	for _, tc := range []struct {
		name   string
		edit   func(m map[string]any)
		edited bool
	}{
		{"unchanged, re-encoded compactly", func(map[string]any) {}, false},
		{"set order shuffled", func(m map[string]any) {
			s := obj(m, "sets")["debian15"].([]any)
			s[0], s[len(s)-1] = s[len(s)-1], s[0]
		}, false},
		{"package sha256 zeroed", func(m map[string]any) { obj(m, "packages", libc)["sha256"] = strings.Repeat("0", 64) }, true},
		{"package url changed", func(m map[string]any) { obj(m, "packages", libc)["urls"] = []any{"http://evil.example/libc6.deb"} }, true},
		{"set requests edited", func(m map[string]any) {
			s := obj(m, "inputs", "sets", "debian15")
			s["requests"] = append(s["requests"].([]any), "gdb")
		}, true},
		{"request order changed", func(m map[string]any) {
			s := obj(m, "inputs", "sets", "exttester_16")
			r := s["requests"].([]any)
			r[0], r[1] = r[1], r[0]
		}, true},
		{"inputs_sha256 edited", func(m map[string]any) { m["inputs_sha256"] = strings.Repeat("1", 64) }, true},
		{"release date edited", func(m map[string]any) { obj(m, "releases", "debian")["date"] = "2030-01-01T00:00:00Z" }, true},
		{"set emptied", func(m map[string]any) { obj(m, "sets")["debian15"] = []any{} }, true},
		{"note removed", func(m map[string]any) { delete(m, "notes") }, true},
		{"content_sha256 removed", func(m map[string]any) { delete(m, "content_sha256") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lf, err := unmarshal(edit(t, good, tc.edit))
			if err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			err = lf.Verify()
			if tc.edited != (err != nil) || err != nil && !errors.Is(err, ErrEdited) {
				t.Errorf("Verify: %v, want edited %v", err, tc.edited)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "lockfile was edited by hand: re-lock") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestReadCorrupt(t *testing.T) {
	good, err := marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"truncated", string(good[:len(good)/2]), "unexpected end of the file"},
		{"not JSON", "<<<<<<< HEAD\n" + string(good), "line 1, column 1: invalid character '<'"},
		{"trailing data", string(good) + "}\n", "trailing data after the JSON value"},
		{"two objects (a bad merge)", string(good) + string(good), "trailing data after the JSON value"},
		{"unknown key", string(edit(t, good, func(m map[string]any) { m["extra"] = 1 })), `unknown key "extra"`},
		{"dangling set entry", string(edit(t, good, func(m map[string]any) {
			obj(m, "sets")["debian15"] = []any{"nope_1_amd64"}
		})), "set debian15: nope_1_amd64 is not in packages"},
		{"release of no source", string(edit(t, good, func(m map[string]any) {
			obj(m, "releases")["gone"] = map[string]any{"url": "http://x", "suite": "s", "date": "2026-01-01T00:00:00Z"}
		})), "releases: gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "apt.lock.json")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(p)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Read: %v, want a *CorruptError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p+": not a valid lockfile (") || !strings.HasSuffix(msg, "): delete it or restore it from git") ||
				!strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q, want one line naming %s and %q", msg, p, tc.want)
			}
		})
	}
}
