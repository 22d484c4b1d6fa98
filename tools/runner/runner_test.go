package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestMain: started as the namespaces' init (Spec.Reexec), the test binary is Init.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == InitArg {
		os.Exit(Init())
	}
	os.Exit(m.Run())
}

// needNamespaces skips t where the runner cannot work: as root it always can (CI runs as
// root); another user needs unprivileged user namespaces, which a chroot or the kernel's
// settings may refuse.
func needNamespaces(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.SysProcAttr = sysProcAttr(true)
	if err := cmd.Run(); err != nil {
		t.Skipf("SKIPPING: not root, and no user namespace can be made here (%v)", err)
	}
}

// runProbe runs the probe with args in img and returns its output (stdout and stderr).
func runProbe(t *testing.T, img v1.Image, s Spec, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	s.Args = append([]string{"/bin/probe"}, args...)
	s.Stdout, s.Stderr = &out, &out
	s.Reexec = []string{InitArg}
	_, err := Run(context.Background(), img, t.TempDir(), s)
	return out.String(), err
}

// asRoot is the user to run as: the image's (tester) where the caller is root, else root, the
// only user of an unprivileged run.
func asRoot(user string) string {
	if os.Geteuid() == 0 {
		return user
	}
	return "root"
}

func TestRunAsImageUser(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	out, err := runProbe(t, img, Spec{User: asRoot("")}, "id")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "uid=1234 gid=1234 groups=[4321] cwd=/data hostname=ci-images\n"
	if os.Geteuid() != 0 {
		want = "uid=0 gid=0 groups=[] cwd=/data hostname=ci-images\n"
	}
	if out != want {
		t.Errorf("id: %q, want %q", out, want)
	}
	out, err = runProbe(t, img, Spec{User: asRoot(""), Env: []string{"EXTRA=1", "FOO=baz"}}, "env")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	home := "/home/tester"
	if os.Geteuid() != 0 {
		home = "/root"
	}
	if want := "PATH=/bin\nFOO=baz\nHOSTNAME=ci-images\nEXTRA=1\nHOME=" + home + "\n"; out != want {
		t.Errorf("environment:\n%s\nwant (the image's, defaults, overrides; nothing of the host's):\n%s", out, want)
	}
}

// TestRunUnprivilegedNeedsRoot: an unprivileged run maps only uid 0, so the image's user
// cannot be honoured and the run says why.
func TestRunUnprivilegedNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("for an ordinary user: as root, TestUnprivileged runs this test as one")
	}
	needNamespaces(t)
	_, err := runProbe(t, testImage(t), Spec{}, "id")
	if err == nil || !strings.Contains(err.Error(), `user "tester" (uid 1234, gid 1234) needs a root caller`) {
		t.Fatalf("Run as tester without root: %v", err)
	}
}

func TestRunExitCodeAndTail(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	out, err := runProbe(t, img, Spec{User: asRoot(""), TailLines: 5}, "exit", "7")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 7 {
		t.Fatalf("exit 7: error %v, output %q", err, out)
	}
	if want := "line 27\nline 28\nline 29\nline 30\nexiting with 7\n"; exit.Tail != want {
		t.Errorf("tail %q, want %q", exit.Tail, want)
	}
	if !strings.HasPrefix(out, "line 1\n") {
		t.Errorf("the whole output was not passed on: %q", out)
	}
	_, err = runProbe(t, img, Spec{User: asRoot("")}, "signal")
	if !errors.As(err, &exit) || exit.Code != 128+int(syscall.SIGTERM) {
		t.Errorf("a command killed by SIGTERM: %v, want exit code 143", err)
	}
	_, err = runProbe(t, img, Spec{User: asRoot(""), Args: nil}, "exit", "0")
	if err != nil {
		t.Errorf("exit 0: %v", err)
	}
}

