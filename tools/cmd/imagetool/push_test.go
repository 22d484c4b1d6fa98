package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The status files of a stamped build at 2026-11-22T15:30:00Z of commit 0a28d32c...
const (
	testStable   = "BUILD_EMBED_LABEL \nBUILD_HOST vm\nSTABLE_GIT_COMMIT 0a28d32c1f9e4b7a\n"
	testVolatile = "BUILD_TIMESTAMP 1795361400\n"
)

// pushFixture is a push configuration of two images, as the oci_push rule writes it, with the
// status files of a stamped build.
type pushFixture struct {
	dir, config, stable, volatile string
	digests                       map[string]string // image name -> digest
}

func newPushFixture(t *testing.T, cfg pushConfig) *pushFixture {
	t.Helper()
	f := &pushFixture{dir: t.TempDir(), digests: map[string]string{}}
	for i := range cfg.Images {
		im := &cfg.Images[i]
		im.Layout = filepath.Join(f.dir, im.Name)
		f.digests[im.Name] = writeTestLayout(t, im.Layout)
	}
	f.config = filepath.Join(f.dir, "push.json")
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.stable, f.volatile = filepath.Join(f.dir, "stable-status.txt"), filepath.Join(f.dir, "volatile-status.txt")
	for p, s := range map[string]string{f.config: string(b), f.stable: testStable, f.volatile: testVolatile} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// writeTestLayout writes an OCI layout holding one random image and returns its digest.
func writeTestLayout(t *testing.T, dir string) string {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err == nil {
		err = p.AppendImage(img)
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func (f *pushFixture) args(extra ...string) []string {
	return append([]string{"push", "-config", f.config, "-stable-status", f.stable, "-volatile-status", f.volatile}, extra...)
}

func twoImages() pushConfig {
	return pushConfig{
		Images: []pushImage{
			{Name: "exttester_18", Repository: "exttester", Versions: []string{"18~beta3"}},
			{Name: "pgupgradetester", Repository: "pgupgradetester", Versions: []string{"16.13", "17.9", "18~beta3"}},
		},
		LeftOut: []string{"extbuilder_16"},
	}
}

func runWithEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestPushDryRunTags(t *testing.T) {
	f := newPushFixture(t, twoImages())
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"dev tags, default repository", nil, nil, []string{
			"would push ghcr.io/citusdata/exttester:18beta3-dev202611221530 (" + f.digests["exttester_18"] + ", exttester_18)",
			"would push ghcr.io/citusdata/pgupgradetester:16.13-17.9-18beta3-dev202611221530 (" + f.digests["pgupgradetester"] + ", pgupgradetester)",
		}},
		{"release tags, DOCKER_REPO", map[string]string{"DOCKER_REPO": "private-repo"}, []string{"-release"}, []string{
			"would push private-repo/exttester:18beta3 (",
			"would push private-repo/exttester:18beta3-v0a28d32 (",
			"would push private-repo/pgupgradetester:16.13-17.9-18beta3-v0a28d32 (",
		}},
		{"--repository wins over DOCKER_REPO", map[string]string{"DOCKER_REPO": "private-repo"}, []string{"--repository=localhost:5000/ci"}, []string{
			"would push localhost:5000/ci/exttester:18beta3-dev202611221530 (",
		}},
	} {
		code, out, errs := runWithEnv(t, tc.vars, f.args(append(tc.args, "--dry-run")...)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, errs)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		if !strings.Contains(out, "2 image(s): 2 would push; 0 B sent") {
			t.Errorf("%s: no summary:\n%s", tc.name, out)
		}
		if want := "imagetool push: left out (package set not locked): extbuilder_16\n"; !strings.Contains(errs, want) {
			t.Errorf("%s: stderr %q lacks %q", tc.name, errs, want)
		}
	}
}

func TestPushExplicitTagsNeedNoStamp(t *testing.T) {
	cfg := pushConfig{Images: []pushImage{{Name: "app", Repository: "team/app", RemoteTags: []string{"latest", "v1"}}}}
	f := newPushFixture(t, cfg)
	tagsFile := filepath.Join(f.dir, "tags.txt")
	os.WriteFile(tagsFile, []byte("\nfrom-file\n"), 0o644)
	repoFile := filepath.Join(f.dir, "repository.txt")
	os.WriteFile(repoFile, []byte("team/other\n"), 0o644)
	cfg.Images[0].Layout = filepath.Join(f.dir, "app")
	cfg.Images[0].RemoteTagsFile, cfg.Images[0].RepositoryFile = tagsFile, repoFile
	b, _ := json.Marshal(cfg)
	os.WriteFile(f.config, b, 0o644)
	code, out, errs := runWithEnv(t, nil, "push", "-config", f.config, "-dry-run", "-repository", "r.example/x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, tag := range []string{"latest", "v1", "from-file"} {
		if !strings.Contains(out, "would push r.example/x/team/other:"+tag+" (") {
			t.Errorf("no %s tag:\n%s", tag, out)
		}
	}
}

func TestPushErrors(t *testing.T) {
	f := newPushFixture(t, twoImages())
	dup := newPushFixture(t, pushConfig{Images: []pushImage{
		{Name: "a", Repository: "same", Versions: []string{"16.13"}},
		{Name: "b", Repository: "same", Versions: []string{"16.13"}},
	}})
	host := newPushFixture(t, pushConfig{Images: []pushImage{{Name: "a", Repository: "ghcr.io/citusdata/a", Versions: []string{"16.13"}}}})
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"malformed --repository, checked first", nil, []string{"push", "-config", "/nonexistent", "-repository", "Bad Repo"}, 1, `--repository: invalid repository "Bad Repo"`},
		{"malformed DOCKER_REPO", map[string]string{"DOCKER_REPO": "UPPER/case"}, f.args(), 1, "$DOCKER_REPO: invalid repository"},
		{"unstamped build", nil, []string{"push", "-config", f.config, "-dry-run"}, 1, "build with --stamp"},
		{"release without a commit", nil, []string{"push", "-config", f.config, "-volatile-status", f.volatile, "-release", "-dry-run"}, 1, "no commit in the workspace status"},
		{"one tag for two images", nil, dup.args("-dry-run"), 1, "images a and b are both tagged ghcr.io/citusdata/same:16.13-dev202611221530"},
		{"a registry in the repository", nil, host.args("-dry-run"), 1, `repository "ghcr.io/citusdata/a" names a registry`},
		{"unreachable registry", nil, f.args("-repository", "127.0.0.1:1/ci"), 1, "cannot reach the registry"},
		{"no config", nil, []string{"push"}, 2, "want -config FILE"},
		{"bad jobs", nil, f.args("-jobs", "0"), 2, "-jobs 0"},
	} {
		code, out, errs := runWithEnv(t, tc.vars, tc.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		last := lines[len(lines)-1]
		if code != tc.code || !strings.Contains(last, tc.want) || !strings.HasPrefix(last, "imagetool push: ") {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and a last line with %q", tc.name, code, errs, tc.code, tc.want)
		}
		if strings.Contains(out, "pushed") {
			t.Errorf("%s: something was pushed:\n%s", tc.name, out)
		}
	}
}

