package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree returns "name=content" for every file under dir (directories as "name/"), sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if e.IsDir() {
			out = append(out, rel+"/")
			return nil
		}
		b, err := os.ReadFile(p)
		out = append(out, rel+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dst string)
		// commit false: Abort instead of Commit.
		commit  bool
		wantErr string
		// want is the tree of the parent directory afterwards (the destination is "out").
		want []string
	}{
		{name: "new", commit: true, want: []string{"out/", "out/blobs/", "out/blobs/b=new", "out/index.json=new"}},
		{name: "over an empty directory", commit: true,
			prepare: func(t *testing.T, dst string) { os.Mkdir(dst, 0o755) },
			want:    []string{"out/", "out/blobs/", "out/blobs/b=new", "out/index.json=new"}},
		{name: "over an old directory: nothing of it stays", commit: true,
			prepare: func(t *testing.T, dst string) {
				write(t, filepath.Join(dst, "index.json"), "old")
				write(t, filepath.Join(dst, "blobs", "stale"), "old")
			},
			want: []string{"out/", "out/blobs/", "out/blobs/b=new", "out/index.json=new"}},
		{name: "over a file", commit: true,
			prepare: func(t *testing.T, dst string) { write(t, dst, "old") },
			want:    []string{"out/", "out/blobs/", "out/blobs/b=new", "out/index.json=new"}},
		{name: "aborted: the old directory is untouched",
			prepare: func(t *testing.T, dst string) { write(t, filepath.Join(dst, "index.json"), "old") },
			want:    []string{"out/", "out/index.json=old"}},
		{name: "aborted with nothing before", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dst := filepath.Join(parent, "out")
			if tc.prepare != nil {
				tc.prepare(t, dst)
			}
			d, err := CreateDir(dst, 0o751)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(d.Name()) != parent || !strings.HasPrefix(filepath.Base(d.Name()), ".out.tmp-") {
				t.Errorf("temporary directory %s, want .out.tmp-* in %s", d.Name(), parent)
			}
			write(t, filepath.Join(d.Name(), "index.json"), "new")
			write(t, filepath.Join(d.Name(), "blobs", "b"), "new")
			if tc.commit {
				err = d.Commit()
			} else {
				err = d.Abort()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tree(t, parent); !slices.Equal(got, tc.want) {
				t.Errorf("afterwards %q, want %q", got, tc.want)
			}
			if st, err := os.Stat(dst); tc.commit && (err != nil || st.Mode().Perm() != 0o751) {
				t.Errorf("committed directory: %v, %v; want mode 0751", st.Mode(), err)
			}
			if err := d.Commit(); err == nil || !strings.Contains(err.Error(), "already committed or aborted") {
				t.Errorf("second Commit: %v", err)
			}
		})
	}
}

// A temporary whose writer is gone is removed by the next Create or CreateDir of the same
// destination; one that a writer holds, and the temporaries of other destinations, are not.
func TestSweep(t *testing.T) {
	parent := t.TempDir()
	write(t, filepath.Join(parent, ".out.tmp-111"), "killed writer")
	write(t, filepath.Join(parent, ".out.tmp-222", "blobs", "x"), "killed writer")
	write(t, filepath.Join(parent, ".other.tmp-333"), "another destination")
	write(t, filepath.Join(parent, "out.tmp-444"), "not a temporary")
	held, err := Create(filepath.Join(parent, "out"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Abort()
	heldDir, err := CreateDir(filepath.Join(parent, "out"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer heldDir.Abort()
	want := []string{".other.tmp-333", "out.tmp-444", filepath.Base(held.Name()), filepath.Base(heldDir.Name())}
	slices.Sort(want)
	if got := entries(t, parent); !slices.Equal(got, want) {
		t.Errorf("after Create and CreateDir: %q, want %q", got, want)
	}
	// The held ones survive another writer's sweep.
	f, err := Create(filepath.Join(parent, "out"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	want = append(want, "out")
	slices.Sort(want)
	if got := entries(t, parent); !slices.Equal(got, want) {
		t.Errorf("after a second writer: %q, want %q", got, want)
	}
	// Sweep alone does the same.
	write(t, filepath.Join(parent, ".out.tmp-555"), "killed writer")
	Sweep(filepath.Join(parent, "out"))
	if got := entries(t, parent); !slices.Equal(got, want) {
		t.Errorf("after Sweep: %q, want %q", got, want)
	}
}

// Without RENAME_EXCHANGE the old directory is moved aside, the new one renamed into place,
// and the old content left at the temporary name (Commit removes it).
func TestSwapAside(t *testing.T) {
	parent := t.TempDir()
	write(t, filepath.Join(parent, "out", "index.json"), "old")
	write(t, filepath.Join(parent, ".out.tmp-1", "index.json"), "new")
	if err := swapAside(filepath.Join(parent, ".out.tmp-1"), filepath.Join(parent, "out")); err != nil {
		t.Fatal(err)
	}
	want := []string{".out.tmp-1/", ".out.tmp-1/old/", ".out.tmp-1/old/index.json=old", "out/", "out/index.json=new"}
	if got := tree(t, parent); !slices.Equal(got, want) {
		t.Errorf("afterwards %q, want %q", got, want)
	}
}
