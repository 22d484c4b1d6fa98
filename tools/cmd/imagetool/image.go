package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/image"
)

func runImage(ctx context.Context, e *env, args []string) error {
	fs, a := newActionFlags("image", e, "output OCI image layout directory (required): replaced whole, or left as it was on failure",
		"image configuration: JSON of image.Config, as the oci_image rule writes it", "every timestamp")
	base := fs.String("base", "", "base image: an OCI image layout directory")
	var layers stringList
	fs.Var(&layers, "layer", "layer file (repeatable, in order): a tar, plain or gzip/zstd; PATH=DIFFID_FILE names the file holding its diff_id (checked against the content)")
	digestOut := fs.String("digest", "", "file to write the manifest digest to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if a.out == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: want -out DIR, and layers as -layer FILE", errUsage)
	}
	o := image.Options{Base: *base, SourceDateEpoch: a.epoch, DigestFile: *digestOut}
	if a.config != "" {
		if err := readJSON(a.config, &o.Config); err != nil {
			return fmt.Errorf("image config: %w", err)
		}
	}
	for _, l := range layers {
		lay, err := imageLayer(l)
		if err != nil {
			return err
		}
		o.Layers = append(o.Layers, lay)
	}
	sweep(a.out, *digestOut)
	start := time.Now()
	d, err := image.Write(ctx, a.out, o)
	if err != nil {
		return stopped(ctx, err, a.out)
	}
	fmt.Fprintf(e.stderr, "imagetool image: %s %s (%d layers added, %.1fs)\n", a.out, d, len(layers), time.Since(start).Seconds())
	return nil
}

// imageLayer reads a -layer value: PATH, or PATH=DIFFID_FILE.
func imageLayer(v string) (image.Layer, error) {
	path, diffIDFile, ok := strings.Cut(v, "=")
	lay := image.Layer{Path: path}
	if ok {
		b, err := os.ReadFile(diffIDFile)
		if err != nil {
			return lay, fmt.Errorf("layer %s: %w", path, err)
		}
		lay.DiffID = strings.TrimSpace(string(b))
	}
	return lay, nil
}

func runLoad(ctx context.Context, e *env, args []string) error {
	fs := newFlags("load", e)
	layoutDir := fs.String("layout", "", "OCI image layout directory (required)")
	var tags stringList
	fs.Var(&tags, "tag", "tag to load the image as (repeatable, at least one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *layoutDir == "" || len(tags) == 0 || fs.NArg() != 0 {
		return fmt.Errorf("%w: want -layout DIR and at least one -tag", errUsage)
	}
	d, err := image.Digest(*layoutDir)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := image.Load(ctx, *layoutDir, tags); err != nil {
		return err
	}
	for _, t := range tags {
		fmt.Fprintf(e.stdout, "loaded %s (%s) in %.1fs\n", t, d, time.Since(start).Seconds())
	}
	return nil
}
