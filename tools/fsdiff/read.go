package fsdiff

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// ReadOptions say how to read a tree.
type ReadOptions struct {
	// Normalizers give regular files a second hash (Entry.NormSHA256); see Policy.
	Normalizers []Normalizer
	// Keep, when set, is asked for every regular file (with Path, Kind, Mode, owner and
	// Size filled in) whether to keep its content in Entry.Body.
	Keep func(*Entry) bool
}

// cleanPath turns a tar or walk name into an entry path ("" for the root).
func cleanPath(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

// fillContent hashes r into e (Size, SHA256, NormSHA256 and, if kept, Body).
func (o ReadOptions) fillContent(e *Entry, r io.Reader) error {
	var norms []*Normalizer
	for i := range o.Normalizers {
		if Match(o.Normalizers[i].Path, e.Path) {
			norms = append(norms, &o.Normalizers[i])
		}
	}
	keep := o.Keep != nil && o.Keep(e)
	h := sha256.New()
	if len(norms) == 0 && !keep {
		n, err := io.Copy(h, r)
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.Path, err)
		}
		e.Size, e.SHA256 = n, hex.EncodeToString(h.Sum(nil))
		return nil
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.Path, err)
	}
	h.Write(body)
	e.Size, e.SHA256 = int64(len(body)), hex.EncodeToString(h.Sum(nil))
	if len(norms) > 0 {
		all := bytes.Clone(body)
		for _, n := range norms {
			all = n.Apply(all)
			if len(norms) > 1 {
				one := sha256.Sum256(n.Apply(bytes.Clone(body)))
				e.NormSHA256s = append(e.NormSHA256s, hex.EncodeToString(one[:]))
			}
		}
		sum := sha256.Sum256(all)
		e.NormSHA256 = hex.EncodeToString(sum[:])
	}
	if keep {
		e.Body = body
	}
	return nil
}

// ReadTar reads a tar stream of a flattened file system (no whiteouts). A later entry for the
// same path replaces the earlier one; a hard link becomes a regular file with its target's
// content and its own header's mode and owner. Hard links are resolved at the end of the
// stream, so their targets may come after them (as in mutate.Extract's output, which writes
// upper layers first).
func ReadTar(r io.Reader, o ReadOptions) (Tree, error) {
	t := Tree{}
	links := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		p := cleanPath(h.Name)
		if p == "" {
			continue
		}
		if strings.HasPrefix(path.Base(p), ".wh.") {
			return nil, fmt.Errorf("tar entry %s: whiteout in a flattened file system", h.Name)
		}
		e := &Entry{Path: p, Mode: uint32(h.Mode) & 0o7777, UID: h.Uid, GID: h.Gid}
		delete(links, p)
		if h.Typeflag == tar.TypeLink {
			e.Kind = File
			links[p] = cleanPath(h.Linkname)
		} else if err := fillFromHeader(e, h, tr, o); err != nil {
			return nil, err
		}
		t[p] = e
	}
	return t, resolveLinks(t, links, o)
}

// resolveLinks gives every hard link (path -> target path) its target's content.
func resolveLinks(t Tree, links map[string]string, o ReadOptions) error {
	for p, target := range links {
		e, to := t[p], t[target]
		for i := 0; to != nil && links[target] != "" && i <= len(links); i++ {
			target = links[target]
			to = t[target]
		}
		if to == nil || to.Kind != File || links[target] != "" {
			return fmt.Errorf("tar entry %s: hard link to %s, which is not a regular file", p, target)
		}
		e.Size, e.SHA256, e.NormSHA256, e.NormSHA256s = to.Size, to.SHA256, to.NormSHA256, to.NormSHA256s
		if o.Keep != nil && o.Keep(e) {
			e.Body = to.Body
		}
	}
	return nil
}

func fillFromHeader(e *Entry, h *tar.Header, tr io.Reader, o ReadOptions) error {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		e.Kind = File
		return o.fillContent(e, tr)
	case tar.TypeSymlink:
		e.Kind, e.Link = Symlink, h.Linkname
	case tar.TypeDir:
		e.Kind = Dir
	case tar.TypeChar, tar.TypeBlock:
		e.Kind, e.Dev = CharDev, fmt.Sprintf("%d,%d", h.Devmajor, h.Devminor)
		if h.Typeflag == tar.TypeBlock {
			e.Kind = Block
		}
	case tar.TypeFifo:
		e.Kind = FIFO
	default:
		return fmt.Errorf("tar entry %s: unsupported type %q", h.Name, h.Typeflag)
	}
	return nil
}

// ReadDir reads the tree below root (which is not an entry itself). Symlinks are not
// followed; hard links are regular files.
func ReadDir(root string, o ReadOptions) (Tree, error) {
	t := Tree{}
	err := filepath.WalkDir(root, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, name)
		if err != nil {
			return err
		}
		p := cleanPath(filepath.ToSlash(rel))
		if p == "" {
			return nil
		}
		e, err := readDirEntry(name, p, o)
		if err != nil {
			return err
		}
		t[p] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	return t, nil
}

func readDirEntry(name, p string, o ReadOptions) (*Entry, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("%s: no stat_t", name)
	}
	e := &Entry{Path: p, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid)}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		e.Kind = File
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return e, o.fillContent(e, f)
	case syscall.S_IFDIR:
		e.Kind = Dir
	case syscall.S_IFLNK:
		e.Kind = Symlink
		if e.Link, err = os.Readlink(name); err != nil {
			return nil, err
		}
	case syscall.S_IFCHR, syscall.S_IFBLK:
		e.Kind, e.Dev = CharDev, fmt.Sprintf("%d,%d", major(st.Rdev), minor(st.Rdev))
		if st.Mode&syscall.S_IFMT == syscall.S_IFBLK {
			e.Kind = Block
		}
	case syscall.S_IFIFO:
		e.Kind = FIFO
	case syscall.S_IFSOCK:
		e.Kind = Socket
	}
	return e, nil
}

// major and minor decode a Linux dev_t (glibc's gnu_dev_major/minor).
func major(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func minor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }
