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
	if code != 0 || !strings.Contains(out, "layer") {
		t.Fatalf("help: code %d, output %q", code, out)
	}
}

func TestUnknownSubcommand(t *testing.T) {
	code, _, errs := runCmd(t, "frobnicate")
	if code != 2 || !strings.Contains(errs, `unknown subcommand "frobnicate"`) {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "layer.json")
	if err := os.WriteFile(cfg, []byte(`{"compression": "gzip", "merged_usr": true, "usres": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"layer", "-out", filepath.Join(dir, "l.tar")}, 2, "want -out FILE, -config FILE and at least one .deb"},
		{[]string{"layer", "-out", filepath.Join(dir, "l.tar"), "-config", cfg, "-epoch", "-1", "x.deb"}, 2, "-epoch: want whole seconds since 1970"},
		{[]string{"layer", "-out", filepath.Join(dir, "l.tar"), "-config", cfg, "-epoch", "soon", "x.deb"}, 2, "-epoch: want whole seconds since 1970"},
		{[]string{"layer", "-out", filepath.Join(dir, "l.tar"), "-config", cfg, "x.deb"}, 1, `unknown key "usres"`},
		{[]string{"layer", "@" + filepath.Join(dir, "missing.params")}, 1, "params file"},
		{[]string{"image", "-out", filepath.Join(dir, "oci"), "stray"}, 2, "want -out DIR"},
		{[]string{"load", "-layout", dir}, 2, "want -layout DIR and at least one -tag"},
		{[]string{"load", "-layout", dir, "-tag", "x:1", "stray"}, 2, "want -layout DIR and at least one -tag"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: code %d, stderr %q; want code %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
