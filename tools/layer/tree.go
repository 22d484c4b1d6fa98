package layer

import (
	"archive/tar"
	"crypto/sha256"
	"fmt"
	"path"
	"strings"
	"time"
)

// entry is one filesystem object of the output.
type entry struct {
	path     string // output path, no leading "/" or "./", no trailing "/"; "" is the root
	typ      byte
	mode     int64
	uid, gid int
	uname    string
	gname    string
	mtime    time.Time
	link     string // symlink target, or hardlink target (output path)
	size     int64
	devmajor int64
	devminor int64

	// body location: either in a spool file or in memory.
	spool int // index into spools, -1 when data is used, noBody
	off   int64
	data  []byte
	sum   [sha256.Size]byte

	pkg int // index into packages, -1 for generated entries

	src   string // path as shipped (cleaned), for package entries
	lower bool   // present in a lower layer: not written
}

// Spool index of a lower-layer body that was hashed but not kept.
const noBody = -2

// tree is the merged filesystem being built: the entries of every package, by output path,
// and the generated ones.
type tree struct {
	entries map[string]*entry
	pkgs    []*pkgInfo
	spools  spools
	epoch   time.Time
	divs    map[string]*diversion
}

// newTree puts the entries of the (sorted) packages into a tree, checking for conflicts.
func newTree(pkgs []*pkgInfo, s spools, epoch time.Time, divs map[string]*diversion) (*tree, error) {
	t := &tree{entries: map[string]*entry{}, pkgs: pkgs, spools: s, epoch: epoch, divs: divs}
	for _, p := range pkgs {
		for _, e := range p.entries {
			if err := t.add(e); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// cleanName normalises a path: no "./" or "/" prefix, cleaned; "" is the root.
func cleanName(name string) string {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimPrefix(name, "/")
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// movedInstalledWarnings reports installed files moved by a diversion of a new package whose
// original path nothing in this layer covers.
func (t *tree) movedInstalledWarnings() []string {
	var w []string
	for _, p := range t.pkgs {
		for _, y := range p.moved {
			if e, ok := t.entries[y]; !ok || e.lower {
				w = append(w, fmt.Sprintf("%s: /%s was diverted by a new package but stays visible in the lower layer (no new package ships it)", p.deb.Package, y))
			}
		}
	}
	return w
}

// dropped records that e lost its path to another package (Replaces): dpkg removes the path
// from the loser's file list.
func (t *tree) dropped(e *entry) {
	if e.pkg >= 0 && e.src != "" {
		t.pkgs[e.pkg].replaced["/"+e.src] = true
	}
}

func (t *tree) pkgName(i int) string {
	if i < 0 {
		return "(generated)"
	}
	return t.pkgs[i].deb.Package
}

// replaces reports whether package a declares Replaces on package b (by name; versions are
// not checked).
func (t *tree) replaces(a, b int) bool {
	return a >= 0 && b >= 0 && t.pkgs[a].replaces[t.pkgs[b].deb.Package]
}

func kind(typ byte) string {
	switch typ {
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeReg:
		return "file"
	}
	return "special file"
}

// same reports whether two package entries at one path agree (a shared directory, or equal
// files or links).
func same(a, b *entry) bool {
	switch {
	case a.typ != b.typ:
		return false
	case a.typ == tar.TypeDir:
		return true // shared directory: the first package (by name) wins
	case a.typ == tar.TypeReg:
		return a.sum == b.sum
	case a.typ == tar.TypeSymlink, a.typ == tar.TypeLink:
		return a.link == b.link
	}
	return false
}

// add puts a package entry into the tree, checking for conflicts.
func (t *tree) add(e *entry) error {
	old, ok := t.entries[e.path]
	switch {
	case !ok:
		t.entries[e.path] = e
		return nil
	case same(old, e):
		return nil
	case t.replaces(e.pkg, old.pkg):
		t.dropped(old)
		t.entries[e.path] = e
		return nil
	case t.replaces(old.pkg, e.pkg):
		t.dropped(e)
		return nil
	}
	what := "different content"
	if old.typ != e.typ {
		what = kind(old.typ) + " vs " + kind(e.typ)
	} else if e.typ == tar.TypeSymlink {
		what = fmt.Sprintf("symlink to %s vs %s", old.link, e.link)
	}
	return fmt.Errorf("conflict: /%s is shipped by both %s and %s (%s)", e.path, t.pkgName(old.pkg), t.pkgName(e.pkg), what)
}

// put adds or replaces a generated entry.
func (t *tree) put(e *entry) {
	e.pkg = -1
	e.spool = -1
	if e.mtime.IsZero() {
		e.mtime = t.epoch
	}
	if e.uname == "" && e.uid == 0 {
		e.uname = "root"
	}
	if e.gname == "" && e.gid == 0 {
		e.gname = "root"
	}
	if e.typ == tar.TypeReg {
		e.size = int64(len(e.data))
		e.sum = sha256.Sum256(e.data)
	}
	t.entries[e.path] = e
}

func (t *tree) putFile(p string, mode int64, data []byte) {
	t.put(&entry{path: p, typ: tar.TypeReg, mode: mode, data: data})
}

// putDir adds a directory unless there is one at p.
func (t *tree) putDir(p string, mode int64) {
	if old, ok := t.entries[p]; ok && old.typ == tar.TypeDir {
		return
	}
	t.put(&entry{path: p, typ: tar.TypeDir, mode: mode})
}

// putDirs adds the directories ps (0755) that are missing, in order.
func (t *tree) putDirs(ps ...string) {
	for _, p := range ps {
		t.putDir(p, 0o755)
	}
}

func (t *tree) putSymlink(p, target string) {
	t.put(&entry{path: p, typ: tar.TypeSymlink, mode: 0o777, link: target})
}

// resolve maps an absolute path as a program would see it to the output path, following the
// merged-/usr symlinks.
func (t *tree) resolve(p string) string {
	p = cleanName(p)
	top, _, _ := strings.Cut(p, "/")
	if e, ok := t.entries[top]; ok && e.typ == tar.TypeSymlink && strings.HasPrefix(e.link, "usr/") && p != top {
		return e.link + strings.TrimPrefix(p, top)
	}
	return p
}

// exists reports whether there is an entry at absolute path p.
func (t *tree) exists(p string) bool {
	_, ok := t.entries[t.resolve(p)]
	return ok
}

// body returns the content of a regular entry.
func (t *tree) body(e *entry) ([]byte, error) {
	if e.spool == noBody {
		return nil, fmt.Errorf("/%s: body of a file of an installed package was not kept (see effectInput)", e.path)
	}
	if e.spool < 0 {
		return e.data, nil
	}
	b := make([]byte, e.size)
	_, err := t.spools[e.spool].f.ReadAt(b, e.off)
	return b, err
}

// file returns the content of the regular file at absolute path p, if any.
func (t *tree) file(p string) ([]byte, bool, error) {
	e, ok := t.entries[t.resolve(p)]
	if !ok || e.typ != tar.TypeReg {
		return nil, false, nil
	}
	b, err := t.body(e)
	return b, true, err
}

// addParents creates the missing parent directories of the entries that are written; parents
// present only in a lower layer are written too (with their metadata), so that the layer is
// complete on its own.
func (t *tree) addParents() {
	for p, e := range t.entries {
		if e.lower {
			continue
		}
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if d, ok := t.entries[dir]; ok {
				if !d.lower || d.typ != tar.TypeDir {
					break
				}
				d.lower = false
				continue
			}
			t.put(&entry{path: dir, typ: tar.TypeDir, mode: 0o755})
		}
	}
}
