package lockfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ci-images/ci-images/tools/atomicfile"
	"github.com/ci-images/ci-images/tools/strictjson"
)

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

// normalize sorts every order-insensitive list of lf and fills in nil maps and slices, so
// that equal lockfiles encode to equal bytes.
func (lf *Lockfile) normalize() {
	lf.Inputs = lf.Inputs.normalize()
	if lf.SetInputsSHA256 == nil {
		lf.SetInputsSHA256 = map[string]string{}
	}
	if lf.Packages == nil {
		lf.Packages = map[string]Package{}
	}
	if lf.Sets == nil {
		lf.Sets = map[string][]string{}
	}
	if lf.Releases == nil {
		lf.Releases = map[string]Release{}
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

// ErrEdited is the error of Verify: the content does not match content_sha256.
var ErrEdited = errors.New("lockfile was edited by hand: re-lock")

// CorruptError is a file at the lockfile's path that is not a valid lockfile.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	msg := strings.Join(strings.Fields(e.Err.Error()), " ")
	return fmt.Sprintf("%s: not a valid lockfile (%s): delete it or restore it from git", e.Path, msg)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// contentHash is content_sha256: the sha256 of the encoding of the normalized lf with
// ContentSHA256 empty.
func contentHash(lf *Lockfile) (string, error) {
	c := *lf
	c.ContentSHA256 = ""
	b, err := encode(&c)
	if err != nil {
		return "", fmt.Errorf("encoding lockfile: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Verify reports whether lf's content matches its content_sha256 (lf as Read returns it).
func (lf *Lockfile) Verify() error {
	if lf.ContentSHA256 == "" {
		return fmt.Errorf("%w (no content_sha256: edited, or written by an imagetool older than the field)", ErrEdited)
	}
	got, err := contentHash(lf)
	if err != nil {
		return err
	}
	if got != lf.ContentSHA256 {
		return ErrEdited
	}
	return nil
}

// marshal normalizes lf, records its content hash and encodes it deterministically.
func marshal(lf *Lockfile) ([]byte, error) {
	lf.normalize()
	if err := lf.validate(); err != nil {
		return nil, err
	}
	sum, err := contentHash(lf)
	if err != nil {
		return nil, err
	}
	lf.ContentSHA256 = sum
	b, err := encode(lf)
	if err != nil {
		return nil, fmt.Errorf("encoding lockfile: %w", err)
	}
	return b, nil
}

// validate checks internal consistency: keys match their packages, every set and depends
// entry names a package, every locked set has an input hash, every release is one of a
// source of the inputs.
func (lf *Lockfile) validate() error {
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
	return lf.validateReleases()
}

func (lf *Lockfile) validateReleases() error {
	for name, r := range lf.Releases {
		src, ok := lf.Inputs.Source(name)
		if !ok || src.URL != r.URL || src.Suite != r.Suite {
			return fmt.Errorf("releases: %s (%s %s) is not a source of the inputs", name, r.URL, r.Suite)
		}
		if r.Date.IsZero() {
			return fmt.Errorf("releases: %s: no date", name)
		}
	}
	return nil
}

// unmarshal decodes, normalizes and validates a lockfile.
func unmarshal(data []byte) (*Lockfile, error) {
	var lf Lockfile
	if err := strictjson.Unmarshal(data, &lf); err != nil {
		return nil, err
	}
	lf.normalize()
	if err := lf.validate(); err != nil {
		return nil, err
	}
	return &lf, nil
}

// Read reads and validates the lockfile at path. A missing file is reported with an error
// wrapping os.ErrNotExist, a file that is not a valid lockfile with a *CorruptError. Read
// does not Verify the content hash.
func Read(path string) (*Lockfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lf, err := unmarshal(data)
	if err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	return lf, nil
}

// Write encodes lf (recording its content hash) and replaces path atomically.
func Write(path string, lf *Lockfile) error {
	b, err := marshal(lf)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}
