package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// TempFile returns an unnamed temporary file in dir (open(2) with O_TMPFILE): it never has a
// name, so it cannot outlive the process, however the process ends. On a file system without
// O_TMPFILE it is a named file (pattern as in os.CreateTemp) unlinked at once, which a process
// killed between the two system calls leaves behind.
func TempFile(dir, pattern string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.OpenFile(dir, os.O_RDWR|unix.O_TMPFILE, 0o600)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EINVAL) {
		return nil, fmt.Errorf("creating a temporary file in %s: %w", dir, err)
	}
	if f, err = os.CreateTemp(dir, pattern); err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("unlinking %s: %w", filepath.Base(f.Name()), err)
	}
	return f, nil
}
