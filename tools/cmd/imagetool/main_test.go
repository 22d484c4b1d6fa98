package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func TestHelpListsSubcommands(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 || !strings.Contains(out, "pgversions") {
		t.Fatalf("help: code %d, output %q", code, out)
	}
}

func TestUnknownSubcommand(t *testing.T) {
	code, _, errs := runCmd(t, "frobnicate")
	if code != 2 || !strings.Contains(errs, `unknown subcommand "frobnicate"`) {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

func TestPGVersions(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pg_versions.bzl")
	if err := os.WriteFile(f, []byte(`PG_VERSIONS = {"17": "17.9", "16": "16.13"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "pgversions", "-file", f)
	if code != 0 || out != "16\t16.13\n17\t17.9\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCmd(t, "pgversions", "-file", filepath.Join(t.TempDir(), "missing.bzl"))
	if code != 1 || !strings.Contains(errs, "missing.bzl") {
		t.Fatalf("missing file: code %d, stderr %q", code, errs)
	}
}
