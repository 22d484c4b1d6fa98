package atomicfile

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// entries lists dir's names, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestReplace(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare creates what is at the destination before; run replaces it.
		prepare func(t *testing.T, dst string)
		run     func(dst string) error
		// wantErr: "" means success; want is the destination's content afterwards ("" for a
		// directory that must still be there).
		wantErr, want string
		wantMode      os.FileMode
	}{
		{
			name: "new file",
			run:  func(dst string) error { return WriteFile(dst, []byte("new\n"), 0o644) },
			want: "new\n", wantMode: 0o644,
		},
		{
			name:    "replace",
			prepare: func(t *testing.T, dst string) { write(t, dst, "old\n") },
			run:     func(dst string) error { return WriteFile(dst, []byte("new\n"), 0o600) },
			want:    "new\n", wantMode: 0o600,
		},
		{
			name:    "aborted after a partial write",
			prepare: func(t *testing.T, dst string) { write(t, dst, "old\n") },
			run: func(dst string) error {
				f, err := Create(dst, 0o644)
				if err != nil {
					return err
				}
				f.WriteString("half of the ne")
				return f.Abort()
			},
			want: "old\n", wantMode: 0o644,
		},
		{
			name:    "closed without commit",
			prepare: func(t *testing.T, dst string) { write(t, dst, "old\n") },
			run: func(dst string) error {
				f, err := Create(dst, 0o644)
				if err != nil {
					return err
				}
				f.WriteString("new\n")
				return f.Close()
			},
			want: "old\n", wantMode: 0o644,
		},
		{
			name: "rename fails: the destination is a non-empty directory",
			prepare: func(t *testing.T, dst string) {
				write(t, filepath.Join(dst, "keep"), "x")
			},
			run:     func(dst string) error { return WriteFile(dst, []byte("new\n"), 0o644) },
			wantErr: "writing ",
		},
		{
			name:    "commit twice",
			prepare: func(t *testing.T, dst string) { write(t, dst, "old\n") },
			run: func(dst string) error {
				f, err := Create(dst, 0o644)
				if err != nil {
					return err
				}
				f.WriteString("new\n")
				if err := f.Commit(); err != nil {
					return err
				}
				return f.Commit()
			},
			wantErr: "already committed", want: "new\n", wantMode: 0o644,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "out.json")
			if tc.prepare != nil {
				tc.prepare(t, dst)
			}
			err := tc.run(dst)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if got := entries(t, dir); len(got) != 1 || got[0] != "out.json" {
				t.Errorf("directory holds %q, want only out.json", got)
			}
			st, err := os.Stat(dst)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !st.IsDir() {
					t.Errorf("the directory at the destination was replaced")
				}
				return
			}
			if b, _ := os.ReadFile(dst); string(b) != tc.want {
				t.Errorf("content %q, want %q", b, tc.want)
			}
			if st.Mode().Perm() != tc.wantMode {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.wantMode)
			}
		})
	}
}

func TestTemporaryName(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "apt.lock.json"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if filepath.Dir(f.Name()) != dir || !strings.HasPrefix(filepath.Base(f.Name()), ".apt.lock.json.tmp-") {
		t.Errorf("temporary file %s, want .apt.lock.json.tmp-* in %s", f.Name(), dir)
	}
	if f.Path() != filepath.Join(dir, "apt.lock.json") {
		t.Errorf("Path %s", f.Path())
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
