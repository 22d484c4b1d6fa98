// Package lockfile defines images/apt.lock.json: its schema, a deterministic encoding, the
// hashes of the inputs it was made from, and the staleness check behind `imagetool lock
// --check`.
//
// # Format
//
//	{
//	  "version": 1,
//	  "content_sha256": "<sha256 of the canonical encoding with content_sha256 empty>",
//	  "inputs_sha256": "<sha256 of the canonical JSON of inputs>",
//	  "set_inputs_sha256": {"<set>": "<sha256 of what that set depends on>"},
//	  "inputs": {
//	    "arch": "amd64", "recommends": false,
//	    "pg_versions": {"16": "16.13"}, "pg_versions_sha256": "<sha256 of pg_versions.bzl>",
//	    "sources": [{"name", "url", "suite", "components", "architectures", "keyring",
//	                 "keyring_sha256", "priority", "mirrors"}],
//	    "sets": {"<set>": {"file", "requests", "sources", "exclude", "base_priorities"}}
//	  },
//	  "releases": {"<source>": {"url", "suite", "date": "2026-11-20T06:00:00Z"}},
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
// # Integrity
//
// Read accepts only a well-formed lockfile: valid JSON with no unknown keys and nothing after
// the object, consistent references; anything else is a CorruptError, whose one-line message
// ends in "delete it or restore it from git". "content_sha256" covers everything else in the
// file (inputs, releases, packages, sets, notes), computed over the canonical encoding, so
// Verify rejects a hand edit (a zeroed sha256, an edited request) with ErrEdited while a
// re-formatted but equal file still verifies. It guards against careless edits, not against
// someone who recomputes it: the file is as trustworthy as the repository it is committed to.
//
// "releases" records, for every source whose indexes the packages came from, the Date of its
// signed Release file; the locker refuses an older Release for the same URL and suite.
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
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
)

// Version is the lockfile format version.
const Version = 1

// Lockfile is the whole file.
type Lockfile struct {
	Version int `json:"version"`
	// ContentSHA256 is the sha256 of the canonical encoding of the lockfile with this field
	// empty (see Verify).
	ContentSHA256   string            `json:"content_sha256"`
	InputsSHA256    string            `json:"inputs_sha256"`
	SetInputsSHA256 map[string]string `json:"set_inputs_sha256"`
	Inputs          Inputs            `json:"inputs"`
	// Releases are the signed Release files the packages were resolved from, by source name.
	Releases map[string]Release  `json:"releases"`
	Packages map[string]Package  `json:"packages"`
	Sets     map[string][]string `json:"sets"`
	Notes    map[string][]string `json:"notes,omitempty"`
}

// Release records a source's verified Release (or InRelease) file: the canonical URL and
// suite it was fetched for, and its Date. A later lock refuses an older one for the same
// URL and suite (a replayed or rolled-back repository).
type Release struct {
	URL   string    `json:"url"`
	Suite string    `json:"suite"`
	Date  time.Time `json:"date"`
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
