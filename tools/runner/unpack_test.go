package runner

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestUnpack(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rootfs")
	st, err := Unpack(testImage(t), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(root) })
	if st.Entries != 15 || st.Skipped != 0 {
		t.Errorf("stats %+v, want 15 entries, none skipped", st)
	}
	for _, gone := range []string{"removed", "opq/old"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s: whited out in the upper layer, but Lstat says %v", gone, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "opq/new")); err != nil || string(b) != "new" {
		t.Errorf("opq/new: %q, %v", b, err)
	}
	owned, link := statT(t, root, "data/owned"), statT(t, root, "data/link")
	if owned.Ino != link.Ino || owned.Nlink != 2 {
		t.Errorf("data/link: inode %d (links %d), want a hard link to data/owned (inode %d)", link.Ino, owned.Nlink, owned.Ino)
	}
	for name, want := range map[string]uint32{"data/owned": 0o640, "data/setuid": 0o4755, "ro": 0o555, "ro/file": 0o444, "tmp": 0o1777} {
		if got := statT(t, root, name).Mode & 0o7777; got != want {
			t.Errorf("%s: mode %04o, want %04o", name, got, want)
		}
	}
	wantUID := uint32(1234)
	if os.Geteuid() != 0 {
		wantUID = uint32(os.Geteuid())
	}
	if got := statT(t, root, "data/owned"); got.Uid != wantUID {
		t.Errorf("data/owned: uid %d, want %d", got.Uid, wantUID)
	}
	if target, err := os.Readlink(filepath.Join(root, "lib")); err != nil || target != "bin" {
		t.Errorf("lib: symbolic link to %q, %v; want bin", target, err)
	}
	if mt := statT(t, root, "etc/passwd").Mtim.Sec; mt != 1700000000 {
		t.Errorf("etc/passwd: mtime %d, want the layer's 1700000000", mt)
	}
}

// TestUnpackStaysInside: a hard link whose target path goes through a symbolic link of the
// image (here to a host directory) is refused instead of linking the host's file.
func TestUnpackStaysInside(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	if err := os.WriteFile(secret, []byte("host"), 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, tarLayer(t,
		entry{name: "evil", typ: tar.TypeSymlink, link: host},
		entry{name: "stolen", typ: tar.TypeLink, link: "evil/secret"},
	))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	_, err = Unpack(img, root)
	if err == nil || !strings.Contains(err.Error(), "parent evil is a symbolic link") {
		t.Fatalf("Unpack: %v, want the symbolic link refused", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "stolen")); !os.IsNotExist(err) {
		t.Errorf("stolen exists (%v)", err)
	}
	if n := statT(t, host, "secret").Nlink; n != 1 {
		t.Errorf("the host's file has %d links", n)
	}
}

func TestRemoveReadOnlyTree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rootfs")
	if _, err := Unpack(testImage(t), root); err != nil {
		t.Fatal(err)
	}
	if err := Remove(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(root); !os.IsNotExist(err) {
		t.Fatalf("%s is still there (%v)", root, err)
	}
}

func statT(t *testing.T, root, name string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{lines: 3}
	for _, s := range []string{"one\ntwo\n", "three\nfo", "ur\nfive\n"} {
		tb.Write([]byte(s))
	}
	if got := tb.String(); got != "three\nfour\nfive\n" {
		t.Errorf("tail: %q", got)
	}
	short := &tailBuffer{lines: 5}
	short.Write([]byte("only line"))
	if got := short.String(); got != "only line\n" {
		t.Errorf("tail of one unfinished line: %q", got)
	}
}
