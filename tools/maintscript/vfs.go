package maintscript

import (
	"fmt"
	"io"
	"path"
	"sort"
	"sync"
	"time"
)

// vfs is the file system as the commands use it: paths as a program gives them (absolute,
// or relative to its directory), symlinks resolved, one operation at a time (the commands of
// a pipeline run concurrently).
type vfs struct {
	fs    FS
	epoch time.Time
	mu    sync.Mutex
}

// stat returns the node p denotes (following a final symlink when follow is set).
func (v *vfs) stat(dir, p string, follow bool) (string, Node, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, n, ok, err := resolve(v.fs, dir, p, follow)
	if err != nil {
		return "", Node{}, err
	}
	if !ok {
		return name, Node{}, fmt.Errorf("%s: %w", p, errNotExist)
	}
	return name, n, nil
}

// exists reports whether p denotes something (following symlinks).
func (v *vfs) exists(dir, p string) bool {
	_, _, err := v.stat(dir, p, true)
	return err == nil
}

// read returns the content of the regular file p denotes (/dev/null is empty).
func (v *vfs) read(dir, p string) ([]byte, error) {
	if p == "/dev/null" {
		return nil, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	name, err := v.existing(dir, p, false)
	if err != nil {
		return nil, err
	}
	return readAll(v.fs, name)
}

// existing resolves p (following symlinks) to an existing directory (wantDir) or
// non-directory; the caller holds v.mu.
func (v *vfs) existing(dir, p string, wantDir bool) (string, error) {
	name, n, ok, err := resolve(v.fs, dir, p, true)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", fmt.Errorf("%s: %w", p, errNotExist)
	case n.Kind == KindDir && !wantDir:
		return "", fmt.Errorf("%s: %w", p, errIsDir)
	case n.Kind != KindDir && wantDir:
		return "", fmt.Errorf("%s: %w", p, errNotDir)
	}
	return name, nil
}

// write creates or replaces (or, with appendTo, extends) the regular file p denotes. A new
// file gets mode and root ownership; an existing one keeps its mode and owner.
func (v *vfs) write(dir, p string, data []byte, mode int64, appendTo bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, n, ok, err := v.parentOK(dir, p, true)
	if err != nil {
		return err
	}
	if ok && n.Kind == KindDir {
		return fmt.Errorf("%s: %w", p, errIsDir)
	}
	if !ok || n.Kind != KindFile {
		n = Node{Kind: KindFile, Mode: mode}
	} else if appendTo {
		old, err := readAll(v.fs, name)
		if err != nil {
			return err
		}
		data = append(old, data...)
	}
	n.Kind, n.Link, n.MTime = KindFile, "", v.epoch
	v.fs.Put(name, n, data)
	return nil
}

// parentOK resolves p and checks that its parent is an existing directory.
func (v *vfs) parentOK(dir, p string, follow bool) (string, Node, bool, error) {
	name, n, ok, err := resolve(v.fs, dir, p, follow)
	if err != nil {
		return "", Node{}, false, err
	}
	if name == "" {
		return name, n, ok, nil
	}
	if pn, found := v.fs.Get(parentName(name)); !found || pn.Kind != KindDir {
		return "", Node{}, false, fmt.Errorf("%s: %w", p, errNotExist)
	}
	return name, n, ok, nil
}

// put creates the node n at p (not following a final symlink), failing if something is
// there unless replace is set. It returns the name.
func (v *vfs) put(dir, p string, n Node, body []byte, replace bool) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, old, ok, err := v.parentOK(dir, p, false)
	if err != nil {
		return "", err
	}
	if ok && (!replace || old.Kind == KindDir && n.Kind != KindDir) {
		return "", fmt.Errorf("%s: %w", p, errExist)
	}
	if n.MTime.IsZero() {
		n.MTime = v.epoch
	}
	v.fs.Put(name, n, body)
	return name, nil
}

