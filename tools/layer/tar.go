package layer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"time"
)

// writeTar writes the entries that are not in a lower layer, sorted by path. It returns the
// number of entries and of bytes of file content.
func (t *tree) writeTar(w io.Writer) (int, int64, error) {
	paths := t.writtenPaths()
	if err := t.hardlinksFirst(paths); err != nil {
		return 0, 0, err
	}
	tw := tar.NewWriter(w)
	var total int64
	buf := make([]byte, 256<<10)
	for _, p := range paths {
		e := t.entries[p]
		if err := tw.WriteHeader(t.header(e, p)); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p, err)
		}
		if e.typ != tar.TypeReg {
			continue
		}
		n, err := io.CopyBuffer(tw, t.reader(e), buf)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p, err)
		}
		total += n
	}
	if err := tw.Close(); err != nil {
		return 0, 0, err
	}
	return len(paths), total, nil
}

// writtenPaths returns the sorted paths of the entries written into the layer.
func (t *tree) writtenPaths() []string {
	paths := make([]string, 0, len(t.entries))
	for p, e := range t.entries {
		if !e.lower {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// hardlinksFirst makes every hard link point to an earlier entry: the first path (of the
// sorted paths) of each group of links carries the body.
func (t *tree) hardlinksFirst(paths []string) error {
	groups := map[string][]string{}
	for _, p := range paths {
		if e := t.entries[p]; e.typ == tar.TypeLink {
			groups[e.link] = append(groups[e.link], p)
		}
	}
	for target, links := range groups {
		te, ok := t.entries[target]
		if !ok || te.typ != tar.TypeReg || te.lower {
			return fmt.Errorf("hard link %s points to %s which is not a regular file in the layer", links[0], target)
		}
		first := links[0] // links are sorted
		if first >= target {
			continue
		}
		fe := *te
		fe.path = first
		t.entries[first] = &fe
		t.entries[target] = &entry{path: target, typ: tar.TypeLink, link: first, mode: te.mode, uid: te.uid, gid: te.gid, uname: te.uname, gname: te.gname, mtime: te.mtime, pkg: te.pkg, spool: -1}
		for _, l := range links[1:] {
			t.entries[l].link = first
		}
	}
	return nil
}

// header returns the tar header of entry e at path p, its mtime clamped to the epoch.
func (t *tree) header(e *entry, p string) *tar.Header {
	mt := e.mtime.UTC().Truncate(time.Second)
	if mt.After(t.epoch) {
		mt = t.epoch
	}
	h := &tar.Header{
		Typeflag: e.typ, Name: p, Linkname: e.link, Mode: e.mode,
		Uid: e.uid, Gid: e.gid, Uname: e.uname, Gname: e.gname,
		ModTime: mt, Devmajor: e.devmajor, Devminor: e.devminor,
		Format: tar.FormatPAX,
	}
	if e.typ == tar.TypeDir {
		h.Name += "/"
	}
	if e.typ == tar.TypeReg {
		h.Size = e.size
	}
	return h
}

// reader returns the body of a regular entry.
func (t *tree) reader(e *entry) io.Reader {
	if e.spool >= 0 {
		return io.NewSectionReader(t.spools[e.spool].f, e.off, e.size)
	}
	return bytes.NewReader(e.data)
}
