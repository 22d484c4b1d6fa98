package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Commit puts files and directories in place together; a failure before the renames
// installs none, one during them leaves the earlier ones new; no temporary is ever left.
func TestCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		// sabotage makes one of the pendings fail; wantErr is then part of the error.
		sabotage func(t *testing.T, parent string, d *Dir)
		wantErr  string
		want     []string
	}{
		{name: "all", want: []string{"a=new", "b/", "b/index.json=new", "c=new"}},
		{name: "one was aborted: none installed",
			sabotage: func(t *testing.T, parent string, d *Dir) { d.Abort() },
			wantErr:  "already committed or aborted", want: []string{"a=old", "b/", "b/index.json=old", "c=old"}},
		{name: "a rename fails: the earlier ones are new",
			sabotage: func(t *testing.T, parent string, d *Dir) {
				os.Remove(filepath.Join(parent, "c"))
				write(t, filepath.Join(parent, "c", "keep"), "old")
			},
			wantErr: "writing ", want: []string{"a=new", "b/", "b/index.json=new", "c/", "c/keep=old"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			write(t, filepath.Join(parent, "a"), "old")
			write(t, filepath.Join(parent, "b", "index.json"), "old")
			write(t, filepath.Join(parent, "c"), "old")
			a, err := Create(filepath.Join(parent, "a"), 0o644)
			if err != nil {
				t.Fatal(err)
			}
			b, err := CreateDir(filepath.Join(parent, "b"), 0o755)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Create(filepath.Join(parent, "c"), 0o644)
			if err != nil {
				t.Fatal(err)
			}
			a.WriteString("new")
			write(t, filepath.Join(b.Name(), "index.json"), "new")
			c.WriteString("new")
			if tc.sabotage != nil {
				tc.sabotage(t, parent, b)
			}
			err = Commit(a, b, c)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if got := tree(t, parent); !slices.Equal(got, tc.want) {
				t.Errorf("afterwards %q, want %q", got, tc.want)
			}
		})
	}
}
