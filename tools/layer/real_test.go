package layer

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRealDebs layers the .deb files in $LAYER_REAL_DEBS (a directory),
// reporting the speed. It is skipped when the variable is unset. When the
// set holds postgresql-common and libpq-dev (e.g. the closure of
// postgresql-15 postgresql-server-dev-15 libpq-dev build-essential from
// bookworm, with apt-get download), the pg_config diversion is checked.
func TestRealDebs(t *testing.T) {
	dir := os.Getenv("LAYER_REAL_DEBS")
	if dir == "" {
		t.Skip("set LAYER_REAL_DEBS to a directory of .deb files to run")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .deb files in %s: %v", dir, err)
	}
	outPath := os.Getenv("LAYER_REAL_OUT")
	if outPath == "" {
		outPath = filepath.Join(t.TempDir(), "layer.tar")
	}
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	start := time.Now()
	sum, err := Write(out, files, Options{
		Config: Config{MergedUsr: true, Compression: os.Getenv("LAYER_REAL_COMPRESSION"),
			Effects: Effects{Alternatives: true, CACertificates: true,
				Users: []User{{Name: "postgres", UID: 999, Home: "/var/lib/postgresql", Shell: "/bin/bash", Gecos: "PostgreSQL administrator,,,"}}}},
		SourceDateEpoch: 1700000000,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("%d packages, %d entries, %d MB in %v (%.0f MB/s)", len(sum.Packages), sum.Entries, sum.Bytes>>20, d, float64(sum.Bytes)/1e6/d.Seconds())
	for _, w := range sum.Warnings {
		t.Log("warning:", w)
	}
	if os.Getenv("LAYER_REAL_COMPRESSION") != "" {
		return
	}
	// Diversions: postgresql-common's preinst diverts libpq-dev's pg_config.
	var names []string
	for _, p := range sum.Packages {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "postgresql-common") || !slices.Contains(names, "libpq-dev") {
		return
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(out)
	seen := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Name {
		case "var/lib/dpkg/diversions", "usr/bin/pg_config", "usr/bin/pg_config.libpq-dev", "var/lib/dpkg/info/libpq-dev.list":
			b, _ := io.ReadAll(tr)
			seen[h.Name] = string(b)
		}
	}
	if got := seen["var/lib/dpkg/diversions"]; !strings.Contains(got, "/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n") {
		t.Errorf("diversions:\n%s", got)
	}
	if !strings.HasPrefix(seen["usr/bin/pg_config"], "#!/bin/sh") || !strings.HasPrefix(seen["usr/bin/pg_config.libpq-dev"], "#!/usr/bin/perl") {
		t.Errorf("pg_config is not postgresql-common's wrapper, or pg_config.libpq-dev is not libpq-dev's script")
	}
	if !strings.Contains(seen["var/lib/dpkg/info/libpq-dev.list"], "\n/usr/bin/pg_config\n") {
		t.Error("libpq-dev.list does not record /usr/bin/pg_config")
	}
}
