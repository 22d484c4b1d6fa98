// Package lockfile defines images/apt.lock.json: its schema, a deterministic encoding, the
// hashes of the inputs it was made from, and the staleness check behind `imagetool lock
// --check`.
//
// # Format
//
//	{
//	  "version": 1,
//	  "inputs_sha256": "<sha256 of the canonical JSON of inputs>",
//	  "set_inputs_sha256": {"<set>": "<sha256 of what that set depends on>"},
//	  "inputs": {
//	    "arch": "amd64", "recommends": false,
//	    "pg_versions": {"16": "16.13"}, "pg_versions_sha256": "<sha256 of pg_versions.bzl>",
//	    "sources": [{"name", "url", "suite", "components", "architectures", "keyring",
//	                 "keyring_sha256", "priority", "mirrors"}],
//	    "sets": {"<set>": {"file", "requests", "sources", "exclude", "base_priorities"}}
//	  },
//	  "packages": {"<name>_<version>_<arch>": {"name", "version", "arch", "repo",
//	               "urls": [canonical URL, then mirrors], "sha256", "size", "depends": [keys]}},
//	  "sets": {"<set>": [keys, sorted]},
//	  "notes": {"<set>": ["optional request postgresql-16-dbgsym=16.13? dropped: unknown package"]}
//	}
//
// Encoding is encoding/json with sorted map keys, two-space indentation, no HTML escaping and
// a trailing newline; Write first normalizes everything whose order carries no meaning
// (sources by name, set sources and excludes, depends lists), so the same lock gives the same
// bytes. Request order is kept: it is meaningful for resolution, as on apt's command line.
//
// # Partial lockfiles
//
// "inputs" always describes every set that the input files define, and "inputs_sha256"
// covers all of it. "sets" holds only the sets that were locked (a set whose sources are
// unreachable, such as pgdg on a machine without a route to apt.postgresql.org, stays
// missing). Each locked set records "set_inputs_sha256": the hash of its own requests and of
// the sources (including keyring hashes) it may use, plus the architecture and recommends
// flag. A re-lock of some sets keeps every other locked set whose set hash is unchanged and
// drops the ones whose inputs changed (they become missing). Check reports a lockfile as
// stale when inputs_sha256 differs or a set was removed or changed; missing sets alone are
// not stale (they are listed, and their Bazel targets are incompatible).
//
// A package entry's "depends" is the union, over the sets containing it, of the selected
// packages that satisfied its dependencies; with alternatives this may name a package that
// one particular set does not contain, so consumers intersect it with the set.
package lockfile

import (
	"strings"

	"github.com/ci-images/ci-images/tools/aptrepo"
)

// Version is the lockfile format version.
const Version = 1

// Lockfile is the whole file.
type Lockfile struct {
	Version         int                 `json:"version"`
	InputsSHA256    string              `json:"inputs_sha256"`
	SetInputsSHA256 map[string]string   `json:"set_inputs_sha256"`
	Inputs          Inputs              `json:"inputs"`
	Packages        map[string]Package  `json:"packages"`
	Sets            map[string][]string `json:"sets"`
	Notes           map[string][]string `json:"notes,omitempty"`
}

// Inputs is everything a lock is computed from.
type Inputs struct {
	Arch       string `json:"arch"`
	Recommends bool   `json:"recommends"`
	// PGVersions is PG_VERSIONS of pg_versions.bzl; PGVersionsSHA256 the file's hash.
	PGVersions       map[string]string    `json:"pg_versions"`
	PGVersionsSHA256 string               `json:"pg_versions_sha256"`
	Sources          []aptrepo.Source     `json:"sources"`
	Sets             map[string]SetInputs `json:"sets"`
}

// SetInputs are one package set's inputs after template expansion.
type SetInputs struct {
	// File is the packages.json the set comes from (workspace-relative).
	File string `json:"file"`
	// Requests are "name", "name=version", with a trailing "?" when optional.
	Requests []string `json:"requests"`
	// Sources are the names of the sources the set may use.
	Sources []string `json:"sources"`
	// Exclude lists packages assumed present (never selected).
	Exclude []string `json:"exclude,omitempty"`
	// BasePriorities adds every package of these Debian priorities (e.g. "required",
	// like debootstrap's minbase) before the requests.
	BasePriorities []string `json:"base_priorities,omitempty"`
}

// Package is one locked .deb.
type Package struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Arch    string   `json:"arch"`
	Repo    string   `json:"repo"`
	URLs    []string `json:"urls"`
	SHA256  string   `json:"sha256"`
	Size    int64    `json:"size"`
	Depends []string `json:"depends"`
}

// Key is "name_version_arch" (aptrepo.Key), the key of Packages.
func (p Package) Key() string { return aptrepo.Key(p.Name, p.Version, p.Arch) }

// NewPackage is the entry of the package p from the source src: its URLs
// are the canonical one (src.URL) and then one per mirror of src.
func NewPackage(p *aptrepo.Package, src aptrepo.Source, depends []string) Package {
	urls := []string{strings.TrimSuffix(src.URL, "/") + "/" + p.Filename}
	for _, m := range src.Mirrors {
		urls = append(urls, strings.TrimSuffix(m, "/")+"/"+p.Filename)
	}
	if depends == nil {
		depends = []string{}
	}
	return Package{
		Name: p.Name, Version: p.Version, Arch: p.Architecture, Repo: p.Repo,
		URLs: urls, SHA256: p.SHA256, Size: p.Size, Depends: depends,
	}
}
