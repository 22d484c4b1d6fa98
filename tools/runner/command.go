package runner

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// keptCapabilities are the capabilities the command keeps: Docker's default set. Dropping the
// others (CAP_SYS_ADMIN above all) keeps a root command from undoing the mounts, for example
// remounting an input read-write.
func keptCapabilities() map[int]bool {
	return map[int]bool{
		unix.CAP_CHOWN: true, unix.CAP_DAC_OVERRIDE: true, unix.CAP_FSETID: true, unix.CAP_FOWNER: true,
		unix.CAP_MKNOD: true, unix.CAP_NET_RAW: true, unix.CAP_SETGID: true, unix.CAP_SETUID: true,
		unix.CAP_SETFCAP: true, unix.CAP_SETPCAP: true, unix.CAP_NET_BIND_SERVICE: true,
		unix.CAP_SYS_CHROOT: true, unix.CAP_KILL: true, unix.CAP_AUDIT_WRITE: true,
	}
}

// runCommand starts the command inside the prepared root, forwards signals to it, reaps
// every child (Init is PID 1: orphans are reparented to it) and returns the command's status.
func runCommand(ic initConfig, id identity) (int, error) {
	path, err := lookPath(ic.Args[0], envValue(ic.Env, "PATH"))
	if err != nil {
		return 0, err
	}
	if err := os.Chdir(ic.Dir); err != nil {
		return 0, fmt.Errorf("working directory: %w", err)
	}
	// The bounding set belongs to a thread: drop the capabilities on the thread that forks.
	runtime.LockOSThread()
	if err := dropCapabilities(); err != nil {
		return 0, err
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	groups := make([]uint32, len(id.Groups))
	for i, g := range id.Groups {
		groups[i] = uint32(g)
	}
	p, err := os.StartProcess(path, ic.Args, &os.ProcAttr{
		Env:   ic.Env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys: &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(id.UID), Gid: uint32(id.GID), Groups: groups, NoSetGroups: ic.UserNS,
		}},
	})
	if err != nil {
		return 0, fmt.Errorf("starting %s: %w", ic.Args[0], err)
	}
	go func() {
		for s := range sigs {
			p.Signal(s)
		}
	}()
	return reap(p.Pid)
}

// reap waits for every child until pid exits, and returns pid's status.
func reap(pid int) (int, error) {
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("waiting for the command: %w", err)
		}
		if got != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
}

// dropCapabilities removes from the calling thread's bounding set every capability not kept,
// so that a command it starts (and everything that starts) can never gain them.
func dropCapabilities() error {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("capabilities: cap_last_cap: %w", err)
	}
	keep := keptCapabilities()
	for c := 0; c <= last; c++ {
		if keep[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	return nil
}

// lookPath finds name as a shell would in the PATH of the command's environment (inside the
// new root).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH %s", name, path)
}

// envValue returns the value of key in env (KEY=VALUE entries).
func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
