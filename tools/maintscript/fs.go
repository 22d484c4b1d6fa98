package maintscript

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Kind is the type of a file system object.
type Kind uint8

// Kinds of nodes. KindOther is a device or FIFO (scripts may see, not make, them).
const (
	KindNone Kind = iota
	KindDir
	KindFile
	KindSymlink
	KindOther
)

// Node is the metadata of one file system object.
type Node struct {
	Kind     Kind
	Mode     int64 // permission bits with setuid, setgid and sticky (07777)
	UID, GID int
	Link     string // a symlink's target
	Size     int64  // a regular file's size
	MTime    time.Time
}

// FS is the file system the scripts run on: names are cleaned paths without a leading slash
// ("etc/passwd"; "" is the root directory). It does not resolve symlinks: the interpreter
// does, component by component, as the kernel would. Implementations need not be safe for
// concurrent use; the interpreter serialises calls.
type FS interface {
	// Get returns the node at name.
	Get(name string) (Node, bool)
	// Open returns the content of the regular file at name.
	Open(name string) (io.ReaderAt, error)
	// List returns the base names of the entries directly in directory name, sorted.
	List(name string) []string
	// Put creates or replaces the node at name; body is the content of a regular file.
	Put(name string, n Node, body []byte)
	// SetMeta changes the mode, owner and modification time of the node at name.
	SetMeta(name string, n Node)
	// Delete removes the node at name (not its children).
	Delete(name string)
}

// Errors of path resolution, as the shell reports them.
var (
	errNotExist = fs.ErrNotExist
	errExist    = fs.ErrExist
	errNotDir   = errors.New("not a directory")
	errIsDir    = errors.New("is a directory")
	errNotEmpty = errors.New("directory not empty")
	errLoop     = errors.New("too many levels of symbolic links")
)

// maxSymlinks bounds the symlinks followed while resolving one path (Linux's limit).
const maxSymlinks = 40

// readAll returns the whole content of the regular file at name.
func readAll(f FS, name string) ([]byte, error) {
	n, ok := f.Get(name)
	if !ok || n.Kind != KindFile {
		return nil, fmt.Errorf("/%s: %w", name, errNotExist)
	}
	r, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n.Size)
	if _, err := r.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("/%s: %w", name, err)
	}
	return b, nil
}

// resolve maps path p (absolute, or relative to dir) to the name of the object it denotes,
// following symlinks in every component and, when follow is set, in the last one. The name
// is returned also when nothing exists there (with ok false), as long as its parent
// directory exists.
func resolve(f FS, dir, p string, follow bool) (name string, n Node, ok bool, err error) {
	if p == "" {
		return "", Node{}, false, errNotExist
	}
	if !strings.HasPrefix(p, "/") {
		p = dir + "/" + p
	}
	todo := strings.Split(p, "/")
	cur, links := "", 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = parentName(cur)
			continue
		}
		next := joinName(cur, comp)
		node, found := f.Get(next)
		last := len(todo) == 0 || allEmpty(todo)
		if !found {
			if last {
				return next, Node{}, false, nil
			}
			return "", Node{}, false, fmt.Errorf("/%s: %w", next, errNotExist)
		}
		if node.Kind == KindSymlink && (!last || follow) {
			if links++; links > maxSymlinks {
				return "", Node{}, false, fmt.Errorf("/%s: %w", next, errLoop)
			}
			if strings.HasPrefix(node.Link, "/") {
				cur = ""
			}
			todo = append(strings.Split(node.Link, "/"), todo...)
			continue
		}
		if !last && node.Kind != KindDir {
			return "", Node{}, false, fmt.Errorf("/%s: %w", next, errNotDir)
		}
		cur = next
		if last {
			return cur, node, true, nil
		}
	}
	root, _ := f.Get("")
	root.Kind = KindDir
	return cur, root, true, nil
}

// allEmpty reports whether every element of s is "" or "." (a trailing slash).
func allEmpty(s []string) bool {
	for _, x := range s {
		if x != "" && x != "." {
			return false
		}
	}
	return true
}

func joinName(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

func parentName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// cleanName turns an absolute path into a name without resolving anything.
func cleanName(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// MemFS is an FS held in memory, for tests and for runs that only look for diversions.
type MemFS struct {
	nodes  map[string]Node
	bodies map[string][]byte
}

// NewMemFS returns an FS holding only the root directory (0755 root).
func NewMemFS() *MemFS {
	return &MemFS{nodes: map[string]Node{"": {Kind: KindDir, Mode: 0o755}}, bodies: map[string][]byte{}}
}

// Get implements FS.
func (m *MemFS) Get(name string) (Node, bool) { n, ok := m.nodes[name]; return n, ok }

// Open implements FS.
func (m *MemFS) Open(name string) (io.ReaderAt, error) {
	if n, ok := m.nodes[name]; !ok || n.Kind != KindFile {
		return nil, fmt.Errorf("/%s: %w", name, errNotExist)
	}
	return bytes.NewReader(m.bodies[name]), nil
}

// List implements FS.
func (m *MemFS) List(name string) []string {
	var out []string
	for k := range m.nodes {
		if k != "" && parentName(k) == name {
			out = append(out, path.Base(k))
		}
	}
	sortStrings(out)
	return out
}

// Put implements FS.
func (m *MemFS) Put(name string, n Node, body []byte) {
	if n.Kind == KindFile {
		n.Size = int64(len(body))
		m.bodies[name] = body
	} else {
		delete(m.bodies, name)
	}
	m.nodes[name] = n
}

// SetMeta implements FS.
func (m *MemFS) SetMeta(name string, n Node) {
	old, ok := m.nodes[name]
	if !ok {
		return
	}
	old.Mode, old.UID, old.GID, old.MTime = n.Mode, n.UID, n.GID, n.MTime
	m.nodes[name] = old
}

// Delete implements FS.
func (m *MemFS) Delete(name string) {
	delete(m.nodes, name)
	delete(m.bodies, name)
}
