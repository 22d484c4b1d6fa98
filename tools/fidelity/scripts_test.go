package fidelity

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/image"
	"github.com/ci-images/ci-images/tools/layer"
	"github.com/ci-images/ci-images/tools/lockfile"
)

// allowedUnknown lists the maintainer-script commands that the layer writer does not
// reproduce and that are accepted, as "package: script: command" with the reason. It is empty
// for debian15: every command its scripts run is emulated or known to have no effect.
func allowedUnknown() map[string]string { return map[string]string{} }

// TestScriptsReproduced writes the layer of $FIDELITY_SET above its base set, as the image
// rules do, and fails on any maintainer-script command the emulation does not know (unless
// allowedUnknown accepts it) and on any script that fails.
func TestScriptsReproduced(t *testing.T) {
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING maintainer-script coverage of a locked set: set CI_IMAGES_INTEGRATION=1")
	}
	env := testEnv{debs: os.Getenv("FIDELITY_DEBS"), set: "debian15", baseSet: "base"}
	if env.debs == "" {
		t.Skip("SKIPPING maintainer-script coverage: set FIDELITY_DEBS (the set's .deb files)")
	}
	if s, ok := os.LookupEnv("FIDELITY_SET"); ok {
		env.set = s
	}
	if s, ok := os.LookupEnv("FIDELITY_BASE_SET"); ok {
		env.baseSet = s
	}
	env.lockfile = os.Getenv("FIDELITY_LOCKFILE")
	if env.lockfile == "" {
		_, file, _, _ := runtime.Caller(0)
		env.lockfile = filepath.Join(filepath.Dir(file), "..", "..", "images", "apt.lock.json")
	}
	lf, err := lockfile.Read(env.lockfile)
	if err != nil {
		t.Fatal(err)
	}
	phases, _ := lockedPhases(t, lf, env)
	var installed, fresh []string
	below := map[string]bool{}
	if len(phases) == 2 {
		for _, p := range phases[0].Packages {
			installed, below[p.Key] = append(installed, p.File), true
		}
	}
	for _, p := range phases[len(phases)-1].Packages {
		if !below[p.Key] {
			fresh = append(fresh, p.File)
		}
	}
	cfg := layer.Config{MergedUsr: true, Compression: "none", Effects: layer.Effects{Alternatives: true, CACertificates: true}}
	sum, err := layer.Write(io.Discard, fresh, layer.Options{Config: cfg, Installed: installed, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	allowed := allowedUnknown()
	for _, u := range sum.Scripts.Unknown {
		if key := u.Package + ": " + u.Script + ": " + u.Command; allowed[key] == "" {
			t.Errorf("not reproduced: %s", key)
		}
	}
	for _, f := range sum.Scripts.Failures {
		t.Errorf("script failed: %s", f)
	}
	t.Logf("%d packages above %d installed: %d warnings", len(fresh), len(installed), len(sum.Warnings))
}

// TestLogin runs su, runuser and login -f in the image of $FIDELITY_LAYOUT, in Docker: they
// need PAM's common-* configuration (pam-auth-update) and shadow entries that do not demand a
// password change.
func TestLogin(t *testing.T) {
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING su/runuser/login test of an image in Docker: set CI_IMAGES_INTEGRATION=1")
	}
	layout := os.Getenv("FIDELITY_LAYOUT")
	if layout == "" {
		t.Skip("SKIPPING su/runuser/login test: set FIDELITY_LAYOUT to an image's OCI layout")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("SKIPPING su/runuser/login test: no Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tag := "ci-images-fidelity/login:test"
	if _, err := image.Load(ctx, layout, []string{tag}); err != nil {
		t.Fatal(err)
	}
	defer exec.Command("docker", "rmi", "-f", tag).Run()
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"su", "", []string{"su", "postgres", "-c", "id"}, "uid=999(postgres) gid=999(postgres) groups=999(postgres),998(ssl-cert)"},
		{"su -", "", []string{"su", "-", "postgres", "-c", "echo $HOME"}, "/var/lib/postgresql"},
		{"runuser", "", []string{"runuser", "-u", "postgres", "--", "id", "-un"}, "postgres"},
		// login wants a terminal: script(1) gives it one and feeds it the commands.
		{"login -f", "id -un; exit\n", []string{"script", "-qec", "login -f postgres", "/dev/null"}, "\npostgres\n"},
	} {
		cmd := exec.CommandContext(ctx, "docker", append([]string{"run", "--rm", "-i", tag}, tc.args...)...)
		cmd.Stdin = strings.NewReader(tc.stdin)
		out, err := cmd.CombinedOutput()
		got := strings.ReplaceAll(string(out), "\r", "")
		if err != nil || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %v\n%s\nwant it to contain %q", tc.name, err, got, tc.want)
		}
	}
}
