// Package runner runs a command inside an OCI image's root file system without a container
// engine, in new mount, PID, UTS, IPC and network namespaces, from Go alone (no docker,
// unshare or bwrap on the host): what `docker run --network none` does, for image tests and
// build steps.
//
// Run unpacks the image inside the namespaces into a tmpfs (memory: nothing is written to disk,
// and everything vanishes with the namespaces); Unpack writes it to a directory and RunIn runs
// there, for callers that need the command's changes afterwards. Layers are flattened by
// go-containerregistry's mutate.Extract (whiteouts and opaque directories applied).
//
// Inside, the command sees the image's files (writable: they are a scratch copy), a fresh
// /proc, a minimal /dev (null, zero, full, random, urandom and tty bound from the host, the
// /proc/self/fd links, a tmpfs /dev/shm for POSIX shared memory), an empty tmpfs /tmp, and the
// declared inputs, bound read-only at their paths; nothing else of the host. The network
// namespace has only a loopback interface, which is up, so servers may listen on 127.0.0.1
// but nothing else is reachable. The environment, working directory and user are the image's
// (names resolved through its /etc/passwd and /etc/group), each overridable. The command keeps
// Docker's default capabilities; CAP_SYS_ADMIN is not among them, so it cannot undo the mounts.
//
// Privileges. As root (what CI and Bazel actions inside tools/bazel's chroot are), no user
// namespace is made: the kernel refuses one to a chrooted process (EPERM), and root does not
// need it. As another user, a user namespace maps the caller to uid 0 and gid 0, so the command
// can only run as root there and files keep the caller as owner (image users such as postgres
// need a root caller). Machines that allow neither (no root, unprivileged user namespaces
// disabled, or a container without CAP_SYS_ADMIN) fail with the kernel's error.
//
// The namespaces' first process is the calling binary itself, started again through
// /proc/self/exe with Spec.Reexec as its arguments; the binary must then call Init (see
// InitArg). Init unpacks, sets the mounts up, enters the root (pivot_root; when the caller is
// itself chrooted, as in tools/bazel, where pivot_root is refused, it moves the root over / and
// chroots, which a root command could escape: this isolates for hermeticity, it is not a
// security boundary), starts the command, forwards signals to it, reaps orphans, and exits
// with the command's status. When Init exits the kernel ends every process left in the
// namespace, and the mounts vanish with it.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// InitArg is the argument by which a binary's entry point recognises that it was started as
// the namespaces' init and must call Init; Spec.Reexec lists the arguments that lead there.
const InitArg = "__runner_init"

// Input is a host file or directory bound read-only into the root file system.
type Input struct {
	Source string // host path; symbolic links are followed
	Target string // absolute path inside the image, created if missing
}

// Spec describes one run.
type Spec struct {
	Args    []string // the command; empty: the image's Entrypoint and Cmd
	Env     []string // KEY=VALUE entries over the image's Env
	User    string   // user[:group], a name or a number; empty: the image's User
	WorkDir string   // empty: the image's WorkingDir, else /
	Inputs  []Input

	Stdin          io.Reader // nil: /dev/null
	Stdout, Stderr io.Writer // nil: discarded (the last lines still reach ExitError)

	// Reexec are the arguments with which the running binary, started again through
	// /proc/self/exe, calls Init, e.g. {"run", InitArg} for imagetool.
	Reexec []string
	// TailLines is how many of the last lines of output an ExitError carries (default 20).
	TailLines int
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Code int    // exit status; 128+N for a command killed by signal N
	Tail string // its last lines of output (stdout and stderr interleaved)
}

func (e *ExitError) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("the command exited with code %d and printed nothing", e.Code)
	}
	return fmt.Sprintf("the command exited with code %d; its last lines of output:\n%s", e.Code, strings.TrimRight(e.Tail, "\n"))
}

// ExitCode is the command's exit status, for callers that exit with it.
func (e *ExitError) ExitCode() int { return e.Code }

// Hostname is the host name inside the UTS namespace.
const Hostname = "ci-images"

// initConfig is what the parent hands Init through a pipe: everything resolved already.
type initConfig struct {
	Root string
	// Unpack: Root is an empty directory; Init mounts a tmpfs on it and unpacks the tar
	// stream of the image's file system that the parent sends.
	Unpack bool
	Args   []string
	Env    []string // without HOME unless given: Init adds the user's
	User   string   // the image's or Spec's, resolved by Init
	Dir    string
	UserNS bool
	Inputs []Input
}

