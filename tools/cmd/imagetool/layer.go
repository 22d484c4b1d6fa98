package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/ci-images/ci-images/tools/atomicfile"
	"github.com/ci-images/ci-images/tools/layer"
)

func runLayer(ctx context.Context, e *env, args []string) error {
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
	if err := opts.Check(); err != nil {
		return fmt.Errorf("layer config %s: %w", a.config, err)
	}
	sweep(a.out, *diffIDOut)
	start := time.Now()
	sum, size, err := writeLayer(ctx, a.out, *diffIDOut, fs.Args(), opts)
	if err != nil {
		return stopped(ctx, err, a.out)
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(e.stderr, "imagetool layer: warning: %s\n", w)
	}
	fmt.Fprintf(e.stderr, "imagetool layer: %s: %d packages (%d installed below), %d entries, %.1f MB of files, %.1f MB %s, %.1fs\n",
		filepath.Base(a.out), len(sum.Packages), len(installed), sum.Entries, float64(sum.Bytes)/1e6, float64(size)/1e6, opts.Compression, time.Since(start).Seconds())
	return nil
}

// writeLayer writes the layer file at path and its diff_id at diffIDPath (if not empty)
// through temporary files, renamed into place together (atomicfile.Commit): a failure or a
// cancellation leaves the previous files as they were. It returns the size of the layer file.
func writeLayer(ctx context.Context, path, diffIDPath string, debs []string, opts layer.Options) (layer.Summary, int64, error) {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return layer.Summary{}, 0, err
	}
	defer f.Abort()
	sum, err := layer.WriteContext(ctx, f, debs, opts)
	if err != nil {
		return sum, 0, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return sum, 0, err
	}
	pending := []atomicfile.Pending{f}
	if diffIDPath != "" {
		d, err := atomicfile.Create(diffIDPath, 0o644)
		if err != nil {
			return sum, 0, err
		}
		defer d.Abort()
		if _, err := d.WriteString(sum.DiffID + "\n"); err != nil {
			return sum, 0, fmt.Errorf("writing %s: %w", diffIDPath, err)
		}
		pending = append(pending, d)
	}
	if err := context.Cause(ctx); err != nil { // a signal came
		return sum, 0, err
	}
	return sum, size, atomicfile.Commit(pending...)
}
