package atomicfile

import (
	"io"
	"os"
	"testing"
)

// A TempFile is usable and never appears in its directory.
func TestTempFile(t *testing.T) {
	dir := t.TempDir()
	f, err := TempFile(dir, "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("%s holds %v", dir, es)
	}
	if _, err := f.WriteString("spooled"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 100))
	if err != nil || string(b) != "spooled" {
		t.Errorf("read back %q, %v", b, err)
	}
	if _, err := TempFile(dir+"/missing", "x-*"); err == nil {
		t.Error("a missing directory was accepted")
	}
}