// initReport is one message of Init to its parent: the unpack's statistics, or why setting up
// failed.
type initReport struct {
	Stats *Stats `json:"stats,omitempty"`
	Error string `json:"error,omitempty"`
}

// Run runs s in img's file system, unpacked inside the namespaces into a tmpfs (memory, so
// nothing is written to disk and nothing is left behind: it vanishes with the namespaces). The
// tmpfs is mounted on an empty directory made under scratch (os.TempDir() if empty) and removed
// afterwards. It returns the unpack statistics; a command that fails gives an *ExitError.
func Run(ctx context.Context, img v1.Image, scratch string, s Spec) (Stats, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return Stats{}, fmt.Errorf("runner: image config: %w", err)
	}
	dir, err := os.MkdirTemp(scratch, "rootfs-")
	if err != nil {
		return Stats{}, fmt.Errorf("runner: %w", err)
	}
	defer os.Remove(dir)
	fs := mutate.Extract(img)
	defer fs.Close()
	return run(ctx, dir, fs, cf.Config, s)
}

// RunIn runs s in the root file system root, unpacked already (Unpack), with the image
// configuration cfg. The command's changes stay in root.
func RunIn(ctx context.Context, root string, cfg v1.Config, s Spec) error {
	_, err := run(ctx, root, nil, cfg, s)
	return err
}

// run runs s in root; with fs (a flattened file system as a tar stream) root is an empty
// directory that Init fills.
func run(ctx context.Context, root string, fs io.Reader, cfg v1.Config, s Spec) (Stats, error) {
	ic, err := prepare(root, fs != nil, cfg, s)
	if err != nil {
		return Stats{}, fmt.Errorf("runner: %w", err)
	}
	tail := &tailBuffer{lines: s.TailLines}
	if tail.lines <= 0 {
		tail.lines = 20
	}
	res, err := start(ctx, ic, fs, s, tail)
	switch {
	case err != nil:
		return res.stats, fmt.Errorf("runner: %w", err)
	case res.setupErr != "":
		return res.stats, fmt.Errorf("runner: setting up the namespaces: %s", res.setupErr)
	case ctx.Err() != nil:
		return res.stats, fmt.Errorf("runner: %w", ctx.Err())
	case res.code != 0:
		return res.stats, &ExitError{Code: res.code, Tail: tail.String()}
	}
	return res.stats, nil
}

// prepare resolves the command, environment, working directory and inputs of s; the user is
// resolved by Init, once the image's files are there.
func prepare(root string, unpack bool, cfg v1.Config, s Spec) (initConfig, error) {
	ic := initConfig{Root: root, Unpack: unpack, Args: s.Args, User: s.User, Dir: s.WorkDir, UserNS: os.Geteuid() != 0}
	if len(ic.Args) == 0 {
		ic.Args = append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	}
	if len(ic.Args) == 0 {
		return ic, errors.New("no command: the image has no Entrypoint or Cmd and none was given")
	}
	if ic.Dir == "" {
		ic.Dir = cfg.WorkingDir
	}
	if ic.Dir == "" {
		ic.Dir = "/"
	}
	if ic.User == "" {
		ic.User = cfg.User
	}
	ic.Env = mergeEnv(cfg.Env, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + Hostname}, s.Env)
	for _, in := range s.Inputs {
		if !filepath.IsAbs(in.Target) {
			return ic, fmt.Errorf("input %s: target %q is not an absolute path", in.Source, in.Target)
		}
		src, err := filepath.Abs(in.Source)
		if err == nil {
			_, err = os.Stat(src)
		}
		if err != nil {
			return ic, fmt.Errorf("input: %w", err)
		}
		ic.Inputs = append(ic.Inputs, Input{Source: src, Target: filepath.Clean(in.Target)})
	}
	return ic, nil
}

// mergeEnv is the image's environment, then defaults for the keys it lacks, then overrides.
func mergeEnv(image, defaults, overrides []string) []string {
	var out []string
	index := map[string]int{}
	set := func(kv string, replace bool) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			if replace {
				out[i] = kv
			}
			return
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range image {
		set(kv, true)
	}
	for _, kv := range defaults {
		set(kv, false)
	}
	for _, kv := range overrides {
		set(kv, true)
	}
	return out
}
