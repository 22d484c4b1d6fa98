package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is a temporary directory that becomes Path when committed. Fill the directory Name,
// then call Commit, or Abort to discard it; `defer d.Abort()` is the usual cleanup.
type Dir struct {
	name, path string
	perm       fs.FileMode
	lock       *os.File // holds the lock on name while the directory is in use
	done       bool
}

// CreateDir starts replacing the directory path: it creates an empty temporary directory
// beside it (after removing the stale temporaries of path, see Sweep). The directory will
// have mode perm (not subject to the umask); what is put into it keeps its own.
func CreateDir(path string, perm fs.FileMode) (*Dir, error) {
	Sweep(path)
	dir, base := split(path)
	name, err := os.MkdirTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary directory for %s: %w", path, err)
	}
	lk, err := os.Open(name)
	if err == nil {
		if err = lock(lk); err != nil {
			lk.Close()
		}
	}
	if err != nil {
		os.RemoveAll(name)
		return nil, fmt.Errorf("creating a temporary directory for %s: %w", path, err)
	}
	return &Dir{name: name, path: path, perm: perm, lock: lk}, nil
}

// Name is the temporary directory to fill.
func (d *Dir) Name() string { return d.name }

// Path is the destination.
func (d *Dir) Path() string { return d.path }

// Commit syncs everything in the temporary directory and puts it at Path. A missing
// destination or an empty directory is replaced by a rename; anything else at Path is
// exchanged with the new directory in one step (renameat2 RENAME_EXCHANGE), then removed,
// so that Path always names a complete directory. The caller decides whether what is at
// Path may be replaced. On failure the temporary directory is removed and Path is unchanged.
// Commit (the function) commits several files and directories together.
func (d *Dir) Commit() error { return Commit(d) }

// prepare syncs the temporary directory.
func (d *Dir) prepare() error {
	if d.done {
		return fmt.Errorf("%s: already committed or aborted", d.path)
	}
	d.done = true
	err := os.Chmod(d.name, d.perm)
	if err == nil {
		err = syncTree(d.name)
	}
	if err != nil {
		d.discard()
		return fmt.Errorf("writing %s: %w", d.path, err)
	}
	return nil
}

// install puts the temporary directory at Path, leaving the old content at its name.
func (d *Dir) install() error {
	if err := d.replace(); err != nil {
		d.discard()
		return fmt.Errorf("writing %s: %w", d.path, err)
	}
	return nil
}

// finish removes the old content and syncs the directory of Path.
func (d *Dir) finish() error {
	defer d.lock.Close()
	if err := os.RemoveAll(d.name); err != nil {
		return fmt.Errorf("removing the old %s: %w", d.path, err)
	}
	if err := syncDir(filepath.Dir(d.path)); err != nil {
		return fmt.Errorf("writing %s: %w", d.path, err)
	}
	return nil
}

// discard removes a prepared temporary directory that was not installed.
func (d *Dir) discard() {
	os.RemoveAll(d.name)
	d.lock.Close()
}

// replace puts the temporary directory at the destination, leaving the old content, if
// any, at the temporary name.
func (d *Dir) replace() error {
	err := os.Rename(d.name, d.path)
	if err == nil || !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.EISDIR) {
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, d.name, unix.AT_FDCWD, d.path, unix.RENAME_EXCHANGE)
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	return swapAside(d.name, d.path)
}

// swapAside is replace on a file system without RENAME_EXCHANGE: the old content is moved
// aside first (a process killed between the two renames leaves nothing at path, and the old
// content in a temporary).
func swapAside(name, path string) error {
	aside, err := os.MkdirTemp(filepath.Dir(name), filepath.Base(name)+"-old-")
	if err != nil {
		return err
	}
	if err := os.Rename(path, filepath.Join(aside, "old")); err != nil {
		os.Remove(aside)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Rename(filepath.Join(aside, "old"), path)
		os.Remove(aside)
		return err
	}
	return os.Rename(aside, name)
}

// Abort removes the temporary directory; it does nothing after Commit or Abort.
func (d *Dir) Abort() error {
	if d.done {
		return nil
	}
	d.done = true
	defer d.lock.Close()
	if err := os.RemoveAll(d.name); err != nil {
		return fmt.Errorf("removing %s: %w", d.name, err)
	}
	return nil
}

// syncTree syncs every regular file and directory under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() && !e.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}
