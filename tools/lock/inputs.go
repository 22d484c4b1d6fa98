package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/pgversions"
	"github.com/ci-images/ci-images/tools/strictjson"
)

// Workspace-relative paths of the inputs and the output.
const (
	SourcesFile    = "images/sources.json"
	PackagesGlob   = "images/*/packages.json"
	PGVersionsFile = "pg_versions.bzl"
	LockFile       = "images/apt.lock.json"
)

// SourcesConfig is images/sources.json.
type SourcesConfig struct {
	// Arch is the target architecture of every set ("amd64").
	Arch string `json:"arch"`
	// Sources are the repositories; keyring_sha256 is computed, not given. A source
	// without architectures gets Arch.
	Sources []aptrepo.Source `json:"sources"`
}

// PackagesConfig is images/<image>/packages.json.
type PackagesConfig struct {
	// PerPGVersion makes one set <image>_<major> per pinned Postgres version, with
	// {major} and {pg} expanded in Requests; otherwise the set is <image>.
	PerPGVersion bool `json:"per_pg_version"`
	// Requests: "name", "name=VERSION" (an exact pin, see resolve), a trailing "?" makes
	// the request optional (dropped with a note when no package has that name).
	Requests []string `json:"requests"`
	// EachPGVersion templates are expanded once per pinned version into the one set
	// (only without PerPGVersion).
	EachPGVersion []string `json:"each_pg_version,omitempty"`
	// Sources the image may use, by name; default all of sources.json.
	Sources []string `json:"sources,omitempty"`
	// Exclude: packages assumed present, never selected.
	Exclude []string `json:"exclude,omitempty"`
	// BasePriorities adds every package of these priorities first ("required": the
	// minbase system of debootstrap), for images without a base image.
	BasePriorities []string `json:"base_priorities,omitempty"`
	// Comment is free text for people; it is not an input.
	Comment string `json:"comment,omitempty"`
}

