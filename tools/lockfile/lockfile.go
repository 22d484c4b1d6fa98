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
// a trailing newline; Marshal first normalizes everything whose order carries no meaning
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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	Sources          []Source             `json:"sources"`
	Sets             map[string]SetInputs `json:"sets"`
}

// Source is one apt repository suite as locked.
type Source struct {
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Suite         string   `json:"suite"`
	Components    []string `json:"components"`
	Architectures []string `json:"architectures"`
	Keyring       string   `json:"keyring"`
	KeyringSHA256 string   `json:"keyring_sha256"`
	Priority      int      `json:"priority"`
	// Mirrors are further base URLs serving the same pool/ (recorded as extra URLs).
	Mirrors []string `json:"mirrors,omitempty"`
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

// Key is "name_version_arch", the key of Packages.
func (p Package) Key() string { return p.Name + "_" + p.Version + "_" + p.Arch }

func sortedCopy(s []string) []string {
	if s == nil {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return dedupe(c)
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// Normalize returns a copy of in with every order-insensitive list sorted.
func (in Inputs) Normalize() Inputs {
	out := in
	out.Sources = make([]Source, len(in.Sources))
	for i, s := range in.Sources {
		out.Sources[i] = s
	}
	sort.Slice(out.Sources, func(i, j int) bool { return out.Sources[i].Name < out.Sources[j].Name })
	out.Sets = make(map[string]SetInputs, len(in.Sets))
	for name, s := range in.Sets {
		s.Sources = sortedCopy(s.Sources)
		s.Exclude = sortedCopy(s.Exclude)
		s.BasePriorities = sortedCopy(s.BasePriorities)
		if s.Requests == nil {
			s.Requests = []string{}
		}
		out.Sets[name] = s
	}
	return out
}

func hashJSON(v any) string {
	b, err := encode(v)
	if err != nil {
		// Only plain structs, maps and slices are hashed here.
		panic(fmt.Sprintf("lockfile: encoding inputs: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Hash is inputs_sha256: the sha256 of the canonical JSON of the normalized inputs.
func (in Inputs) Hash() string { return hashJSON(in.Normalize()) }

// SetHash is the hash of what set depends on: its inputs, the sources it may use, the
// architecture and the recommends flag. It is "" when in has no such set.
func (in Inputs) SetHash(set string) string {
	n := in.Normalize()
	s, ok := n.Sets[set]
	if !ok {
		return ""
	}
	var srcs []Source
	for _, src := range n.Sources {
		for _, name := range s.Sources {
			if src.Name == name {
				srcs = append(srcs, src)
			}
		}
	}
	return hashJSON(struct {
		Arch       string    `json:"arch"`
		Recommends bool      `json:"recommends"`
		Set        SetInputs `json:"set"`
		Sources    []Source  `json:"sources"`
	}{n.Arch, n.Recommends, s, srcs})
}

// SetNames returns the names of in's sets, sorted.
func (in Inputs) SetNames() []string {
	names := make([]string, 0, len(in.Sets))
	for n := range in.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Normalize sorts every order-insensitive list of lf and fills in nil maps and slices, so
// that equal lockfiles encode to equal bytes.
func (lf *Lockfile) Normalize() {
	lf.Inputs = lf.Inputs.Normalize()
	if lf.SetInputsSHA256 == nil {
		lf.SetInputsSHA256 = map[string]string{}
	}
	if lf.Packages == nil {
		lf.Packages = map[string]Package{}
	}
	if lf.Sets == nil {
		lf.Sets = map[string][]string{}
	}
	if lf.Inputs.PGVersions == nil {
		lf.Inputs.PGVersions = map[string]string{}
	}
	for k, p := range lf.Packages {
		p.Depends = sortedCopy(p.Depends)
		if p.Depends == nil {
			p.Depends = []string{}
		}
		lf.Packages[k] = p
	}
	for k, s := range lf.Sets {
		s = sortedCopy(s)
		if s == nil {
			s = []string{}
		}
		lf.Sets[k] = s
	}
	for k, n := range lf.Notes {
		lf.Notes[k] = sortedCopy(n)
	}
	if len(lf.Notes) == 0 {
		lf.Notes = nil
	}
}

// Marshal normalizes lf and encodes it deterministically.
func Marshal(lf *Lockfile) ([]byte, error) {
	lf.Normalize()
	if err := lf.Validate(); err != nil {
		return nil, err
	}
	b, err := encode(lf)
	if err != nil {
		return nil, fmt.Errorf("encoding lockfile: %w", err)
	}
	return b, nil
}

// Validate checks internal consistency: keys match their packages, every set and depends
// entry names a package, every locked set has an input hash.
func (lf *Lockfile) Validate() error {
	if lf.Version != Version {
		return fmt.Errorf("unsupported lockfile version %d (want %d)", lf.Version, Version)
	}
	for k, p := range lf.Packages {
		if p.Key() != k {
			return fmt.Errorf("package %s: key does not match name_version_arch %s", k, p.Key())
		}
		if len(p.URLs) == 0 || len(p.SHA256) != 64 {
			return fmt.Errorf("package %s: missing urls or sha256", k)
		}
		for _, d := range p.Depends {
			if _, ok := lf.Packages[d]; !ok {
				return fmt.Errorf("package %s: depends on %s, which is not in packages", k, d)
			}
		}
	}
	for name, keys := range lf.Sets {
		if lf.SetInputsSHA256[name] == "" {
			return fmt.Errorf("set %s: no set_inputs_sha256", name)
		}
		for _, k := range keys {
			if _, ok := lf.Packages[k]; !ok {
				return fmt.Errorf("set %s: %s is not in packages", name, k)
			}
		}
	}
	return nil
}

// Unmarshal decodes and validates a lockfile.
func Unmarshal(data []byte) (*Lockfile, error) {
	var lf Lockfile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lf); err != nil {
		return nil, err
	}
	if err := lf.Validate(); err != nil {
		return nil, err
	}
	return &lf, nil
}

// Read reads and validates the lockfile at path. A missing file is reported with an error
// wrapping os.ErrNotExist.
func Read(path string) (*Lockfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lf, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lf, nil
}

// Write encodes lf and replaces path atomically.
func Write(path string, lf *Lockfile) error {
	b, err := Marshal(lf)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".apt.lock.*.json")
	if err != nil {
		return fmt.Errorf("writing lockfile: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Status is the result of Check.
type Status struct {
	// InputsChanged: inputs_sha256 differs from the hash of the current inputs.
	InputsChanged bool
	// Changed are locked sets whose set inputs changed; Removed are locked sets that the
	// inputs no longer define; Missing are defined sets that are not locked.
	Changed, Removed, Missing []string
}

// Stale reports whether the lockfile must be re-locked. Missing sets alone are not stale.
func (s Status) Stale() bool { return s.InputsChanged || len(s.Changed) > 0 || len(s.Removed) > 0 }

// String describes the status in one line.
func (s Status) String() string {
	var parts []string
	if len(s.Changed) > 0 {
		parts = append(parts, "changed sets: "+strings.Join(s.Changed, ", "))
	}
	if len(s.Removed) > 0 {
		parts = append(parts, "removed sets: "+strings.Join(s.Removed, ", "))
	}
	if s.InputsChanged && len(parts) == 0 {
		parts = append(parts, "inputs changed (sources, keyrings, pg_versions.bzl or unlocked sets' requests)")
	}
	if len(s.Missing) > 0 {
		parts = append(parts, "not locked: "+strings.Join(s.Missing, ", "))
	}
	if len(parts) == 0 {
		return "up to date"
	}
	return strings.Join(parts, "; ")
}

// Check compares lf (nil: no lockfile) with the current inputs.
func Check(lf *Lockfile, in Inputs) Status {
	var st Status
	if lf == nil {
		st.InputsChanged = true
		st.Missing = in.SetNames()
		return st
	}
	st.InputsChanged = lf.InputsSHA256 != in.Hash()
	for _, name := range in.SetNames() {
		if _, ok := lf.Sets[name]; !ok {
			st.Missing = append(st.Missing, name)
			continue
		}
		if lf.SetInputsSHA256[name] != in.SetHash(name) {
			st.Changed = append(st.Changed, name)
		}
	}
	for name := range lf.Sets {
		if _, ok := in.Sets[name]; !ok {
			st.Removed = append(st.Removed, name)
		}
	}
	sort.Strings(st.Removed)
	return st
}
