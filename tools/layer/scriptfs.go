package layer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
)

// scriptFS is the tree as the maintainer scripts see it (maintscript.FS). What the scripts
// create or change becomes a generated entry written into the layer; metadata changes of
// package entries are made in place (and the entry is then written, also when it comes
// from a lower layer). The bodies of files of installed packages that were not spooled are
// read again from their .deb when a script (or an emulated command such as ldconfig) reads
// them.
type scriptFS struct {
	t        *tree
	children map[string]map[string]bool // directory -> base names
	lower    map[int]map[string][]byte  // package index -> shipped path -> body, read again
	// upper is set while the new packages' scripts run: removing an entry of a lower
	// layer then cannot be expressed (layers have no whiteouts) and is reported.
	upper    bool
	warnings []string
}

func newScriptFS(t *tree) *scriptFS {
	f := &scriptFS{t: t, children: map[string]map[string]bool{}, lower: map[int]map[string][]byte{}}
	for p := range t.entries {
		f.link(p)
	}
	return f
}

// link records p (and its parents) in the children index.
func (f *scriptFS) link(p string) {
	for p != "" {
		dir := path.Dir(p)
		if dir == "." {
			dir = ""
		}
		if f.children[dir] == nil {
			f.children[dir] = map[string]bool{}
		}
		if f.children[dir][path.Base(p)] {
			return
		}
		f.children[dir][path.Base(p)] = true
		p = dir
	}
}

// Get implements maintscript.FS.
func (f *scriptFS) Get(name string) (maintscript.Node, bool) {
	if name == "" {
		return maintscript.Node{Kind: maintscript.KindDir, Mode: 0o755}, true
	}
	e, ok := f.t.entries[name]
	if !ok {
		return maintscript.Node{}, false
	}
	n := maintscript.Node{Mode: e.mode, UID: e.uid, GID: e.gid, MTime: e.mtime, Size: e.size}
	switch e.typ {
	case tar.TypeDir:
		n.Kind = maintscript.KindDir
	case tar.TypeReg:
		n.Kind = maintscript.KindFile
	case tar.TypeLink:
		n.Kind = maintscript.KindFile
		if target, ok := f.t.entries[e.link]; ok {
			n.Size = target.size
		}
	case tar.TypeSymlink:
		n.Kind, n.Link = maintscript.KindSymlink, e.link
	default:
		n.Kind = maintscript.KindOther
	}
	return n, true
}

// Open implements maintscript.FS.
func (f *scriptFS) Open(name string) (io.ReaderAt, error) {
	e, ok := f.t.entries[name]
	if ok && e.typ == tar.TypeLink {
		e, ok = f.t.entries[e.link]
	}
	if !ok || e.typ != tar.TypeReg {
		return nil, fmt.Errorf("/%s: not a regular file", name)
	}
	switch {
	case e.spool >= 0:
		return io.NewSectionReader(f.t.spools[e.spool].f, e.off, e.size), nil
	case e.spool == noBody:
		b, err := f.lowerBody(e)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(b), nil
	}
	return bytes.NewReader(e.data), nil
}

// List implements maintscript.FS.
func (f *scriptFS) List(name string) []string {
	out := make([]string, 0, len(f.children[name]))
	for c := range f.children[name] {
		if _, ok := f.t.entries[joinPath(name, c)]; ok {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func joinPath(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

// Put implements maintscript.FS: a generated entry replaces whatever was at name.
func (f *scriptFS) Put(name string, n maintscript.Node, body []byte) {
	e := &entry{path: name, mode: n.Mode, uid: n.UID, gid: n.GID, mtime: n.MTime}
	switch n.Kind {
	case maintscript.KindDir:
		e.typ = tar.TypeDir
	case maintscript.KindSymlink:
		e.typ, e.link = tar.TypeSymlink, n.Link
	default:
		e.typ, e.data = tar.TypeReg, append([]byte(nil), body...)
	}
	f.t.put(e)
	f.link(name)
}

// SetMeta implements maintscript.FS.
func (f *scriptFS) SetMeta(name string, n maintscript.Node) {
	e, ok := f.t.entries[name]
	if !ok || e.mode == n.Mode && e.uid == n.UID && e.gid == n.GID && (e.mtime.Equal(n.MTime) || n.MTime.IsZero()) {
		return
	}
	if e.lower && e.typ == tar.TypeReg && e.spool == noBody {
		b, err := f.lowerBody(e)
		if err != nil {
			f.warnings = append(f.warnings, fmt.Sprintf("/%s: %v", name, err))
			return
		}
		e.spool, e.data = -1, b
	}
	e.mode, e.uid, e.gid, e.lower = n.Mode, n.UID, n.GID, false
	if !n.MTime.IsZero() {
		e.mtime = n.MTime
	}
	e.uname, e.gname = "", ""
}

// Delete implements maintscript.FS.
func (f *scriptFS) Delete(name string) {
	e, ok := f.t.entries[name]
	if !ok {
		return
	}
	if f.upper && e.lower {
		f.warnings = append(f.warnings, fmt.Sprintf("a script of a new package removes /%s, which a lower layer holds: it stays visible", name))
	}
	delete(f.t.entries, name)
}

// lowerBody returns the body of an entry of an installed package whose body was not kept,
// reading the package's data again (once per package).
func (f *scriptFS) lowerBody(e *entry) ([]byte, error) {
	if e.pkg < 0 {
		return nil, fmt.Errorf("/%s: no body", e.path)
	}
	bodies, ok := f.lower[e.pkg]
	if !ok {
		var err error
		if bodies, err = readBodies(f.t.pkgs[e.pkg]); err != nil {
			return nil, err
		}
		f.lower[e.pkg] = bodies
	}
	b, ok := bodies[e.src]
	if !ok {
		return nil, fmt.Errorf("/%s: not in the data of %s", e.src, f.t.pkgs[e.pkg].deb.Package)
	}
	return b, nil
}

// readBodies reads every regular file of a package's data, by shipped path.
func readBodies(p *pkgInfo) (map[string][]byte, error) {
	tr, c, err := p.deb.Data()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.deb.Name, err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.deb.Name, h.Name, err)
		}
		out[cleanName(h.Name)] = b
	}
}

// nameIDs gives the entries the scripts generated or changed (and package entries without
// names) the user and group names of their ids, from the image's etc/passwd and etc/group.
func (f *scriptFS) nameIDs(users, groups map[int]string) {
	for _, e := range f.t.entries {
		if e.lower || e.pkg >= 0 && (e.uname != "" || e.gname != "") {
			continue
		}
		e.uname, e.gname = nameOr(users, e.uid), nameOr(groups, e.gid)
	}
}

// nameOr is the name of id, "root" for 0 without a name, else "".
func nameOr(names map[int]string, id int) string {
	if n, ok := names[id]; ok {
		return n
	}
	if id == 0 {
		return "root"
	}
	return ""
}

// idNames reads the first name of every id of a passwd- or group-format file.
func idNames(b []byte) map[int]string {
	out := map[int]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 3 {
			continue
		}
		var id int
		if _, err := fmt.Sscanf(f[2], "%d", &id); err != nil {
			continue
		}
		if _, ok := out[id]; !ok {
			out[id] = f[0]
		}
	}
	return out
}