// mkdirAll creates p and its missing parents with mode (0755 for the parents).
func (v *vfs) mkdirAll(dir, p string, mode int64) error {
	if !path.IsAbs(p) {
		p = path.Join(dir, p)
	}
	if _, n, err := v.stat("/", p, true); err == nil {
		if n.Kind != KindDir {
			return fmt.Errorf("%s: %w", p, errNotDir)
		}
		return nil
	}
	if parent := path.Dir(path.Clean(p)); parent != p {
		if err := v.mkdirAll("/", parent, 0o755); err != nil {
			return err
		}
	}
	_, err := v.put("/", p, Node{Kind: KindDir, Mode: mode}, nil, false)
	return err
}

// remove deletes what p names (not following a final symlink); a directory must be empty.
func (v *vfs) remove(dir, p string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, n, ok, err := resolve(v.fs, dir, p, false)
	switch {
	case err != nil:
		return err
	case !ok || name == "":
		return fmt.Errorf("%s: %w", p, errNotExist)
	case n.Kind == KindDir && len(v.fs.List(name)) > 0:
		return fmt.Errorf("%s: %w", p, errNotEmpty)
	}
	v.fs.Delete(name)
	return nil
}

// removeAll deletes what p names and everything below it.
func (v *vfs) removeAll(dir, p string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, _, ok, err := resolve(v.fs, dir, p, false)
	if err != nil || !ok {
		return err
	}
	v.deleteTree(name)
	return nil
}

func (v *vfs) deleteTree(name string) {
	for _, c := range v.fs.List(name) {
		v.deleteTree(joinName(name, c))
	}
	v.fs.Delete(name)
}

// rename moves what old names to new (replacing a non-directory there).
func (v *vfs) rename(dir, oldp, newp string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	from, n, ok, err := resolve(v.fs, dir, oldp, false)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", oldp, errNotExist)
	}
	to, tn, tok, err := v.parentOK(dir, newp, true)
	if err != nil {
		return err
	}
	if tok && tn.Kind == KindDir {
		to = joinName(to, path.Base(from))
	}
	v.move(from, to, n)
	return nil
}

// move moves the subtree at from to to.
func (v *vfs) move(from, to string, n Node) {
	var body []byte
	if n.Kind == KindFile {
		body, _ = readAll(v.fs, from)
	}
	children := v.fs.List(from)
	v.fs.Put(to, n, body)
	for _, c := range children {
		cn, _ := v.fs.Get(joinName(from, c))
		v.move(joinName(from, c), joinName(to, c), cn)
	}
	v.fs.Delete(from)
}

// setMeta changes the mode and owner of what p denotes (following symlinks when follow is
// set); a negative uid, gid or mode is left as it is.
func (v *vfs) setMeta(dir, p string, follow bool, mode int64, uid, gid int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, n, ok, err := resolve(v.fs, dir, p, follow)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", p, errNotExist)
	}
	if mode >= 0 {
		n.Mode = mode
	}
	if uid >= 0 {
		n.UID = uid
	}
	if gid >= 0 {
		n.GID = gid
	}
	v.fs.SetMeta(name, n)
	return nil
}

// touchTime sets the modification time of what p names.
func (v *vfs) touchTime(name string, t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n, ok := v.fs.Get(name); ok {
		n.MTime = t
		v.fs.SetMeta(name, n)
	}
}

// list returns the entries of directory p (following symlinks), sorted.
func (v *vfs) list(dir, p string) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	name, err := v.existing(dir, p, true)
	if err != nil {
		return nil, err
	}
	return v.fs.List(name), nil
}

// walk returns every name below directory name (not following symlinks), depth first in
// sorted order, with their nodes.
func (v *vfs) walk(name string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	var rec func(string)
	rec = func(n string) {
		for _, c := range v.fs.List(n) {
			cn := joinName(n, c)
			out = append(out, cn)
			if node, _ := v.fs.Get(cn); node.Kind == KindDir {
				rec(cn)
			}
		}
	}
	rec(name)
	return out
}

// get returns the node at a name (no resolution).
func (v *vfs) get(name string) (Node, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fs.Get(name)
}

// readName returns the content of the regular file at a name (no resolution).
func (v *vfs) readName(name string) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return readAll(v.fs, name)
}

func sortStrings(s []string) { sort.Strings(s) }

// open returns the content of the regular file at a name (no resolution).
func (v *vfs) open(name string) (io.ReaderAt, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fs.Open(name)
}
