package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The pipes the parent hands Init (Spec.Reexec's process): the configuration to read, the
// reports to write (initReport), and the file system to unpack (a tar stream).
const (
	configFD = 3
	reportFD = 4
	fsFD     = 5
)

// setupFailed is Init's exit status when it could not start the command (as `docker run`).
const setupFailed = 125

// hostDevices are the device nodes bound from the host into the minimal /dev.
func hostDevices() []string { return []string{"null", "zero", "full", "random", "urandom", "tty"} }

// Init is the namespaces' first process: the binary's entry point calls it when it finds
// InitArg among its arguments, and exits with what it returns, the command's exit status (or
// 125 if the namespaces could not be set up; the parent then reports why).
func Init() int {
	for _, fd := range []int{configFD, reportFD, fsFD} {
		unix.CloseOnExec(fd)
	}
	reports := json.NewEncoder(os.NewFile(reportFD, "runner-reports"))
	code, err := initRun(func(st Stats) { reports.Encode(initReport{Stats: &st}) })
	if err != nil {
		reports.Encode(initReport{Error: err.Error()})
		return setupFailed
	}
	return code
}

func initRun(unpacked func(Stats)) (int, error) {
	f := os.NewFile(configFD, "runner-config")
	var ic initConfig
	err := json.NewDecoder(f).Decode(&ic)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("reading the configuration: %w", err)
	}
	// The mounts below must not propagate to the host's namespace. Inside a chroot / may not
	// be a mount point (EINVAL); its namespace must then already be private (tools/bazel's is).
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil && !errors.Is(err, unix.EINVAL) {
		return 0, fmt.Errorf("making / private: %w", err)
	}
	if err := unpackHere(ic, unpacked); err != nil {
		return 0, err
	}
	id, err := resolveUser(ic.Root, ic.User)
	if err != nil {
		return 0, err
	}
	if ic.UserNS && (id.UID != 0 || id.GID != 0 || len(id.Groups) > 0) {
		return 0, fmt.Errorf("user %q (uid %d, gid %d) needs a root caller: without root the user namespace maps only uid 0", ic.User, id.UID, id.GID)
	}
	ic.Env = mergeEnv(ic.Env, []string{"HOME=" + id.Home}, nil)
	devs, err := openAll(hostDevices(), func(d string) string { return "/dev/" + d })
	if err != nil {
		return 0, err
	}
	defer closeAll(devs)
	inputs, err := openAll(ic.Inputs, func(in Input) string { return in.Source })
	if err != nil {
		return 0, err
	}
	defer closeAll(inputs)
	if err := setupRoot(ic, devs, inputs); err != nil {
		return 0, err
	}
	closeAll(devs)
	closeAll(inputs)
	return runCommand(ic, id)
}

// unpackHere mounts a tmpfs at ic.Root and unpacks the file system the parent sends into it,
// if ic.Unpack. In a user namespace the files keep the caller as owner (uid 0 inside).
func unpackHere(ic initConfig, unpacked func(Stats)) error {
	if !ic.Unpack {
		return nil
	}
	if err := unix.Mount("tmpfs", ic.Root, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a tmpfs for the root file system: %w", err)
	}
	fs := os.NewFile(fsFD, "runner-fs")
	defer fs.Close()
	st, err := unpackTar(fs, ic.Root, !ic.UserNS)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, fs); err != nil { // the end-of-archive padding
		return fmt.Errorf("unpack: %w", err)
	}
	unpacked(st)
	return nil
}

// setupRoot enters the root file system with its mounts: /proc, /dev, /tmp and the inputs.
func setupRoot(ic initConfig, devs, inputs []*os.File) error {
	pivoted, err := enterRoot(ic.Root)
	if err != nil {
		return err
	}
	if err := mountTmpfs("/tmp", 0o1777); err != nil {
		return err
	}
	if err := populateDev(devs); err != nil {
		return err
	}
	for i, in := range ic.Inputs {
		if err := bindInput(inputs[i], in.Target); err != nil {
			return fmt.Errorf("input %s at %s: %w", in.Source, in.Target, err)
		}
	}
	if !pivoted {
		return nil
	}
	if err := unix.Unmount(oldRoot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return os.Remove(oldRoot)
}

// openAll opens each path of xs as an O_PATH descriptor, to be bound once the host's paths
// are gone.
func openAll[T any](xs []T, path func(T) string) ([]*os.File, error) {
	var fs []*os.File
	for _, x := range xs {
		fd, err := unix.Open(path(x), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll(fs)
			return nil, &os.PathError{Op: "open", Path: path(x), Err: err}
		}
		fs = append(fs, os.NewFile(uintptr(fd), path(x)))
	}
	return fs, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// oldRoot is where pivot_root puts the host's root while the mounts are set up: inside the
// new /dev, a tmpfs, so that nothing is written to the image's files.
const oldRoot = "/dev/.runner-oldroot"

// enterRoot makes root the process's root directory, with /proc and a /dev tmpfs mounted. It
// uses pivot_root, which leaves the host's root at oldRoot, and reports true; when the caller is
// itself chrooted (pivot_root refuses: EINVAL) it moves root over / and chroots into it.
func enterRoot(root string) (bool, error) {
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return false, fmt.Errorf("binding the root %s: %w", root, err)
	}
	if err := mountAt(root, "proc", 0o555, "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return false, err
	}
	if err := mountAt(root, "dev", 0o755, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=1m"); err != nil {
		return false, err
	}
	if err := unix.Sethostname([]byte(Hostname)); err != nil {
		return false, fmt.Errorf("host name: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return false, err
	}
	put := filepath.Join(root, oldRoot)
	if err := os.Mkdir(put, 0o700); err != nil {
		return false, err
	}
	err := unix.PivotRoot(root, put)
	if errors.Is(err, unix.EINVAL) {
		os.Remove(put)
		return false, moveRoot(root)
	}
	if err != nil {
		return false, fmt.Errorf("pivot_root to %s: %w", root, err)
	}
	return true, os.Chdir("/")
}

// moveRoot mounts root over / and chroots into it: for callers that are chrooted already.
func moveRoot(root string) error {
	if err := os.Chdir(root); err != nil {
		return err
	}
	if err := unix.Mount(root, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("moving the root %s to /: %w", root, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return os.Chdir("/")
}

// mountAt mounts a file system at root/name, a directory that must not be a symbolic link
// (it is created with mode if missing).
func mountAt(root, name string, mode os.FileMode, source, fstype string, flags uintptr, data string) error {
	p := filepath.Join(root, name)
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Mkdir(p, mode); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("the image's /%s is not a directory", name)
	}
	if err := unix.Mount(source, p, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s at /%s: %w", fstype, name, err)
	}
	return nil
}

// mountTmpfs mounts an empty tmpfs with mode at dir (inside the new root).
func mountTmpfs(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("mode=%04o", mode))
}

// populateDev fills the /dev tmpfs: the host's device nodes (bound: mknod is not allowed in a
// user namespace), the /proc/self/fd links and a /dev/shm tmpfs (POSIX shared memory).
func populateDev(devs []*os.File) error {
	for i, d := range hostDevices() {
		if err := bindFile(devs[i], "/dev/"+d, false); err != nil {
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
	}
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for name, target := range links {
		if err := os.Symlink(target, "/dev/"+name); err != nil {
			return err
		}
	}
	return mountTmpfs("/dev/shm", 0o1777)
}

// bindInput binds the host file or directory open as src read-only at target, refusing the
// directories that the runner itself mounts.
func bindInput(src *os.File, target string) error {
	for _, d := range []string{"/proc", "/dev"} {
		if target == d || strings.HasPrefix(target, d+"/") {
			return fmt.Errorf("targets under %s are not allowed", d)
		}
	}
	return bindFile(src, target, true)
}

// bindFile binds src (an O_PATH descriptor) at target, creating the mount point, optionally
// read-only. The remount keeps the flags that the source's mount has (nosuid, nodev, noexec):
// in a user namespace they are locked and dropping them is refused.
func bindFile(src *os.File, target string, readOnly bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return err
	}
	if err := mountPoint(target, st.Mode&unix.S_IFMT == unix.S_IFDIR); err != nil {
		return err
	}
	from := fmt.Sprintf("/proc/self/fd/%d", src.Fd())
	if err := unix.Mount(from, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	if !readOnly {
		return nil
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(target, &sfs); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for st, ms := range map[int64]uintptr{unix.ST_NOSUID: unix.MS_NOSUID, unix.ST_NODEV: unix.MS_NODEV, unix.ST_NOEXEC: unix.MS_NOEXEC} {
		if sfs.Flags&st != 0 {
			flags |= ms
		}
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("read-only remount: %w", err)
	}
	return nil
}

// mountPoint creates an empty file or directory at p (and its parents) if nothing is there.
func mountPoint(p string, dir bool) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if dir {
		return os.Mkdir(p, 0o755)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// loopbackUp brings up lo, the only interface of the new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}