// decodeStrict decodes the workspace file rel into v: unknown keys and trailing data are
// errors naming the file (strictjson).
func decodeStrict(workspace, rel string, v any) error {
	data, err := os.ReadFile(filepath.Join(workspace, rel))
	if err != nil {
		return err
	}
	if err := strictjson.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

// priorities are Debian's package priorities (Debian Policy 2.5), for base_priorities.
var priorities = []string{"required", "important", "standard", "optional", "extra"}

// architectures are the Debian architectures (release and ports) that sources.json may name.
var architectures = []string{
	"alpha", "amd64", "arm64", "armel", "armhf", "hppa", "hurd-amd64", "hurd-i386", "i386", "ia64",
	"loong64", "m68k", "mips64el", "mipsel", "powerpc", "ppc64", "ppc64el", "riscv64", "s390x",
	"sh4", "sparc64", "x32",
}

// oneOf checks that every value of the list key is in known.
func oneOf(key string, values, known []string, what string) error {
	for _, v := range values {
		if !slices.Contains(known, v) {
			return fmt.Errorf("%s: %q is not %s (want one of %s)", key, v, what, strings.Join(known, ", "))
		}
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Request is one parsed request string.
type Request struct {
	Name, Version string
	Optional      bool
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// ParseRequest parses "name", "name=version", optionally followed by "?".
func ParseRequest(s string) (Request, error) {
	var r Request
	body, opt := strings.CutSuffix(s, "?")
	r.Optional = opt
	name, version, pinned := strings.Cut(body, "=")
	r.Name, r.Version = name, version
	if !nameRE.MatchString(name) {
		return r, fmt.Errorf("request %q: invalid package name %q", s, name)
	}
	if pinned && (version == "" || strings.ContainsAny(version, " =?")) {
		return r, fmt.Errorf("request %q: invalid version %q", s, version)
	}
	return r, nil
}

var placeholderRE = regexp.MustCompile(`\{[^}]*\}`)

// expand replaces {major} and {pg}; pin nil means no version context.
func expand(tmpl string, pin *pgversions.Pin) (string, error) {
	var bad error
	out := placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		switch {
		case m == "{major}" && pin != nil:
			return pin.Major
		case m == "{pg}" && pin != nil:
			return pin.Version
		case m == "{major}" || m == "{pg}":
			bad = fmt.Errorf("request %q: %s needs per_pg_version or each_pg_version", tmpl, m)
		default:
			bad = fmt.Errorf("request %q: unknown placeholder %s (want {major} or {pg})", tmpl, m)
		}
		return m
	})
	if bad != nil {
		return "", bad
	}
	if _, err := ParseRequest(out); err != nil {
		return "", err
	}
	return out, nil
}

// LoadInputs reads sources.json, every images/*/packages.json, pg_versions.bzl and the
// keyrings under workspace, and returns the lock inputs (Recommends false). It never
// touches the network.
func LoadInputs(workspace string) (lockfile.Inputs, error) {
	in := lockfile.Inputs{}
	var err error
	if in.Arch, in.Sources, err = loadSources(workspace); err != nil {
		return lockfile.Inputs{}, err
	}
	pins, err := loadPGVersions(workspace, &in)
	if err != nil {
		return lockfile.Inputs{}, err
	}
	if in.Sets, err = loadSets(workspace, pins, in.Sources); err != nil {
		return lockfile.Inputs{}, err
	}
	return in, nil
}

// loadSources reads sources.json: the architecture and the validated sources, with
// their keyrings' hashes.
func loadSources(workspace string) (string, []aptrepo.Source, error) {
	var sc SourcesConfig
	if err := decodeStrict(workspace, SourcesFile, &sc); err != nil {
		return "", nil, err
	}
	if sc.Arch == "" {
		return "", nil, fmt.Errorf("%s: no arch", SourcesFile)
	}
	if err := oneOf("arch", []string{sc.Arch}, architectures, "a Debian architecture"); err != nil {
		return "", nil, fmt.Errorf("%s: %w", SourcesFile, err)
	}
	seen := map[string]bool{}
	for i := range sc.Sources {
		s := &sc.Sources[i]
		if len(s.Architectures) == 0 {
			s.Architectures = []string{sc.Arch}
		}
		if err := oneOf("architectures", s.Architectures, architectures, "a Debian architecture"); err != nil {
			return "", nil, fmt.Errorf("%s: source %q: %w", SourcesFile, s.Name, err)
		}
		if err := s.Validate(); err != nil {
			return "", nil, fmt.Errorf("%s: source %q: %w", SourcesFile, s.Name, err)
		}
		if seen[s.Name] {
			return "", nil, fmt.Errorf("%s: source %q defined twice", SourcesFile, s.Name)
		}
		seen[s.Name] = true
		if s.KeyringSHA256 != "" {
			return "", nil, fmt.Errorf("%s: source %s: keyring_sha256 is computed from the keyring, not an input", SourcesFile, s.Name)
		}
		if filepath.IsAbs(s.Keyring) {
			return "", nil, fmt.Errorf("%s: source %s: keyring %s must be workspace-relative", SourcesFile, s.Name, s.Keyring)
		}
		sum, err := fileSHA256(filepath.Join(workspace, s.Keyring))
		if err != nil {
			return "", nil, fmt.Errorf("%s: source %s: keyring: %w", SourcesFile, s.Name, err)
		}
		s.URL, s.KeyringSHA256 = strings.TrimSuffix(s.URL, "/"), sum
	}
	return sc.Arch, sc.Sources, nil
}

// loadPGVersions reads pg_versions.bzl into in and returns its pins.
func loadPGVersions(workspace string, in *lockfile.Inputs) ([]pgversions.Pin, error) {
	pgPath := filepath.Join(workspace, PGVersionsFile)
	pins, err := pgversions.Load(pgPath)
	if err != nil {
		return nil, fmt.Errorf("pg versions: %w", err)
	}
	if in.PGVersionsSHA256, err = fileSHA256(pgPath); err != nil {
		return nil, fmt.Errorf("pg versions: %w", err)
	}
	in.PGVersions = map[string]string{}
	for _, p := range pins {
		in.PGVersions[p.Major] = p.Version
	}
	return pins, nil
}

// loadSets reads every images/*/packages.json and expands it into its sets.
func loadSets(workspace string, pins []pgversions.Pin, sources []aptrepo.Source) (map[string]lockfile.SetInputs, error) {
	var allNames []string
	known := map[string]bool{}
	for _, s := range sources {
		allNames = append(allNames, s.Name)
		known[s.Name] = true
	}
	files, err := filepath.Glob(filepath.Join(workspace, PackagesGlob))
	if err != nil {
		return nil, fmt.Errorf("packages: %w", err)
	}
	sort.Strings(files)
	sets := map[string]lockfile.SetInputs{}
	for _, f := range files {
		rel, _ := filepath.Rel(workspace, f)
		rel = filepath.ToSlash(rel)
		var pc PackagesConfig
		if err := decodeStrict(workspace, rel, &pc); err != nil {
			return nil, err
		}
		expanded, err := expandImage(filepath.Base(filepath.Dir(f)), rel, pc, pins, allNames, known)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		for name, s := range expanded {
			if _, dup := sets[name]; dup {
				return nil, fmt.Errorf("%s: set %s defined twice", rel, name)
			}
			sets[name] = s
		}
	}
	return sets, nil
}

func expandImage(image, file string, pc PackagesConfig, pins []pgversions.Pin, allSources []string, known map[string]bool) (map[string]lockfile.SetInputs, error) {
	srcs := pc.Sources
	if len(srcs) == 0 {
		srcs = allSources
	}
	for _, s := range srcs {
		if !known[s] {
			return nil, fmt.Errorf("unknown source %q (not in %s)", s, SourcesFile)
		}
	}
	if len(pc.Requests) == 0 && len(pc.EachPGVersion) == 0 && len(pc.BasePriorities) == 0 {
		return nil, errors.New("no requests")
	}
	for _, x := range pc.Exclude {
		if !nameRE.MatchString(x) {
			return nil, fmt.Errorf("exclude: invalid package name %q", x)
		}
	}
	if err := oneOf("base_priorities", pc.BasePriorities, priorities, "a Debian priority"); err != nil {
		return nil, err
	}
	base := lockfile.SetInputs{File: file, Sources: srcs, Exclude: pc.Exclude, BasePriorities: pc.BasePriorities}
	out := map[string]lockfile.SetInputs{}
	var err error
	if pc.PerPGVersion {
		if len(pc.EachPGVersion) > 0 {
			return nil, errors.New("each_pg_version needs per_pg_version false")
		}
		for i := range pins {
			s := base
			if s.Requests, err = expandAll(nil, pc.Requests, &pins[i]); err != nil {
				return nil, err
			}
			out[image+"_"+pins[i].Major] = s
		}
		return out, nil
	}
	s := base
	if s.Requests, err = expandAll(nil, pc.Requests, nil); err != nil {
		return nil, err
	}
	for i := range pins {
		if s.Requests, err = expandAll(s.Requests, pc.EachPGVersion, &pins[i]); err != nil {
			return nil, err
		}
	}
	out[image] = s
	return out, nil
}

// expandAll appends the expansions of tmpls for pin to out.
func expandAll(out, tmpls []string, pin *pgversions.Pin) ([]string, error) {
	for _, t := range tmpls {
		e, err := expand(t, pin)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
