package runner

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"golang.org/x/sys/unix"
)

// Stats describes an unpacked root file system.
type Stats struct {
	Entries  int           `json:"entries"` // file system entries written
	Bytes    int64         `json:"bytes"`   // bytes of regular files
	Skipped  int           `json:"skipped"` // device nodes left out (only root may create them)
	Duration time.Duration `json:"duration"`
}

// Unpack writes the file system of img, its layers flattened with their whiteouts applied
// (go-containerregistry's mutate.Extract), into dir, which must be empty or absent. As root
// it keeps owners, modes (setuid, setgid, sticky), device nodes and modification times; as
// another user every file belongs to the caller and device nodes are left out (Stats.Skipped).
// No entry is written through a symbolic link, so a layer cannot reach outside dir.
func Unpack(img v1.Image, dir string) (Stats, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	return unpackTar(rc, dir, os.Geteuid() == 0)
}

// unpackTar writes the flattened file system that r holds as a tar stream into dir; asRoot
// keeps owners and device nodes.
func unpackTar(r io.Reader, dir string, asRoot bool) (Stats, error) {
	start := time.Now()
	// The root's mode, unless the image has an entry for it, is the usual one (os.MkdirTemp
	// makes 0700 directories, which users other than root could not enter).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("unpack: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("unpack: %w", err)
	}
	u := &unpacker{root: dir, asRoot: asRoot, symlinks: map[string]bool{}}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u.stats, fmt.Errorf("unpack: reading the layers: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return u.stats, fmt.Errorf("unpack %s: %w", hdr.Name, err)
		}
	}
	if err := u.finish(); err != nil {
		return u.stats, fmt.Errorf("unpack: %w", err)
	}
	u.stats.Duration = time.Since(start)
	return u.stats, nil
}

// unpacker writes the entries of a flattened file system. mutate.Extract yields the top layer
// first, so a directory's own entry may come after its contents and a hard link before its
// target: directories are created with a writable mode and finished at the end, and links made
// last.
type unpacker struct {
	root     string
	asRoot   bool
	symlinks map[string]bool // relative paths of the symbolic links written so far
	dirs     []*tar.Header
	links    []*tar.Header
	stats    Stats
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
	if name == "." {
		u.dirs = append(u.dirs, hdr)
		return nil
	}
	if err := u.checkParents(name); err != nil {
		return err
	}
	p := filepath.Join(u.root, name)
	if hdr.Typeflag != tar.TypeDir {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		u.dirs = append(u.dirs, hdr)
		return os.MkdirAll(p, 0o755)
	case tar.TypeReg:
		return u.file(p, hdr, r)
	case tar.TypeSymlink:
		u.symlinks[name] = true
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
		return u.attrs(p, hdr, false)
	case tar.TypeLink:
		u.links = append(u.links, hdr)
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.node(p, hdr)
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
}

// checkParents fails if a directory above name is a symbolic link that this unpack wrote
// (every entry of dir was written here).
func (u *unpacker) checkParents(name string) error {
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if u.symlinks[d] {
			return fmt.Errorf("its parent %s is a symbolic link", d)
		}
	}
	return nil
}

func (u *unpacker) file(p string, hdr *tar.Header, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	u.stats.Bytes += n
	return u.attrs(p, hdr, true)
}

func (u *unpacker) node(p string, hdr *tar.Header) error {
	if !u.asRoot {
		u.stats.Skipped++
		return nil
	}
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	default:
		mode |= unix.S_IFIFO
	}
	if err := unix.Mknod(p, mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
		return err
	}
	return u.attrs(p, hdr, true)
}

// attrs sets the owner (as root), the mode (unless p is a symbolic link) and the times of p.
// The owner goes first: chown clears the setuid and setgid bits.
func (u *unpacker) attrs(p string, hdr *tar.Header, chmod bool) error {
	u.stats.Entries++
	if u.asRoot {
		if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if chmod {
		if err := os.Chmod(p, fileMode(hdr)); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// fileMode is the permission, setuid, setgid and sticky bits of hdr as an os.FileMode.
func fileMode(hdr *tar.Header) os.FileMode {
	m := os.FileMode(hdr.Mode & 0o777)
	if hdr.Mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if hdr.Mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if hdr.Mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// finish makes the hard links, then sets the directories' owners, modes and times, deepest
// first, so that a read-only directory is finished after its contents.
func (u *unpacker) finish() error {
	for _, hdr := range u.links {
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		target := path.Clean(strings.TrimPrefix(hdr.Linkname, "/"))
		if err := u.checkParents(target); err != nil {
			return fmt.Errorf("hard link %s to %s: %w", name, target, err)
		}
		if err := os.Link(filepath.Join(u.root, target), filepath.Join(u.root, name)); err != nil {
			return fmt.Errorf("hard link %s: %w", name, err)
		}
		u.stats.Entries++
	}
	sort.SliceStable(u.dirs, func(i, j int) bool {
		return strings.Count(path.Clean(u.dirs[i].Name), "/") > strings.Count(path.Clean(u.dirs[j].Name), "/")
	})
	for _, hdr := range u.dirs {
		p := filepath.Join(u.root, path.Clean(strings.TrimPrefix(hdr.Name, "/")))
		if err := u.attrs(p, hdr, true); err != nil {
			return fmt.Errorf("directory %s: %w", hdr.Name, err)
		}
	}
	return nil
}

// Remove deletes an unpacked root file system, also as a user who cannot write to some of its
// directories (their modes came from the image).
func Remove(dir string) error {
	if os.Geteuid() != 0 {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}
