package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tempPrefix is the name prefix of the temporaries of a destination named base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// split returns the directory ("." for a bare name) and the base name of path.
func split(path string) (string, string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// lock takes the exclusive flock of f without waiting. A temporary is locked for as long as
// its writer has it open; the kernel drops the lock when the process ends, however it ends.
func lock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := rc.Control(func(fd uintptr) { err = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB) }); cerr != nil {
		return cerr
	}
	return err
}

// Sweep removes the temporaries of path that no process holds: those of a writer that was
// killed (SIGKILL, a crash) before it could remove them. Create and CreateDir sweep their
// destination; a program with several outputs calls Sweep for each when it starts, so that a
// run that fails before it writes them still removes what a killed run left. It is best
// effort: a temporary that cannot be opened or removed is left as it is.
func Sweep(path string) {
	dir, base := split(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix(base)) || !e.IsDir() && !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if lock(f) == nil {
			os.RemoveAll(p)
		}
		f.Close()
	}
}
