package tags

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDevTag(t *testing.T) {
	// 2026-11-22T15:30:59Z; the seconds are dropped, the zone is UTC whatever TZ says.
	s := Stamp{Time: time.Date(2026, 11, 22, 16, 30, 59, 0, time.FixedZone("CET", 3600))}
	got, err := s.Tags("16.13")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"16.13-dev202611221530"}; !reflect.DeepEqual(got, want) {
		t.Errorf("dev tags = %q, want %q", got, want)
	}
}

func TestReleaseTags(t *testing.T) {
	s := Stamp{Release: true, Commit: "0a28d32c1f9e4b7a", Time: time.Unix(1, 0)}
	got, err := s.Tags("18~beta3")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"18beta3", "18beta3-v0a28d32"}; !reflect.DeepEqual(got, want) {
		t.Errorf("release tags = %q, want %q", got, want)
	}
}

func TestTagErrors(t *testing.T) {
	for _, tc := range []struct {
		stamp   Stamp
		version string
		want    string
	}{
		{Stamp{}, "16.13", "no build timestamp"},
		{Stamp{Release: true}, "16.13", "no commit"},
		{Stamp{Release: true, Commit: "abc"}, "16.13", "shorter than 7"},
		{Stamp{Release: true, Commit: "0A28D32"}, "16.13", "not a lowercase hexadecimal"},
		{Stamp{Time: time.Unix(1, 0)}, "", "empty version"},
		{Stamp{Time: time.Unix(1, 0)}, "16/13", "invalid tag"},
	} {
		_, err := tc.stamp.Tags(tc.version)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.Tags(%q) error = %v, want one containing %q", tc.stamp, tc.version, err, tc.want)
		}
	}
}

func TestJoined(t *testing.T) {
	if got := Joined([]string{"16.13", "17.9", "18~beta3"}); got != "16.13-17.9-18beta3" {
		t.Errorf("Joined = %q", got)
	}
	tags, err := Stamp{Time: time.Unix(0, 0)}.Tags(Joined([]string{"16.13", "17.9", "18.3"}))
	if err != nil || tags[0] != "16.13-17.9-18.3-dev197001010000" {
		t.Errorf("joined dev tag = %q, %v", tags, err)
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"16.13", "_x", "A-b.c_d", strings.Repeat("a", 128)} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", ".x", "a~b", "a:b", "a/b", strings.Repeat("a", 129)} {
		if Validate(bad) == nil {
			t.Errorf("Validate(%q) accepted it", bad)
		}
	}
}

func TestStatusFiles(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "stable-status.txt")
	volatile := filepath.Join(dir, "volatile-status.txt")
	write(t, stable, "BUILD_EMBED_LABEL \nBUILD_HOST vm\nSTABLE_GIT_COMMIT 0a28d32c1f9e4b7a\n\n")
	write(t, volatile, "BUILD_TIMESTAMP 1795361400\nFORMATTED_DATE 2026 Nov 22 15 30 00 Sun\n")
	st, err := ReadStatusFiles(stable, volatile)
	if err != nil {
		t.Fatal(err)
	}
	if st["BUILD_EMBED_LABEL"] != "" || st["FORMATTED_DATE"] != "2026 Nov 22 15 30 00 Sun" || len(st) != 5 {
		t.Errorf("status = %q", st)
	}
	dev, err := StampFromStatus(st, false)
	if err != nil {
		t.Fatal(err)
	}
	if tags, _ := dev.Tags("17.9"); !reflect.DeepEqual(tags, []string{"17.9-dev202611221530"}) {
		t.Errorf("dev tags from status = %q", tags)
	}
	rel, err := StampFromStatus(st, true)
	if err != nil {
		t.Fatal(err)
	}
	if tags, _ := rel.Tags("17.9"); !reflect.DeepEqual(tags, []string{"17.9", "17.9-v0a28d32"}) {
		t.Errorf("release tags from status = %q", tags)
	}
	if _, err := StampFromStatus(map[string]string{TimestampKey: "yesterday"}, false); err == nil {
		t.Error("a non-numeric BUILD_TIMESTAMP was accepted")
	}
	unstamped, err := StampFromStatus(map[string]string{TimestampKey: "0"}, false)
	if _, terr := unstamped.Tags("17.9"); err != nil || terr == nil || !strings.Contains(terr.Error(), "--stamp") {
		t.Errorf("BUILD_TIMESTAMP 0: %v, tags error %v; want a request for --stamp", err, terr)
	}
	if _, err := ReadStatusFiles(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("a missing status file was accepted")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRepository(t *testing.T) {
	for _, tc := range []struct{ flag, env, want string }{
		{"", "", "ghcr.io/citusdata/exttester:16.13"},
		{"", "private-repo.example/ci", "private-repo.example/ci/exttester:16.13"},
		{"registry.example:5000/x", "private-repo.example/ci", "registry.example:5000/x/exttester:16.13"},
		{"citus", "", "citus/exttester:16.13"},
	} {
		r, err := Repository(tc.flag, tc.env)
		if err != nil {
			t.Fatalf("Repository(%q, %q): %v", tc.flag, tc.env, err)
		}
		ref, err := r.Ref("exttester", "16.13")
		if err != nil || ref.String() != tc.want || ref.Context().Scheme() != "https" {
			t.Errorf("Repository(%q, %q).Ref = %v (%s), %v; want %s over https", tc.flag, tc.env, ref, ref.Context().Scheme(), err, tc.want)
		}
	}
	if tc, _ := Repository("citus", ""); tc.String() != "citus" {
		t.Errorf("String() = %q", tc.String())
	}
}

func TestRepositoryPlainHTTP(t *testing.T) {
	for _, s := range []string{"http://registry.example:5000/ci", "localhost:5000/ci", "127.0.0.1:5000/ci"} {
		r, err := ParseRepository(s)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := r.Ref("a", "b")
		if err != nil || ref.Context().Scheme() != "http" {
			t.Errorf("%s: scheme %s, %v; want http", s, ref.Context().Scheme(), err)
		}
	}
	r, _ := ParseRepository("https://registry.example/ci")
	if ref, _ := r.Ref("a", "b"); ref.String() != "registry.example/ci/a:b" || ref.Context().Scheme() != "https" {
		t.Errorf("https:// prefix: %v over %s", ref, ref.Context().Scheme())
	}
}

func TestRepositoryErrors(t *testing.T) {
	for _, tc := range []struct{ flag, env, want string }{
		{"Foo//bar", "", `--repository: invalid repository "Foo//bar"`},
		{"", "ghcr.io/UPPER", `$DOCKER_REPO: invalid repository "ghcr.io/UPPER"`},
		{"ghcr.io:port/x", "", `invalid repository "ghcr.io:port/x"`},
		{"ghcr.io/x:tag", "", `invalid repository "ghcr.io/x:tag"`},
		{"ghcr.io/x@sha256:00", "", "want registry/namespace"},
		{"ghcr.io/x/", "", "want registry/namespace"},
	} {
		_, err := Repository(tc.flag, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Repository(%q, %q) error = %v, want one line containing %q", tc.flag, tc.env, err, tc.want)
		}
	}
	r, _ := ParseRepository(DefaultRepository)
	if _, err := r.Ref("exttester", "16~beta"); err == nil {
		t.Error("Ref accepted a tag with '~'")
	}
}
