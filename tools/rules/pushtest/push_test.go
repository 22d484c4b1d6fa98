package pushtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const (
	user     = "ci"
	password = "s3cret"
	// 2026-11-22T15:30:00Z, and a commit: the fixed workspace status of the tag format checks.
	fixedTimestamp = 1795361400
	fixedCommit    = "0a28d32c1f9e4b7a5d6c8e9f0a1b2c3d4e5f6a7b"
)

// TestIntegrationPushAll drives `tools/bazel run` of the push targets: unstamped and stamped
// builds give the same digests; push_all pushes every image that builds here in one run, which
// docker pulls back and runs; a second push_all sends no layer bytes; tags follow a fixed
// BUILD_TIMESTAMP and --define RELEASE=1; DOCKER_REPO moves a push; wrong credentials, an
// unreachable registry and a malformed repository fail with one line and push nothing.
func TestIntegrationPushAll(t *testing.T) {
	h := newHarness(t, user, password)
	env := []string{"DOCKER_CONFIG=" + h.dockerConfig(t, "docker", user, password)}
	prefix := h.proxy.Host + "/ci"
	checkStampKeepsDigests(t, h)
	cfg := h.pushConfig(t, "push_all")

	first := h.mustBazel(t, env, "run", "//images:push_all", "--", "--repository="+prefix)
	t.Logf("first push_all, %d bytes sent:\n%s", h.proxy.Counts().UploadBytes(), first.stdout)
	if want := strconv.Itoa(len(cfg.Images)) + " image(s): " + strconv.Itoa(len(cfg.Images)) + " pushed"; !strings.Contains(first.stdout, want) {
		t.Errorf("first push_all: want %q in the summary", want)
	}
	devTags := h.checkDevTags(t, cfg, prefix)
	h.checkRegistry(t)
	pullAndRun(t, env, devTags)

	h.proxy.Reset()
	second := h.mustBazel(t, env, "run", "//images:push_all", "--", "--repository="+prefix)
	t.Logf("second push_all in %v, request bytes %v", second.took.Round(100*time.Millisecond), h.proxy.Counts().Bytes)
	if n := h.proxy.Counts().UploadBytes(); n != 0 {
		t.Errorf("second push_all sent %d layer bytes, want 0", n)
	}
	if want := strconv.Itoa(len(cfg.Images)) + " unchanged; 0 B sent"; !strings.Contains(second.stdout, want) {
		t.Errorf("second push_all: want %q in the summary:\n%s", want, second.stdout)
	}

	checkFixedStampAndRelease(t, h, env, cfg, prefix)
	checkDockerRepo(t, h, env)
	checkFailures(t, h, cfg)
	h.checkRegistry(t)
}

// checkStampKeepsDigests builds the images with --nostamp, then with --stamp: the digests are the
// same and the image outputs are not written again (no image action re-ran). An unstamped push
// asks for --stamp.
func checkStampKeepsDigests(t *testing.T, h *harness) {
	h.mustBazel(t, nil, "build", "--nostamp", "//images:push_all")
	cfg := h.pushConfig(t, "push_all")
	type out struct {
		digest string
		mtime  time.Time
	}
	read := func() map[string]out {
		m := map[string]out{}
		for _, im := range cfg.Images {
			p := h.bin(im.Layout + ".digest")
			b, err := os.ReadFile(p)
			st, serr := os.Stat(p)
			if err != nil || serr != nil {
				t.Fatalf("digest of %s: %v %v", im.Name, err, serr)
			}
			m[im.Name] = out{strings.TrimSpace(string(b)), st.ModTime()}
		}
		return m
	}
	unstamped := read()
	r := h.bazel(t, nil, "run", "--nostamp", "//images:push_all", "--", "--repository="+h.proxy.Host+"/ci", "--dry-run")
	if r.err == nil || !strings.Contains(r.lastLine(), "build with --stamp") || !strings.HasPrefix(r.lastLine(), "imagetool push: ") {
		t.Errorf("unstamped push: %v, last line %q; want one line asking for --stamp", r.err, r.lastLine())
	}
	h.mustBazel(t, nil, "build", "--stamp", "//images:push_all")
	for n, s := range read() {
		if u := unstamped[n]; s != u {
			t.Errorf("%s: --nostamp %s (written %v), --stamp %s (written %v): stamping changed or rebuilt the image", n, u.digest, u.mtime, s.digest, s.mtime)
		} else {
			t.Logf("%s: %s with and without --stamp", n, s.digest)
		}
	}
}