func TestRunSetupErrors(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	var out bytes.Buffer
	_, err := Run(context.Background(), img, t.TempDir(), Spec{User: asRoot(""), Args: []string{"nonesuch"}, Stdout: &out, Stderr: &out, Reexec: []string{InitArg}})
	if err == nil || !strings.Contains(err.Error(), "nonesuch: not found in PATH /bin") {
		t.Errorf("missing command: %v", err)
	}
	host := filepath.Join(t.TempDir(), "in")
	os.WriteFile(host, nil, 0o644)
	_, err = runProbe(t, img, Spec{User: asRoot(""), Inputs: []Input{{Source: host, Target: "/proc/x"}}}, "id")
	if err == nil || !strings.Contains(err.Error(), "targets under /proc are not allowed") {
		t.Errorf("input under /proc: %v", err)
	}
}

// TestRunNoNetwork: the only interface is lo, and a connection to another address fails
// at once (the probe does not even try if it sees another interface).
func TestRunNoNetwork(t *testing.T) {
	needNamespaces(t)
	out, err := runProbe(t, testImage(t), Spec{User: asRoot("")}, "net", "192.0.2.1:80")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "interfaces: lo(up=true)\n") || !strings.Contains(out, "network is unreachable") {
		t.Errorf("want only lo, up, and an unreachable network:\n%s", out)
	}
}

func TestRunLoopbackListener(t *testing.T) {
	needNamespaces(t)
	out, err := runProbe(t, testImage(t), Spec{User: asRoot("")}, "listen")
	if err != nil || !strings.Contains(out, ": ping\n") || !strings.Contains(out, "echo through 127.0.0.1:") {
		t.Errorf("listen on 127.0.0.1: %v\n%s", err, out)
	}
}

func TestRunInputsReadOnly(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	host := t.TempDir()
	in := filepath.Join(host, "input.txt")
	inDir := filepath.Join(host, "dir")
	os.WriteFile(in, []byte("declared input\n"), 0o644)
	os.Mkdir(inDir, 0o755)
	os.WriteFile(filepath.Join(inDir, "f"), []byte("in a directory\n"), 0o644)
	s := Spec{User: asRoot(""), Inputs: []Input{
		{Source: in, Target: "/in/file"},
		{Source: inDir, Target: "/in/dir"},
		{Source: in, Target: "/tmp/also"},
	}}
	for path, want := range map[string]string{"/in/file": "declared input\n", "/in/dir/f": "in a directory\n", "/tmp/also": "declared input\n"} {
		out, err := runProbe(t, img, s, "cat", path)
		if err != nil || out != want {
			t.Errorf("cat %s: %q, %v; want %q", path, out, err, want)
		}
	}
	root := s
	root.User = "root"
	for _, path := range []string{"/in/file", "/in/dir/new", "/tmp/also"} {
		out, err := runProbe(t, img, root, "write", path)
		if err == nil || !strings.Contains(out, "read-only file system") {
			t.Errorf("write %s: %v, %q; want a read-only file system", path, err, out)
		}
	}
	// Not even root inside may remount an input read-write: CAP_SYS_ADMIN is dropped.
	out, err := runProbe(t, img, root, "remount", "/in/file")
	if err == nil || !strings.Contains(out, "operation not permitted") {
		t.Errorf("root remounting an input read-write: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(in); string(b) != "declared input\n" {
		t.Errorf("the host's input changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(inDir, "new")); !os.IsNotExist(err) {
		t.Errorf("a file appeared in the host's input directory (%v)", err)
	}
}

// TestRunHostInvisible: the root holds the image's files and the runner's mounts, nothing of
// the host's; /dev is the minimal set; /tmp is an empty tmpfs.
func TestRunHostInvisible(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	marker := filepath.Join(t.TempDir(), "host-marker")
	os.WriteFile(marker, []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "/"}, "bin data dev etc lib opq proc ro tmp\n"},
		{[]string{"ls", "/dev"}, "fd full null random shm stderr stdin stdout tty urandom zero\n"},
		{[]string{"ls", "/tmp"}, "\n"},
		{[]string{"stat", marker, "/etc/hostname", "/dev/null"}, marker + " missing\n/etc/hostname missing\n/dev/null chardev 0666 "},
	} {
		out, err := runProbe(t, img, Spec{User: asRoot("")}, c.args...)
		if err != nil || !strings.HasPrefix(out, c.want) {
			t.Errorf("probe %s: %q, %v; want %q", strings.Join(c.args, " "), out, err, c.want)
		}
	}
}

