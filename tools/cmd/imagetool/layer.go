package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ci-images/ci-images/tools/layer"
)

// layerConfig is the JSON file that the deb_layer rule writes: the maintainer-script effects
// and layout choices of one layer.
type layerConfig struct {
	MergedUsr      bool          `json:"merged_usr"`
	NoDpkgDatabase bool          `json:"no_dpkg_database"`
	Alternatives   bool          `json:"alternatives"`
	CACertificates bool          `json:"ca_certificates"`
	Users          []layer.User  `json:"users"`
	Groups         []layer.Group `json:"groups"`
	Dirs           []dirConfig   `json:"dirs"`
}

type dirConfig struct {
	Path  string `json:"path"`
	Mode  string `json:"mode"` // octal, e.g. "2777"
	Owner string `json:"owner"`
	Group string `json:"group"`
}

func runLayer(_ context.Context, e *env, args []string) error {
	fs := newFlags("layer", e)
	out := fs.String("out", "", "output layer file (required)")
	cfgPath := fs.String("config", "", "layer configuration JSON (effects, merged /usr)")
	compression := fs.String("compression", "gzip", "gzip, zstd or none")
	epoch := fs.String("epoch", "0", "SOURCE_DATE_EPOCH: mtimes are clamped to it")
	tmp := fs.String("tmpdir", "", "directory for spool files (default: next to -out)")
	diffIDOut := fs.String("diffid", "", "file to write the layer's diff_id (sha256 of the uncompressed tar) to")
	var installed stringList
	fs.Var(&installed, "installed", "a .deb already installed in the lower layers (repeatable): recorded in the dpkg database, files not written")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("%w: want -out FILE and at least one .deb", errUsage)
	}
	opts := layer.Options{Compression: *compression, MergedUsr: true}
	var err error
	if opts.Epoch, err = parseEpoch(*epoch); err != nil {
		return err
	}
	if *cfgPath != "" {
		var c layerConfig
		if err := readJSON(*cfgPath, &c); err != nil {
			return fmt.Errorf("layer config: %w", err)
		}
		opts.MergedUsr = c.MergedUsr
		opts.NoDpkgDatabase = c.NoDpkgDatabase
		opts.Effects = layer.Effects{Users: c.Users, Groups: c.Groups, Alternatives: c.Alternatives, CACertificates: c.CACertificates}
		for _, d := range c.Dirs {
			mode, err := strconv.ParseInt(d.Mode, 8, 64)
			if err != nil {
				return fmt.Errorf("layer config %s: dir %s: mode %q is not octal", *cfgPath, d.Path, d.Mode)
			}
			opts.Effects.Dirs = append(opts.Effects.Dirs, layer.Dir{Path: d.Path, Mode: mode, Owner: d.Owner, Group: d.Group})
		}
	}
	opts.TempDir = *tmp
	if opts.TempDir == "" {
		opts.TempDir = filepath.Dir(*out)
	}
	for _, p := range installed {
		opts.Installed = append(opts.Installed, layer.Input{Path: p})
	}
	inputs := make([]layer.Input, 0, fs.NArg())
	for _, p := range fs.Args() {
		inputs = append(inputs, layer.Input{Path: p})
	}
	start := time.Now()
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	// Compress here rather than in layer.Write, hashing the uncompressed stream on the way:
	// the diff_id then costs nothing, and image assembly need not decompress the layer.
	diffID := sha256.New()
	zw, err := layer.Compress(f, opts.Compression)
	if err != nil {
		f.Close()
		return err
	}
	opts.Compression = "none"
	sum, err := layer.Write(io.MultiWriter(zw, diffID), inputs, opts)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && *diffIDOut != "" {
		err = os.WriteFile(*diffIDOut, []byte("sha256:"+hex.EncodeToString(diffID.Sum(nil))+"\n"), 0o644)
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(e.stderr, "imagetool layer: warning: %s\n", w)
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imagetool layer: %s: %d packages (%d installed below), %d entries, %.1f MB of files, %.1f MB %s, %.1fs\n",
		filepath.Base(*out), len(inputs), len(installed), sum.Entries, float64(sum.Bytes)/1e6, float64(st.Size())/1e6, *compression, time.Since(start).Seconds())
	return nil
}
