package main

import (
	"context"
	"fmt"

	"github.com/ci-images/ci-images/tools/pgversions"
)

func runPGVersions(_ context.Context, e *env, args []string) error {
	fs := newFlags("pgversions", e)
	file := fs.String("file", "pg_versions.bzl", "path to pg_versions.bzl")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	pins, err := pgversions.Load(*file)
	if err != nil {
		return err
	}
	for _, p := range pins {
		fmt.Fprintf(e.stdout, "%s\t%s\n", p.Major, p.Version)
	}
	return nil
}
