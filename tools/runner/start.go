package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// result is what a finished Init reported.
type result struct {
	code     int    // the command's exit status
	setupErr string // why Init could not start the command
	stats    Stats  // the unpack's, when Init unpacked
}

// start runs Init in new namespaces with ic (and, if fs is not nil, the file system to unpack
// as a tar stream), passes the command's output to s's writers and tail, and waits for it.
func start(ctx context.Context, ic initConfig, fs io.Reader, s Spec, tail *tailBuffer) (result, error) {
	var res result
	// Init's descriptors 3, 4 and 5: the configuration, its reports, the file system.
	var ends [3][2]*os.File
	for i := range ends {
		r, w, err := os.Pipe()
		if err != nil {
			return res, err
		}
		defer r.Close()
		defer w.Close()
		ends[i] = [2]*os.File{r, w}
	}
	cmd := exec.CommandContext(ctx, "/proc/self/exe", s.Reexec...)
	cmd.SysProcAttr = sysProcAttr(ic.UserNS)
	cmd.Stdin = s.Stdin
	cmd.Stdout = io.MultiWriter(orDiscard(s.Stdout), tail)
	cmd.Stderr = io.MultiWriter(orDiscard(s.Stderr), tail)
	cmd.ExtraFiles = []*os.File{ends[0][0], ends[1][1], ends[2][0]}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting the namespaces (root, or unprivileged user namespaces, are needed): %w", err)
	}
	for _, f := range cmd.ExtraFiles {
		f.Close() // the child's ends
	}
	go func() {
		json.NewEncoder(ends[0][1]).Encode(ic) // a failure shows as Init's
		ends[0][1].Close()
	}()
	sent := make(chan error, 1)
	go func() { sent <- sendFS(ends[2][1], fs) }()
	res.readReports(ends[1][0])
	err := cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return res, err
	}
	res.code = exitStatus(cmd.ProcessState)
	if err := <-sent; err != nil && res.setupErr != "" {
		res.setupErr = fmt.Sprintf("%v (then: %s)", err, res.setupErr)
	}
	return res, nil
}

// readReports reads Init's messages until it closes the pipe (when it exits).
func (res *result) readReports(r io.Reader) {
	dec := json.NewDecoder(r)
	for {
		var m initReport
		if err := dec.Decode(&m); err != nil {
			return
		}
		if m.Stats != nil {
			res.stats = *m.Stats
		}
		if m.Error != "" {
			res.setupErr = m.Error
		}
	}
}

// sendFS copies the file system's tar stream (if any) to Init. Init stopping to read (a
// broken pipe) is not an error here: it reports why itself.
func sendFS(w *os.File, fs io.Reader) error {
	defer w.Close()
	if fs == nil {
		return nil
	}
	_, err := io.Copy(w, fs)
	if err != nil && !errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("reading the image: %w", err)
	}
	return nil
}

// exitStatus is a process's exit code, or 128+N if signal N killed it (as shells report it).
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// sysProcAttr gives the namespaces of the init process; with userNS the caller becomes uid
// and gid 0 in a new user namespace.
func sysProcAttr(userNS bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	if userNS {
		a.Cloneflags |= syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		a.GidMappingsEnableSetgroups = false
	}
	return a
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
