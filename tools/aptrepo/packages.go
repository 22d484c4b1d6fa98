package aptrepo

import (
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/xi2/xz"

	"github.com/ci-images/ci-images/tools/deb822"
)

// Package is one version of a binary package in a Packages index. Strings
// hold only what the resolver and the lockfile need; the rest of the
// paragraph is dropped.
type Package struct {
	Name, Version, Architecture string // Architecture: e.g. "amd64", or "all"
	MultiArch                   string // "same", "foreign", "allowed" or ""
	Priority                    string // the Priority field ("required", "optional", ...)
	Essential                   bool
	// Relation fields, raw; tools/resolve parses those it needs.
	Depends, PreDepends, Recommends, Provides, Conflicts, Breaks string
	Filename                                                     string // relative to the repository URL
	SHA256                                                       string
	Size                                                         int64
	Repo                                                         string // Source.Name
}

// Key is the identifier of a package version, "name_version_arch": the key
// of lockfile packages and of resolver results.
func Key(name, version, arch string) string { return name + "_" + version + "_" + arch }

// Key returns Key(p.Name, p.Version, p.Architecture).
func (p *Package) Key() string { return Key(p.Name, p.Version, p.Architecture) }

// fetchPackages fetches, verifies and parses
// dists/<suite>/<component>/binary-<arch>/Packages for a Release returned
// by fetchRelease for the same src.
func (c *Client) fetchPackages(ctx context.Context, src Source, rel *Release, component, arch string) ([]Package, error) {
	dir := "dists/" + src.Suite + "/"
	base := component + "/binary-" + arch + "/Packages"
	if len(rel.Components) > 0 && !hasComponent(rel.Components, component) {
		return nil, c.errf(src, dir+rel.File, "%w: component %q not in Release (have %s)", ErrNotFound, component, strings.Join(rel.Components, " "))
	}
	if len(rel.Architectures) > 0 && !contains(rel.Architectures, arch) {
		return nil, c.errf(src, dir+rel.File, "%w: architecture %q not in Release (have %s)", ErrNotFound, arch, strings.Join(rel.Architectures, " "))
	}
	// Cache hit on the uncompressed index: no network at all.
	if plain, ok := rel.Files[base]; ok {
		if data, ok := c.cacheGet(plain); ok {
			c.progress(Progress{Repo: src.Name, File: dir + base, Bytes: plain.Size, Total: plain.Size, Cached: true, Done: true})
			return c.parsePackages(src, dir+base, string(data))
		}
	}
	listed := false
	for _, ext := range c.opt.Compressions {
		if _, ok := rel.Files[base+ext]; !ok {
			continue
		}
		listed = true
		text, err := c.fetchIndex(ctx, src, rel, base, ext)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return c.parsePackages(src, dir+base+ext, text)
	}
	if !listed {
		return nil, c.errf(src, dir+base, "%w: not listed in %s (with any of the compressions %q)", ErrNotFound, rel.File, c.opt.Compressions)
	}
	return nil, c.errf(src, dir+base, "%w: listed in %s but no variant could be downloaded from %s", ErrNotFound, rel.File, c.fileURL(src, dir+base))
}

// fetchIndex fetches the variant base+ext of an index, checks it against
// rel (compressed and, when listed, uncompressed), caches it and returns
// the uncompressed text.
func (c *Client) fetchIndex(ctx context.Context, src Source, rel *Release, base, ext string) (string, error) {
	dir := "dists/" + src.Suite + "/"
	file := dir + base + ext
	fh := rel.Files[base+ext]
	plain, hasPlain := rel.Files[base]
	var byHash string
	if rel.AcquireByHash {
		byHash = dir + path.Dir(base) + "/by-hash/SHA256/" + fh.SHA256
	}
	comp, err := c.fetchVerified(ctx, src, file, byHash, fh)
	if err != nil {
		return "", err
	}
	text, err := decompress(ext, comp, plain.Size)
	if err != nil {
		return "", c.errf(src, file, "%w: decompress: %v", ErrInvalid, err)
	}
	if !hasPlain || ext == "" {
		c.cachePut(fh.SHA256, comp)
		return text, nil
	}
	if int64(len(text)) != plain.Size {
		return "", c.errf(src, file, "%w: uncompressed (want %d bytes, got %d)", ErrSize, plain.Size, len(text))
	}
	if got := sha256Hex([]byte(text)); got != plain.SHA256 {
		return "", c.errf(src, file, "%w: uncompressed (want %s, got %s)", ErrChecksum, plain.SHA256, got)
	}
	c.cachePut(plain.SHA256, []byte(text))
	return text, nil
}