// TestRunInKeepsChanges: RunIn runs in a root unpacked on disk, where the command's changes
// stay (what a build step then turns into a layer); /tmp, a tmpfs, keeps nothing.
func TestRunInKeepsChanges(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := Unpack(img, root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(root) })
	for _, path := range []string{"/data/made", "/tmp/scratch"} {
		var out bytes.Buffer
		err := RunIn(context.Background(), root, cf.Config, Spec{User: "root", Args: []string{"/bin/probe", "write", path}, Stdout: &out, Stderr: &out, Reexec: []string{InitArg}})
		if err != nil {
			t.Fatalf("write %s: %v\n%s", path, err, out.String())
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "data/made")); err != nil || string(b) != "written by probe\n" {
		t.Errorf("data/made after the run: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "tmp/scratch")); !os.IsNotExist(err) {
		t.Errorf("tmp/scratch reached the root file system (%v)", err)
	}
	es, _ := os.ReadDir(filepath.Join(root, "dev"))
	if len(es) != 0 {
		t.Errorf("the mounts left %d entries in the image's /dev", len(es))
	}
}

// TestRunPIDNamespace: /proc shows only the namespace's init (pid 1) and the command.
func TestRunPIDNamespace(t *testing.T) {
	needNamespaces(t)
	out, err := runProbe(t, testImage(t), Spec{User: asRoot("")}, "pids")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var self int
	if _, err := fmt.Sscanf(out[strings.Index(out, "self="):], "self=%d", &self); err != nil {
		t.Fatalf("pids: %q: %v", out, err)
	}
	if want := fmt.Sprintf("pids=[1 %d] self=%d\n", self, self); out != want {
		t.Errorf("pids: %q, want %q", out, want)
	}
}

func TestRunCancel(t *testing.T) {
	needNamespaces(t)
	img := testImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, img, t.TempDir(), Spec{User: asRoot(""), Args: []string{"/bin/probe", "sleep", "60"}, Reexec: []string{InitArg}})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled run: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the cancelled run took %s", d)
	}
}

// unprivilegedUID is the user that TestUnprivileged runs the tests as (nobody).
const unprivilegedUID = 65534

// TestUnprivileged runs the other tests again as an ordinary user, when the caller is root: the
// runner then takes its other path, a user namespace mapping the caller to root.
func TestUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("for root: this run is the unprivileged one already")
	}
	check := exec.Command("/proc/self/exe", "-test.run=^$")
	check.SysProcAttr = sysProcAttr(true)
	if err := check.Run(); err != nil {
		t.Skipf("SKIPPING: the kernel refuses a user namespace here, as inside a chroot (%v)", err)
	}
	dir, err := os.MkdirTemp("/tmp", "runner-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	for _, step := range []error{
		os.Chmod(dir, 0o755),
		copyFile(self, filepath.Join(dir, "runner.test")),
		copyFile(buildProbe(t), filepath.Join(dir, "probe")),
		os.Mkdir(tmp, 0o755),
		os.Chown(tmp, unprivilegedUID, unprivilegedUID),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "runner.test"), "-test.run=^Test(Run|Unpack)", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"TMPDIR=" + tmp, "RUNNER_TEST_PROBE_BIN=" + filepath.Join(dir, "probe")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: unprivilegedUID, Gid: unprivilegedUID}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests as uid %d: %v\n%s", unprivilegedUID, err, out)
	}
	if n := strings.Count(string(out), "--- PASS: TestRun"); n != 11 || strings.Contains(string(out), "SKIP") {
		t.Errorf("as uid %d, %d TestRun tests passed, want 11 and none skipped:\n%s", unprivilegedUID, n, out)
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
