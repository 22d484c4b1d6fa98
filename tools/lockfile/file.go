package lockfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// marshal normalizes lf and encodes it deterministically.
func marshal(lf *Lockfile) ([]byte, error) {
	lf.normalize()
	if err := lf.validate(); err != nil {
		return nil, err
	}
	b, err := encode(lf)
	if err != nil {
		return nil, fmt.Errorf("encoding lockfile: %w", err)
	}
	return b, nil
}

// validate checks internal consistency: keys match their packages, every set and depends
// entry names a package, every locked set has an input hash.
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
	return nil
}

// unmarshal decodes and validates a lockfile.
func unmarshal(data []byte) (*Lockfile, error) {
	var lf Lockfile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lf); err != nil {
		return nil, err
	}
	if err := lf.validate(); err != nil {
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
	lf, err := unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lf, nil
}

// Write encodes lf and replaces path atomically.
func Write(path string, lf *Lockfile) error {
	b, err := marshal(lf)
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
