package pgversions

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `
_BASE = {"16": "16.13"}
PG_VERSIONS = dict(_BASE, **{"18": "18~beta3", "17": "17.9"})
`
	pins, err := Parse("pg_versions.bzl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pin{{"16", "16.13"}, {"17", "17.9"}, {"18", "18~beta3"}}
	if !reflect.DeepEqual(pins, want) {
		t.Fatalf("got %v, want %v", pins, want)
	}
	if got := pins[2].TagVersion(); got != "18beta3" {
		t.Errorf("TagVersion = %q, want 18beta3", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`X = 1`, "PG_VERSIONS is not defined"},
		{`PG_VERSIONS = ["16.1"]`, "is a list, want a dict"},
		{`PG_VERSIONS = {}`, "PG_VERSIONS is empty"},
		{`PG_VERSIONS = {"16": 16.1}`, "must be strings"},
		{`PG_VERSIONS = {"16": "16.x"}`, `PG_VERSIONS["16"] = "16.x": not a Postgres version`},
		{`PG_VERSIONS = {"16": "17.1"}`, "does not belong to major 16"},
		{`PG_VERSIONS = {`, "pg_versions.bzl:1"},
	} {
		_, err := Parse("pg_versions.bzl", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

// The repository's own pg_versions.bzl must always load.
func TestRepositoryFile(t *testing.T) {
	path := filepath.Join("..", "..", "pg_versions.bzl")
	if r := os.Getenv("PG_VERSIONS_BZL"); r != "" {
		path = r
	}
	pins, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) == 0 {
		t.Fatal("no pins")
	}
}