// checkDevTags checks that every image of cfg is in the registry under its dev tag, made of the
// BUILD_TIMESTAMP the push target's stamp action copied, and returns the tags by image name.
func (h *harness) checkDevTags(t *testing.T, cfg pushConfig, prefix string) map[string]string {
	b, err := os.ReadFile(h.bin("images", "push_all.volatile-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^BUILD_TIMESTAMP (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no BUILD_TIMESTAMP in the push's status:\n%s", b)
	}
	sec, _ := strconv.ParseInt(string(m[1]), 10, 64)
	suffix := "-dev" + time.Unix(sec, 0).UTC().Format("200601021504")
	out := map[string]string{}
	for _, im := range cfg.Images {
		ref := prefix + "/" + im.Repository + ":" + strings.Join(im.Versions, "-") + suffix
		h.checkTag(t, ref, im.Layout)
		out[im.Name] = ref
	}
	return out
}

// checkTag checks that ref (through the proxy) names the digest bazel-bin/<layout>.digest holds.
func (h *harness) checkTag(t *testing.T, ref, layout string) {
	t.Helper()
	want, err := os.ReadFile(h.bin(layout + ".digest"))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag, remote.WithAuth(h.reg.Auth()))
	if err != nil {
		t.Errorf("%s: %v", ref, err)
		return
	}
	if desc.Digest.String() != strings.TrimSpace(string(want)) {
		t.Errorf("%s is %s, want %s", ref, desc.Digest, want)
	}
}

// checkRegistry checks that every tag in the registry resolves to a complete image.
func (h *harness) checkRegistry(t *testing.T) {
	t.Helper()
	inv, err := h.reg.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("registry: %d repositories, %d tags, %d blob references, %d broken", inv.Repositories, inv.Tags, inv.Blobs, len(inv.Broken))
	for _, b := range inv.Broken {
		t.Errorf("broken tag: %s", b)
	}
}