// hasComponent reports whether component is listed; like apt it accepts
// "updates/main" (bookworm-security's Components) for "main".
func hasComponent(list []string, component string) bool {
	for _, c := range list {
		if c == component || path.Base(c) == component {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fetchVerified returns the content of file, from the cache or the network
// (via byHash first when set), checked against fh.
func (c *Client) fetchVerified(ctx context.Context, src Source, file, byHash string, fh FileHash) ([]byte, error) {
	if data, ok := c.cacheGet(fh); ok {
		c.progress(Progress{Repo: src.Name, File: file, Bytes: fh.Size, Total: fh.Size, Cached: true, Done: true})
		return data, nil
	}
	if c.opt.Offline {
		return nil, c.errf(src, file, "not in cache %s (offline)", c.opt.CacheDir)
	}
	var data []byte
	var err error
	if byHash != "" {
		data, err = c.get(ctx, src, file, byHash, fh.Size, fh.Size)
		if errors.Is(err, ErrNotFound) {
			byHash = ""
		} else if err != nil {
			return nil, err
		}
	}
	if byHash == "" {
		if data, err = c.get(ctx, src, file, "", fh.Size, fh.Size); err != nil {
			return nil, err
		}
	}
	if got := sha256Hex(data); got != fh.SHA256 {
		return nil, c.errf(src, file, "%w (want %s, got %s)", ErrChecksum, fh.SHA256, got)
	}
	return data, nil
}

func decompress(ext string, data []byte, sizeHint int64) (string, error) {
	var r io.Reader
	switch ext {
	case "":
		return string(data), nil
	case ".xz":
		xr, err := xz.NewReader(bytes.NewReader(data), 0) // xi2/xz: ~5x faster than ulikunitz/xz
		if err != nil {
			return "", err
		}
		r = xr
	case ".gz":
		gr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", err
		}
		defer gr.Close()
		r = gr
	case ".bz2":
		r = bzip2.NewReader(bytes.NewReader(data))
	default:
		return "", fmt.Errorf("unsupported compression %q", ext)
	}
	// Bound the output: the listed size (checked by the caller) or 2 GiB.
	limit := int64(2 << 30)
	var sb strings.Builder
	if sizeHint > 0 {
		limit = sizeHint
		sb.Grow(int(min(sizeHint, 1<<30)))
	}
	n, err := io.Copy(&sb, io.LimitReader(r, limit+1))
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("decompressed data exceeds %d bytes", limit)
	}
	return sb.String(), nil
}

// parsePackages parses an index. file is used in errors.
func (c *Client) parsePackages(src Source, file, text string) ([]Package, error) {
	paras, err := deb822.ParseAllString(text)
	if err != nil {
		return nil, c.errf(src, file, "%w: %v", ErrInvalid, err)
	}
	pkgs := make([]Package, len(paras))
	for i, p := range paras {
		pk, err := ParsePackage(p, src.Name)
		if err != nil {
			return nil, c.errf(src, file, "%w: paragraph %d (%s %s): %v", ErrInvalid, i+1, p.Get("Package"), p.Get("Version"), err)
		}
		compact(&pk)
		pkgs[i] = pk
	}
	return pkgs, nil
}

// ParsePackage reads one paragraph of a Packages index; repo is the name of
// its source. The strings of the result are substrings of p's.
func ParsePackage(p deb822.Paragraph, repo string) (Package, error) {
	pk := Package{
		Name: p.Get("Package"), Version: p.Get("Version"), Architecture: p.Get("Architecture"),
		MultiArch: p.Get("Multi-Arch"), Priority: p.Get("Priority"), Essential: p.Get("Essential") == "yes",
		Depends: p.Get("Depends"), PreDepends: p.Get("Pre-Depends"), Recommends: p.Get("Recommends"),
		Provides: p.Get("Provides"), Conflicts: p.Get("Conflicts"), Breaks: p.Get("Breaks"),
		Filename: p.Get("Filename"), SHA256: p.Get("SHA256"), Repo: repo,
	}
	if pk.Name == "" || pk.Version == "" || pk.Architecture == "" {
		return pk, errors.New("missing Package, Version or Architecture")
	}
	if !sha256RE.MatchString(pk.SHA256) {
		return pk, fmt.Errorf("bad or missing SHA256 %q", pk.SHA256)
	}
	if fn := pk.Filename; fn == "" || strings.HasPrefix(fn, "/") || hasDotDot(fn) || strings.ContainsAny(fn, "?#\\ \t") {
		return pk, fmt.Errorf("bad Filename %q", fn)
	}
	var err error
	if pk.Size, err = strconv.ParseInt(p.Get("Size"), 10, 64); err != nil || pk.Size < 0 {
		return pk, fmt.Errorf("bad Size %q", p.Get("Size"))
	}
	return pk, nil
}

// compact copies the package's strings into one allocation, so that the
// index text can be freed.
func compact(p *Package) {
	fields := [...]*string{
		&p.Name, &p.Version, &p.Architecture, &p.MultiArch, &p.Priority,
		&p.Depends, &p.PreDepends, &p.Recommends, &p.Provides, &p.Conflicts,
		&p.Breaks, &p.Filename, &p.SHA256,
	}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, f := range fields {
		sb.WriteString(*f)
	}
	s := sb.String()
	off := 0
	for _, f := range fields {
		l := len(*f)
		*f = s[off : off+l]
		off += l
	}
}
