// Package pgversions reads the pinned Postgres versions from pg_versions.bzl.
//
// The file is evaluated with go.starlark.net, the same language Bazel reads, so the Bazel macros
// and the Go tools share one source of truth instead of two parsers that can drift apart.
package pgversions

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Pin is one pinned Postgres version.
type Pin struct {
	// Major is the major version, e.g. "16".
	Major string
	// Version is the exact upstream version, e.g. "16.13" or "18~beta3".
	Version string
}

// TagVersion is the version as written in image tags: '~' is not allowed in a tag, so
// "18~beta3" becomes "18beta3" (as the Citus Makefile does).
func (p Pin) TagVersion() string { return strings.ReplaceAll(p.Version, "~", "") }

var versionRE = regexp.MustCompile(`^([0-9]+)(\.[0-9]+)?(~[a-z]+[0-9]*)?$`)

// Load evaluates the Starlark file at path and returns its PG_VERSIONS, sorted by major version.
func Load(path string) ([]Pin, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pg versions: %w", err)
	}
	return Parse(path, src)
}

// Parse evaluates src (named filename in errors) and returns its PG_VERSIONS.
func Parse(filename string, src []byte) ([]Pin, error) {
	thread := &starlark.Thread{Name: "pg_versions"}
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, filename, src, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	v, ok := globals["PG_VERSIONS"]
	if !ok {
		return nil, fmt.Errorf("%s: PG_VERSIONS is not defined", filename)
	}
	dict, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: PG_VERSIONS is a %s, want a dict", filename, v.Type())
	}
	var pins []Pin
	for _, item := range dict.Items() {
		major, ok1 := starlark.AsString(item[0])
		version, ok2 := starlark.AsString(item[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: PG_VERSIONS entry %s: %s: keys and values must be strings", filename, item[0], item[1])
		}
		m := versionRE.FindStringSubmatch(version)
		if m == nil {
			return nil, fmt.Errorf("%s: PG_VERSIONS[%q] = %q: not a Postgres version such as \"16.13\" or \"18~beta3\"", filename, major, version)
		}
		if m[1] != major {
			return nil, fmt.Errorf("%s: PG_VERSIONS[%q] = %q: version does not belong to major %s", filename, major, version, major)
		}
		pins = append(pins, Pin{Major: major, Version: version})
	}
	if len(pins) == 0 {
		return nil, fmt.Errorf("%s: PG_VERSIONS is empty", filename)
	}
	sort.Slice(pins, func(i, j int) bool {
		a, _ := strconv.Atoi(pins[i].Major)
		b, _ := strconv.Atoi(pins[j].Major)
		return a < b
	})
	return pins, nil
}
