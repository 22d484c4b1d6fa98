package atomicfile

import "errors"

// Pending is a File or a Dir that Commit can put in place.
type Pending interface {
	// Abort discards the temporary; it does nothing after Commit or Abort.
	Abort() error
	prepare() error // sync; on failure the temporary is removed
	install() error // rename into place; on failure the temporary is removed
	finish() error  // remove the old content, sync the directory
	discard()       // remove a prepared temporary that was not installed
}

// Commit puts several files and directories in place as close together as it can: every one
// is synced first, then all are renamed into place one right after the other, with no other
// I/O between the renames, then the old content is removed and the directories synced. If
// one fails before the renames, none is installed and every temporary is removed. A process
// killed between two renames (microseconds) leaves the first destinations new and the others
// old, each of them complete; so does a rename that fails after others succeeded.
func Commit(ps ...Pending) error {
	for i, p := range ps {
		if err := p.prepare(); err != nil {
			for _, q := range ps[:i] {
				q.discard()
			}
			for _, q := range ps[i+1:] {
				q.Abort()
			}
			return err
		}
	}
	installed := 0
	var err error
	for _, p := range ps {
		if err = p.install(); err != nil {
			break
		}
		installed++
	}
	for _, q := range ps[min(installed+1, len(ps)):] {
		q.discard()
	}
	errs := []error{err}
	for _, p := range ps[:installed] {
		errs = append(errs, p.finish())
	}
	return errors.Join(errs...)
}
