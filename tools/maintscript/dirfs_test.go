package maintscript

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
)

// dirFS is a host directory as an FS, read-only below an in-memory overlay (tests only):
// what the scripts write goes to the overlay.
type dirFS struct {
	root    string
	over    *MemFS
	deleted map[string]bool
}

func newDirFS(root string) *dirFS {
	return &dirFS{root: root, over: NewMemFS(), deleted: map[string]bool{}}
}

func (d *dirFS) Get(name string) (Node, bool) {
	if n, ok := d.over.Get(name); ok && name != "" {
		return n, true
	}
	if d.deleted[name] {
		return Node{}, false
	}
	fi, err := os.Lstat(filepath.Join(d.root, name))
	if err != nil {
		return Node{}, false
	}
	n := Node{Mode: int64(fi.Mode().Perm()), Size: fi.Size(), MTime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.UID, n.GID = int(st.Uid), int(st.Gid)
		n.Mode = int64(st.Mode & 0o7777)
	}
	switch {
	case fi.IsDir():
		n.Kind = KindDir
	case fi.Mode()&os.ModeSymlink != 0:
		n.Kind = KindSymlink
		n.Link, _ = os.Readlink(filepath.Join(d.root, name))
	case fi.Mode().IsRegular():
		n.Kind = KindFile
	default:
		n.Kind = KindOther
	}
	return n, true
}

func (d *dirFS) Open(name string) (io.ReaderAt, error) {
	if _, ok := d.over.Get(name); ok {
		return d.over.Open(name)
	}
	return os.Open(filepath.Join(d.root, name))
}

func (d *dirFS) List(name string) []string {
	set := map[string]bool{}
	ents, _ := os.ReadDir(filepath.Join(d.root, name))
	for _, e := range ents {
		if !d.deleted[joinName(name, e.Name())] {
			set[e.Name()] = true
		}
	}
	for _, n := range d.over.List(name) {
		set[n] = true
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (d *dirFS) Put(name string, n Node, body []byte) {
	delete(d.deleted, name)
	d.over.Put(name, n, body)
}

func (d *dirFS) SetMeta(name string, n Node) {
	if _, ok := d.over.Get(name); !ok {
		old, _ := d.Get(name)
		var body []byte
		if old.Kind == KindFile {
			body, _ = os.ReadFile(filepath.Join(d.root, name))
		}
		d.over.Put(name, old, body)
	}
	d.over.SetMeta(name, n)
}

func (d *dirFS) Delete(name string) {
	d.over.Delete(name)
	d.deleted[name] = true
}

var _ FS = (*dirFS)(nil)

// TestOracle remakes, on a Debian root file system made by dpkg and the real maintainer
// scripts (an oracle of tools/fidelity, extracted to $MAINTSCRIPT_ORACLE_ROOT), what
// ldconfig, pam-auth-update and openssl rehash wrote there, and compares byte for byte.
func TestOracle(t *testing.T) {
	root := os.Getenv("MAINTSCRIPT_ORACLE_ROOT")
	if root == "" {
		t.Skip("set MAINTSCRIPT_ORACLE_ROOT to an extracted Debian root file system to run")
	}
	for _, tc := range []struct {
		name, script string
		remove       []string // what the command makes: removed first, then compared
	}{
		{"ldconfig", "ldconfig", []string{"etc/ld.so.cache"}},
		{"pam-auth-update", "pam-auth-update --package --force",
			[]string{"etc/pam.d/common-auth", "etc/pam.d/common-account", "etc/pam.d/common-password", "etc/pam.d/common-session",
				"etc/pam.d/common-session-noninteractive", "var/lib/pam/seen", "var/lib/pam/auth", "var/lib/pam/account",
				"var/lib/pam/password", "var/lib/pam/session", "var/lib/pam/session-noninteractive"}},
		{"openssl rehash", "openssl rehash /etc/ssl/certs", hashLinks(root)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newDirFS(root)
			for _, p := range tc.remove {
				fs.Delete(p)
			}
			libcBin := &Package{Name: "libc-bin", Version: "2.36-9+deb12u14", Architecture: "amd64", Members: map[string][]byte{"postinst": []byte(tc.script)}}
			s := NewSystem(fs, []*Package{libcBin}, Options{})
			s.Install([]*Package{libcBin}, nil)
			if r := s.Report(); len(r.Failures)+len(r.Unknown) > 0 {
				t.Fatalf("%+v", r)
			}
			for _, p := range tc.remove {
				want, err := os.Lstat(filepath.Join(root, p))
				if err != nil {
					t.Fatal(err)
				}
				got, ok := fs.Get(p)
				if !ok {
					t.Errorf("%s not made", p)
					continue
				}
				if want.Mode()&os.ModeSymlink != 0 {
					target, _ := os.Readlink(filepath.Join(root, p))
					if got.Link != target {
						t.Errorf("%s -> %s, want %s", p, got.Link, target)
					}
					continue
				}
				wb, _ := os.ReadFile(filepath.Join(root, p))
				if gb, _ := readAll(fs, p); string(gb) != string(wb) {
					t.Errorf("%s:\n%s\nwant\n%s", p, gb, wb)
				}
			}
		})
	}
}

// hashLinks lists the OpenSSL hash links of etc/ssl/certs, but the one of ssl-cert's
// generated certificate (not a package's).
func hashLinks(root string) []string {
	ents, _ := os.ReadDir(filepath.Join(root, "etc/ssl/certs"))
	var out []string
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join(root, "etc/ssl/certs", e.Name()))
		if len(e.Name()) == 10 && e.Name()[8] == '.' && target != "ssl-cert-snakeoil.pem" {
			out = append(out, "etc/ssl/certs/"+e.Name())
		}
	}
	return out
}
