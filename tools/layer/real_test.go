package layer

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRealDebs layers the .deb files in $LAYER_REAL_DEBS (a directory),
// reporting the speed. It is skipped when the variable is unset.
func TestRealDebs(t *testing.T) {
	dir := os.Getenv("LAYER_REAL_DEBS")
	if dir == "" {
		t.Skip("set LAYER_REAL_DEBS to a directory of .deb files to run")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .deb files in %s: %v", dir, err)
	}
	var in []Input
	for _, f := range files {
		in = append(in, Input{Path: f})
	}
	out := io.Discard
	if p := os.Getenv("LAYER_REAL_OUT"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out = f
	}
	start := time.Now()
	sum, err := Write(out, in, Options{
		Epoch: time.Unix(1700000000, 0), MergedUsr: true, Compression: os.Getenv("LAYER_REAL_COMPRESSION"), XZCommand: os.Getenv("LAYER_REAL_XZ"),
		Effects: Effects{Alternatives: true, CACertificates: true,
			Users: []User{{Name: "postgres", UID: 999, Home: "/var/lib/postgresql", Shell: "/bin/bash", Gecos: "PostgreSQL administrator,,,"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("%d packages, %d entries, %d MB in %v (%.0f MB/s)", len(sum.Packages), sum.Entries, sum.Bytes>>20, d, float64(sum.Bytes)/1e6/d.Seconds())
	for _, w := range sum.Warnings {
		t.Log("warning:", w)
	}
}