// pullAndRun pulls one pushed image with docker (debian15 if it was pushed) and runs a command in it.
func pullAndRun(t *testing.T, env []string, refs map[string]string) {
	ref, command := refs["debian15"], []string{"psql", "--version"}
	if ref == "" {
		ref, command = refs["base"], []string{"cat", "/etc/debian_version"}
	}
	if ref == "" {
		t.Fatalf("neither debian15 nor base was pushed: %v", refs)
	}
	docker := func(args ...string) string {
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	docker("pull", "-q", ref)
	t.Cleanup(func() { exec.Command("docker", "rmi", ref).Run() })
	out := docker(append([]string{"run", "--rm", ref}, command...)...)
	t.Logf("docker run %s %s: %s", ref, strings.Join(command, " "), strings.TrimSpace(out))
	if strings.TrimSpace(out) == "" || (command[0] == "psql" && !strings.Contains(out, "PostgreSQL")) {
		t.Errorf("docker run %s: %q", ref, out)
	}
}

// checkFixedStampAndRelease pushes with a fixed workspace status: the dev tags carry its
// BUILD_TIMESTAMP's UTC minute; with --define RELEASE=1 the plain version and <version>-v<commit>.
func checkFixedStampAndRelease(t *testing.T, h *harness, env []string, cfg pushConfig, prefix string) {
	status := "--workspace_status_command=" + h.fixedStatus(t, fixedTimestamp, fixedCommit)
	dry := h.mustBazel(t, env, "run", status, "//images:push_all", "--", "--repository="+prefix, "--dry-run")
	h.proxy.Reset()
	h.mustBazel(t, env, "run", status, "--define", "RELEASE=1", "//images:push_all", "--", "--repository="+prefix)
	if n := h.proxy.Counts().UploadBytes(); n != 0 {
		t.Errorf("release push of images already in the registry sent %d layer bytes", n)
	}
	for _, im := range cfg.Images {
		v := strings.Join(im.Versions, "-")
		if want := "would push " + prefix + "/" + im.Repository + ":" + v + "-dev202611221530 ("; !strings.Contains(dry.stdout, want) {
			t.Errorf("fixed BUILD_TIMESTAMP: no %q in:\n%s", want, dry.stdout)
		}
		h.checkTag(t, prefix+"/"+im.Repository+":"+v, im.Layout)
		h.checkTag(t, prefix+"/"+im.Repository+":"+v+"-v"+fixedCommit[:7], im.Layout)
	}
}

// checkDockerRepo pushes one image with DOCKER_REPO in the environment of tools/bazel run.
func checkDockerRepo(t *testing.T, h *harness, env []string) {
	other := h.proxy.Host + "/other"
	r := h.mustBazel(t, append(env, "DOCKER_REPO="+other), "run", "//images:base_push")
	cfg := h.pushConfig(t, "base_push")
	if !strings.Contains(r.stdout, other+"/base:bookworm-dev") {
		t.Errorf("DOCKER_REPO=%s: summary does not name it:\n%s", other, r.stdout)
	}
	b, err := os.ReadFile(h.bin("images", "base_push.volatile-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := strconv.ParseInt(regexp.MustCompile(`(?m)^BUILD_TIMESTAMP (\d+)$`).FindStringSubmatch(string(b))[1], 10, 64)
	h.checkTag(t, other+"/base:bookworm-dev"+time.Unix(sec, 0).UTC().Format("200601021504"), cfg.Images[0].Layout)
}

// checkFailures: wrong credentials, an unreachable registry and a malformed repository each fail
// with one line from imagetool push, and write no tag.
func checkFailures(t *testing.T, h *harness, cfg pushConfig) {
	bad := []string{"DOCKER_CONFIG=" + h.dockerConfig(t, "docker-bad", user, "wrong")}
	for _, tc := range []struct {
		name, repository, want string
		env                    []string
	}{
		{"wrong credentials", h.proxy.Host + "/denied", "authentication failed (HTTP 401)", bad},
		{"unreachable registry", "127.0.0.1:1/ci", "cannot reach the registry", nil},
		{"malformed repository", h.proxy.Host + "/Bad Repo", `--repository: invalid repository`, nil},
	} {
		before, err := h.reg.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h.proxy.Reset()
		r := h.bazel(t, tc.env, "run", "//images:push_all", "--", "--repository="+tc.repository)
		line := r.lastLine()
		if r.err == nil || !strings.HasPrefix(line, "imagetool push: ") || !strings.Contains(line, tc.want) {
			t.Errorf("%s: %v, last line %q; want one line with %q\n%s", tc.name, r.err, line, tc.want, tail(r.stderr, 10))
		} else {
			t.Logf("%s: %s", tc.name, line)
		}
		after, err := h.reg.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if after.Tags != before.Tags || h.proxy.Counts().Requests["PUT manifest"] != 0 {
			t.Errorf("%s: tags %d -> %d, %d manifest PUTs: something was pushed", tc.name, before.Tags, after.Tags, h.proxy.Counts().Requests["PUT manifest"])
		}
	}
}

// TestIntegrationWorkspaceStatus checks tools/workspace-status, Bazel's status command: with git
// and without it (the offline chroot has none; the script reads .git itself) it prints the
// commit git names, and outside a checkout "unknown".
func TestIntegrationWorkspaceStatus(t *testing.T) {
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING workspace status test: set CI_IMAGES_INTEGRATION=1 (needs the git checkout)")
	}
	ws, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", ws, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	script := filepath.Join(ws, "tools", "workspace-status")
	status := func(dir, path string) string {
		cmd := exec.Command("/bin/bash", script)
		cmd.Dir, cmd.Env = dir, []string{"PATH=" + path}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tools/workspace-status in %s (PATH=%s): %v", dir, path, err)
		}
		return string(out)
	}
	want := "STABLE_GIT_COMMIT " + string(head)
	if got := status(ws, os.Getenv("PATH")); got != want {
		t.Errorf("with git: %q, want %q", got, want)
	}
	if got := status(ws, "/nonexistent"); got != want {
		t.Errorf("without git (reading .git): %q, want %q", got, want)
	}
	if got := status(t.TempDir(), "/nonexistent"); got != "STABLE_GIT_COMMIT unknown\n" {
		t.Errorf("outside a checkout: %q", got)
	}
}
