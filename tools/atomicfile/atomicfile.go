// Package atomicfile replaces files atomically: the new content is written to a temporary
// file in the destination's directory, synced, and renamed over the destination, and the
// directory is synced. A reader sees the old file or the new one, never a mix; a failure
// (or an interrupted process that runs its cleanup) leaves the old file untouched and no
// temporary file behind.
//
// Temporary files are named ".<base>.tmp-<random>" beside the destination, so that they are
// hidden, on the same file system (rename is atomic only there), and recognisable. A
// process killed by SIGKILL between Create and Commit or Abort leaves one behind; the next
// Create (or CreateDir) for the same destination removes it. A writer holds a flock on its
// temporary while it uses it, so a temporary that no process holds is known to be stale.
//
// CreateDir is the same for a directory: built aside, renamed into place, or exchanged with
// the old directory in one step. Commit puts several outputs of one program in place with
// their renames back to back. TempFile is a scratch file that never has a name.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a temporary file that becomes Path when committed. Write to it like an
// *os.File; then call Commit, or Abort to discard it. Abort after Commit does nothing, so
// `defer f.Abort()` is the usual cleanup.
type File struct {
	*os.File
	path string
	perm fs.FileMode
	done bool
}

// Create starts replacing path (after removing its stale temporaries, see Sweep); the file
// will have mode perm (not subject to the umask).
func Create(path string, perm fs.FileMode) (*File, error) {
	Sweep(path)
	dir, base := split(path)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file for %s: %w", path, err)
	}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("locking the temporary file for %s: %w", path, err)
	}
	return &File{File: f, path: path, perm: perm}, nil
}

// Path is the destination.
func (f *File) Path() string { return f.path }

// Commit syncs the temporary file, renames it to the destination and syncs the directory.
// On failure the temporary file is removed and the destination is unchanged. Commit (the
// function) commits several files and directories together.
func (f *File) Commit() error { return Commit(f) }

// prepare syncs and closes the temporary file.
func (f *File) prepare() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	f.done = true
	err := f.Chmod(f.perm)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// install renames the temporary file to the destination.
func (f *File) install() error {
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// finish syncs the directory.
func (f *File) finish() error {
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// discard removes a prepared temporary file that was not installed.
func (f *File) discard() { os.Remove(f.Name()) }

// Abort discards the temporary file; it does nothing after Commit or Abort.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	cerr := f.File.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("removing %s: %w", f.Name(), err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("closing %s: %w", f.Name(), cerr)
	}
	return nil
}

// Close is Abort: a File that was not committed must not become the destination. It
// shadows os.File.Close so that a deferred Close cannot leave a temporary file behind.
func (f *File) Close() error { return f.Abort() }

// WriteFile replaces path by data with mode perm, atomically.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