func TestPushToRegistryTwice(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	prefix := strings.TrimPrefix(srv.URL, "http://") + "/ci"
	f := newPushFixture(t, twoImages())
	code, out, errs := runWithEnv(t, map[string]string{"DOCKER_REPO": prefix}, f.args()...)
	if code != 0 {
		t.Fatalf("first push: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "2 image(s): 2 pushed") || !strings.Contains(errs, "blobs_uploaded=6") {
		t.Errorf("first push:\n%s%s", out, errs)
	}
	ref, err := name.NewTag(prefix + "/pgupgradetester:16.13-17.9-18beta3-dev202611221530")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil || desc.Digest.String() != f.digests["pgupgradetester"] {
		t.Errorf("%s: %v, %v; want digest %s", ref, desc, err, f.digests["pgupgradetester"])
	}
	code, out, errs = runWithEnv(t, map[string]string{"DOCKER_REPO": prefix}, f.args()...)
	if code != 0 || !strings.Contains(out, "2 image(s): 2 unchanged; 0 B sent") || !strings.Contains(errs, "upload_bytes=0 manifest_bytes=0") {
		t.Errorf("second push: exit %d:\n%s%s", code, out, errs)
	}
}

func TestStampCopiesStatus(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "volatile-status.txt"), filepath.Join(dir, "copy.txt")
	os.WriteFile(in, []byte(testVolatile), 0o644)
	if code, _, errs := runCmd(t, "stamp", "-copy", in+"="+out); code != 0 {
		t.Fatalf("stamp: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != testVolatile {
		t.Errorf("copy = %q, %v", b, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte(" no key\n"), 0o644)
	if code, _, errs := runCmd(t, "stamp", "-copy", bad+"="+out); code != 1 || !strings.Contains(errs, "has no key") {
		t.Errorf("malformed status: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd(t, "stamp", "-copy", in); code != 2 || !strings.Contains(errs, "want IN=OUT") {
		t.Errorf("-copy without OUT: exit %d, %q", code, errs)
	}
}
