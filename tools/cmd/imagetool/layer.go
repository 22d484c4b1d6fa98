package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ci-images/ci-images/tools/layer"
)

func runLayer(_ context.Context, e *env, args []string) error {
	fs, a := newActionFlags("layer", e, "output layer file (required)",
		"layer configuration: JSON of layer.Config, as the deb_layer rule writes it (required)", "mtimes are clamped to it")
	var installed stringList
	fs.Var(&installed, "installed", "a .deb already installed in the lower layers (repeatable): recorded in the dpkg database, files not written")
	diffIDOut := fs.String("diffid", "", "file to write the layer's diff_id (sha256 of the uncompressed tar) to")
	tmp := fs.String("tmpdir", "", "directory for spool files (default: next to -out)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if a.out == "" || a.config == "" || fs.NArg() == 0 {
		return fmt.Errorf("%w: want -out FILE, -config FILE and at least one .deb", errUsage)
	}
	opts := layer.Options{SourceDateEpoch: a.epoch, Installed: installed, TempDir: *tmp}
	if opts.TempDir == "" {
		opts.TempDir = filepath.Dir(a.out)
	}
	if err := readJSON(a.config, &opts.Config); err != nil {
		return fmt.Errorf("layer config: %w", err)
	}
	start := time.Now()
	sum, err := writeLayer(a.out, fs.Args(), opts)
	if err == nil && *diffIDOut != "" {
		err = os.WriteFile(*diffIDOut, []byte(sum.DiffID+"\n"), 0o644)
	}
	if err != nil {
		return err
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(e.stderr, "imagetool layer: warning: %s\n", w)
	}
	st, err := os.Stat(a.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imagetool layer: %s: %d packages (%d installed below), %d entries, %.1f MB of files, %.1f MB %s, %.1fs\n",
		filepath.Base(a.out), len(sum.Packages), len(installed), sum.Entries, float64(sum.Bytes)/1e6, float64(st.Size())/1e6, opts.Compression, time.Since(start).Seconds())
	return nil
}

// writeLayer writes the layer file at path, removing it on failure.
func writeLayer(path string, debs []string, opts layer.Options) (layer.Summary, error) {
	f, err := os.Create(path)
	if err != nil {
		return layer.Summary{}, err
	}
	sum, err := layer.Write(f, debs, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return sum, err
}
