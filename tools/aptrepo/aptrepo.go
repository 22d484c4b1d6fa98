// Package aptrepo is a client for Debian-style apt repositories.
//
// For one Source (repository URL, suite, components, architectures and a
// pinned keyring) it fetches dists/<suite>/InRelease and verifies its
// OpenPGP clearsignature against the keyring (falling back to Release +
// Release.gpg when InRelease is missing), then fetches each
// <component>/binary-<arch>/Packages index (.xz, .gz, .bz2 or plain, in
// Options.Compressions order), checks its size and sha256 against the
// signed Release, and parses it into []Package.
//
// Every failure is a one-line *Error naming the repository (Source.Name)
// and the file (relative to the repository URL), for example
//
//	pgdg: dists/bookworm-pgdg/main/binary-amd64/Packages.xz: sha256 mismatch (want ..., got ...)
//	pgdg: dists/bookworm-pgdg/InRelease: bad signature: openpgp: invalid signature: ...
//
// and wraps one of ErrNotFound, ErrSignature, ErrChecksum, ErrSize or
// ErrInvalid where that applies.
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
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/klauspost/compress/gzip"
	"github.com/xi2/xz"

	"github.com/ci-images/ci-images/tools/deb822"
)

// Source is one apt repository suite. In JSON (images/sources.json) the
// keys are lower_snake_case:
//
//	{"name": "pgdg", "url": "https://apt.postgresql.org/pub/repos/apt",
//	 "suite": "bookworm-pgdg", "components": ["main"],
//	 "architectures": ["amd64", "arm64"], "keyring": "images/keys/pgdg.asc",
//	 "priority": 600}
type Source struct {
	// Name identifies the source in errors, lockfiles and Package.Repo.
	Name string `json:"name"`
	// URL is the repository root (the directory holding dists/ and pool/).
	URL string `json:"url"`
	// Suite is the directory under dists/ ("bookworm", "bookworm-pgdg").
	Suite         string   `json:"suite"`
	Components    []string `json:"components"`
	Architectures []string `json:"architectures"`
	// Keyring is the path of an armored or binary OpenPGP keyring; a
	// relative path is resolved against Options.BaseDir.
	Keyring string `json:"keyring"`
	// Priority is for the resolver (higher wins); aptrepo ignores it.
	Priority int `json:"priority"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Validate checks that the source is complete.
func (s Source) Validate() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("aptrepo: source name %q: want [A-Za-z0-9][A-Za-z0-9._+-]*", s.Name)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("aptrepo: %s: url %q: want an http(s) URL", s.Name, s.URL)
	}
	if s.Suite == "" || strings.HasSuffix(s.Suite, "/") || strings.HasPrefix(s.Suite, "/") || hasDotDot(s.Suite) {
		return fmt.Errorf("aptrepo: %s: bad suite %q (flat repositories are not supported)", s.Name, s.Suite)
	}
	if len(s.Components) == 0 || len(s.Architectures) == 0 {
		return fmt.Errorf("aptrepo: %s: components and architectures must not be empty", s.Name)
	}
	for _, c := range append(append([]string(nil), s.Components...), s.Architectures...) {
		if c == "" || hasDotDot(c) || strings.HasPrefix(c, "/") || strings.ContainsAny(c, " \t\n?#") {
			return fmt.Errorf("aptrepo: %s: bad component or architecture %q", s.Name, c)
		}
	}
	if s.Keyring == "" {
		return fmt.Errorf("aptrepo: %s: no keyring", s.Name)
	}
	return nil
}

// hasDotDot reports whether a slash-separated path has a ".." element.
func hasDotDot(p string) bool {
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// Sentinel errors wrapped by *Error.
var (
	ErrNotFound  = errors.New("not found")
	ErrSignature = errors.New("bad signature")
	ErrChecksum  = errors.New("sha256 mismatch")
	ErrSize      = errors.New("size mismatch")
	ErrInvalid   = errors.New("invalid")
	ErrExpired   = errors.New("expired")
)

// Error is a failure concerning one file of one repository.
type Error struct {
	Repo string // Source.Name
	File string // path relative to Source.URL, e.g. "dists/bookworm/InRelease"
	Err  error
}

func (e *Error) Error() string {
	msg := e.Repo + ": " + e.File + ": " + e.Err.Error()
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
}

func (e *Error) Unwrap() error { return e.Err }

// Progress reports a file transfer. It is sent when a download starts
// (Done false) and when it ends (Done true), and once for cache hits
// (Cached and Done true).
type Progress struct {
	Repo, File string
	Bytes      int64 // bytes received so far
	Total      int64 // expected size, -1 if unknown
	Cached     bool
	Done       bool
}

// Options configure a Client. The zero value is usable.
type Options struct {
	// CacheDir, if set, holds downloaded indexes by sha256
	// (<CacheDir>/sha256/<hex>) and the last verified Release file of each
	// source (<CacheDir>/release/...). Entries are re-verified on use.
	CacheDir string
	// Offline uses only the cache: the cached Release file (still
	// signature-checked) and cached indexes. Requires CacheDir.
	Offline bool
	// CheckValidUntil rejects a Release whose Valid-Until is in the past
	// (off by default: snapshots are expired by design).
	CheckValidUntil bool
	// AllowExpiredKeys accepts a signature by a key that has expired since
	// the signature was made (checked at the signature's creation time).
	AllowExpiredKeys bool
	// Now is the clock for Valid-Until and key checks; default time.Now.
	Now func() time.Time
	// Compressions is the order in which Packages variants are tried
	// among those listed in Release; default [".xz", ".gz", ".bz2", ""].
	// A variant that is listed but 404 falls through to the next one.
	Compressions []string
	// BaseDir resolves relative Source.Keyring paths; default the working
	// directory.
	BaseDir string
	// Progress, if set, is called for every file (possibly concurrently
	// when the Client is shared between goroutines).
	Progress func(Progress)
	// UserAgent for HTTP requests; default "ci-images-aptrepo".
	UserAgent string
}

// Client fetches and verifies repositories. It is safe for concurrent use.
type Client struct {
	hc  *http.Client
	opt Options
}

// New returns a Client using hc for all requests.
func New(hc *http.Client, opt Options) (*Client, error) {
	if hc == nil {
		return nil, errors.New("aptrepo: nil http.Client")
	}
	if opt.Offline && opt.CacheDir == "" {
		return nil, errors.New("aptrepo: Offline needs CacheDir")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Compressions == nil {
		opt.Compressions = []string{".xz", ".gz", ".bz2", ""}
	}
	for _, c := range opt.Compressions {
		switch c {
		case ".xz", ".gz", ".bz2", "":
		default:
			return nil, fmt.Errorf("aptrepo: unsupported compression %q", c)
		}
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "ci-images-aptrepo"
	}
	return &Client{hc: hc, opt: opt}, nil
}

// FileHash is one SHA256 entry of a Release file.
type FileHash struct {
	SHA256 string
	Size   int64
}

// Release is a verified Release (or InRelease) file.
type Release struct {
	File                                    string // "InRelease" or "Release"
	Origin, Label, Suite, Codename, Version string
	Date, ValidUntil                        time.Time // zero if absent
	Architectures, Components               []string
	AcquireByHash                           bool
	// Files maps paths relative to dists/<suite>/ to their SHA256 entry.
	Files map[string]FileHash
	// Signer is the fingerprint (upper-case hex) of the primary key whose
	// signature was accepted.
	Signer string
	// Signed is the verified text; SHA256 is the sha256 of Signed.
	Signed []byte
	SHA256 string
}

// Package is one entry of a Packages index. Strings hold only what the
// resolver and lockfile need; the rest of the paragraph is dropped.
type Package struct {
	Name, Version, Architecture string
	// Source and SourceVersion are the source package name and version,
	// defaulting to Name and Version when the Source field is absent or
	// has no "(version)".
	Source, SourceVersion string
	MultiArch             string // "same", "foreign", "allowed" or ""
	Priority              string // the Priority field ("required", "optional", ...)
	Section               string
	Essential             bool
	Depends, PreDepends   string
	Recommends            string
	Provides              string
	Conflicts, Breaks     string
	Replaces              string
	Filename              string // relative to the repository URL
	SHA256                string
	Size, InstalledSize   int64  // InstalledSize in KiB, 0 if absent
	Repo                  string // Source.Name
	Component             string
	URL                   string // full URL of the .deb
}

// Index is the result of Fetch.
type Index struct {
	Source   Source
	Release  *Release
	Packages []Package // in component, architecture, file order
}

func (c *Client) errf(src Source, file string, format string, args ...any) error {
	return &Error{Repo: src.Name, File: file, Err: fmt.Errorf(format, args...)}
}

func (c *Client) progress(p Progress) {
	if c.opt.Progress != nil {
		c.opt.Progress(p)
	}
}

// Fetch fetches and verifies the Release file and every Packages index of
// src.
func (c *Client) Fetch(ctx context.Context, src Source) (*Index, error) {
	rel, err := c.FetchRelease(ctx, src)
	if err != nil {
		return nil, err
	}
	idx := &Index{Source: src, Release: rel}
	for _, comp := range src.Components {
		for _, arch := range src.Architectures {
			pkgs, err := c.FetchPackages(ctx, src, rel, comp, arch)
			if err != nil {
				return nil, err
			}
			idx.Packages = append(idx.Packages, pkgs...)
		}
	}
	return idx, nil
}

func (c *Client) fileURL(src Source, file string) string {
	return strings.TrimRight(src.URL, "/") + "/" + file
}

// LoadKeyring reads an armored (one or more blocks) or binary OpenPGP
// keyring.
func LoadKeyring(path string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("aptrepo: keyring: %w", err)
	}
	el, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("aptrepo: keyring %s: %w", path, err)
	}
	return el, nil
}

// ParseKeyring parses an armored (one or more blocks) or binary keyring.
func ParseKeyring(data []byte) (openpgp.EntityList, error) {
	var el openpgp.EntityList
	if t := bytes.TrimSpace(data); bytes.HasPrefix(t, []byte("-----BEGIN PGP")) {
		r := bytes.NewReader(t)
		for {
			blk, err := armor.Decode(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				if len(el) > 0 {
					break // trailing garbage after valid blocks
				}
				return nil, err
			}
			if blk.Type != openpgp.PublicKeyType {
				return nil, fmt.Errorf("unexpected armor block %q", blk.Type)
			}
			keys, err := openpgp.ReadKeyRing(blk.Body)
			if err != nil {
				return nil, err
			}
			el = append(el, keys...)
		}
	} else {
		keys, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		el = keys
	}
	if len(el) == 0 {
		return nil, errors.New("no keys")
	}
	return el, nil
}

func (c *Client) keyring(src Source) (openpgp.EntityList, error) {
	p := src.Keyring
	if !filepath.IsAbs(p) && c.opt.BaseDir != "" {
		p = filepath.Join(c.opt.BaseDir, p)
	}
	return LoadKeyring(p)
}

// FetchRelease fetches dists/<suite>/InRelease (or Release and
// Release.gpg), verifies it against src.Keyring, and parses it.
func (c *Client) FetchRelease(ctx context.Context, src Source) (*Release, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	keys, err := c.keyring(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	dir := "dists/" + src.Suite + "/"
	var inrel, rel, sig []byte
	if c.opt.Offline {
		inrel, rel, sig, err = c.cachedRelease(src)
		if err != nil {
			return nil, c.errf(src, dir+"InRelease", "offline: %w", err)
		}
	} else {
		inrel, err = c.get(ctx, src, dir+"InRelease", "", -1, 16<<20)
		if errors.Is(err, ErrNotFound) {
			rel, err = c.get(ctx, src, dir+"Release", "", -1, 16<<20)
			if errors.Is(err, ErrNotFound) {
				return nil, c.errf(src, dir+"Release", "%w: no InRelease or Release at %s (unknown suite?)", ErrNotFound, c.fileURL(src, dir))
			}
			if err != nil {
				return nil, err
			}
			sig, err = c.get(ctx, src, dir+"Release.gpg", "", -1, 1<<20)
			if err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	file, signed, signer, err := c.verifyRelease(src, keys, dir, inrel, rel, sig)
	if err != nil {
		return nil, err
	}
	r, err := c.parseRelease(src, file, signed, signer)
	if err != nil {
		return nil, err
	}
	if !c.opt.Offline {
		c.storeRelease(src, inrel, rel, sig)
	}
	return r, nil
}

// verifyRelease checks the signature of InRelease (when inrel is set) or of Release by
// Release.gpg, and returns the signed file's name, its signed text and the signer.
func (c *Client) verifyRelease(src Source, keys openpgp.EntityList, dir string, inrel, rel, sig []byte) (file string, signed []byte, signer string, err error) {
	if inrel != nil {
		file = dir + "InRelease"
		block, rest := clearsign.Decode(inrel)
		if block == nil {
			return "", nil, "", c.errf(src, file, "%w: not a clearsigned message", ErrSignature)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return "", nil, "", c.errf(src, file, "%w: data after the signature", ErrSignature)
		}
		signer, err := c.verify(keys, block.Bytes, block.ArmoredSignature.Body)
		if err != nil {
			return "", nil, "", c.errf(src, file, "%w: %v", ErrSignature, err)
		}
		return file, block.Plaintext, signer, nil
	}
	sigBody := io.Reader(bytes.NewReader(sig))
	if blk, err := armor.Decode(bytes.NewReader(sig)); err == nil {
		sigBody = blk.Body
	}
	signer, err = c.verify(keys, rel, sigBody)
	if err != nil {
		return "", nil, "", c.errf(src, dir+"Release.gpg", "%w: %v", ErrSignature, err)
	}
	return dir + "Release", rel, signer, nil
}

// verify checks a detached signature over signed and returns the signer's
// fingerprint.
func (c *Client) verify(keys openpgp.EntityList, signed []byte, sig io.Reader) (string, error) {
	sigData, err := io.ReadAll(sig)
	if err != nil {
		return "", err
	}
	cfg := &packet.Config{Time: c.opt.Now}
	s, signer, err := openpgp.VerifyDetachedSignature(keys, bytes.NewReader(signed), bytes.NewReader(sigData), cfg)
	if err != nil && c.opt.AllowExpiredKeys && s != nil &&
		(errors.Is(err, pgperrors.ErrKeyExpired) || errors.Is(err, pgperrors.ErrSignatureExpired)) {
		created := s.CreationTime
		cfg = &packet.Config{Time: func() time.Time { return created }}
		_, signer, err = openpgp.VerifyDetachedSignature(keys, bytes.NewReader(signed), bytes.NewReader(sigData), cfg)
	}
	if err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(signer.PrimaryKey.Fingerprint)), nil
}

var releaseDateLayouts = []string{
	time.RFC1123,
	time.RFC1123Z,
	"Mon, _2 Jan 2006 15:04:05 MST",
	"Mon, _2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
}

func parseReleaseDate(s string) (time.Time, error) {
	for _, l := range releaseDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparsable date %q", s)
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (c *Client) parseRelease(src Source, file string, signed []byte, signer string) (*Release, error) {
	p, err := deb822.Parse(string(signed))
	if err != nil {
		return nil, c.errf(src, file, "%w: %v", ErrInvalid, err)
	}
	sum := sha256.Sum256(signed)
	r := &Release{
		File:          path.Base(file),
		Origin:        p.Get("Origin"),
		Label:         p.Get("Label"),
		Suite:         p.Get("Suite"),
		Codename:      p.Get("Codename"),
		Version:       p.Get("Version"),
		Architectures: strings.Fields(p.Get("Architectures")),
		Components:    strings.Fields(p.Get("Components")),
		AcquireByHash: strings.EqualFold(p.Get("Acquire-By-Hash"), "yes"),
		Files:         map[string]FileHash{},
		Signer:        signer,
		Signed:        signed,
		SHA256:        hex.EncodeToString(sum[:]),
	}
	if r.Suite != src.Suite && r.Codename != src.Suite {
		return nil, c.errf(src, file, "%w: Release is for suite %q (codename %q), want %q", ErrInvalid, r.Suite, r.Codename, src.Suite)
	}
	if d := p.Get("Date"); d != "" {
		if r.Date, err = parseReleaseDate(d); err != nil {
			return nil, c.errf(src, file, "%w: Date: %v", ErrInvalid, err)
		}
	}
	if v := p.Get("Valid-Until"); v != "" {
		t, err := parseReleaseDate(v)
		if err != nil {
			return nil, c.errf(src, file, "%w: Valid-Until: %v", ErrInvalid, err)
		}
		r.ValidUntil = t
	}
	if c.opt.CheckValidUntil && !r.ValidUntil.IsZero() && c.opt.Now().After(r.ValidUntil) {
		return nil, c.errf(src, file, "%w: Valid-Until %s is in the past", ErrExpired, r.ValidUntil.Format(time.RFC3339))
	}
	for i, line := range strings.Split(p.Get("SHA256"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !sha256RE.MatchString(f[0]) {
			return nil, c.errf(src, file, "%w: SHA256 line %d: %q", ErrInvalid, i, line)
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size < 0 {
			return nil, c.errf(src, file, "%w: SHA256 line %d: bad size %q", ErrInvalid, i, f[1])
		}
		r.Files[f[2]] = FileHash{SHA256: f[0], Size: size}
	}
	if len(r.Files) == 0 {
		return nil, c.errf(src, file, "%w: no SHA256 entries", ErrInvalid)
	}
	return r, nil
}

// FetchPackages fetches, verifies and parses
// dists/<suite>/<component>/binary-<arch>/Packages for a Release returned
// by FetchRelease for the same src.
func (c *Client) FetchPackages(ctx context.Context, src Source, rel *Release, component, arch string) ([]Package, error) {
	dir := "dists/" + src.Suite + "/"
	base := component + "/binary-" + arch + "/Packages"
	if len(rel.Components) > 0 && !hasComponent(rel.Components, component) {
		return nil, c.errf(src, dir+rel.File, "%w: component %q not in Release (have %s)", ErrNotFound, component, strings.Join(rel.Components, " "))
	}
	if len(rel.Architectures) > 0 && !contains(rel.Architectures, arch) {
		return nil, c.errf(src, dir+rel.File, "%w: architecture %q not in Release (have %s)", ErrNotFound, arch, strings.Join(rel.Architectures, " "))
	}
	plain, hasPlain := rel.Files[base]
	// Cache hit on the uncompressed index: no network at all.
	if hasPlain {
		if data, ok := c.cacheGet(plain); ok {
			c.progress(Progress{Repo: src.Name, File: dir + base, Bytes: plain.Size, Total: plain.Size, Cached: true, Done: true})
			return c.parsePackages(src, dir+base, component, string(data))
		}
	}
	listed := false
	for _, ext := range c.opt.Compressions {
		fh, ok := rel.Files[base+ext]
		if !ok {
			continue
		}
		listed = true
		file := dir + base + ext
		var byHash string
		if rel.AcquireByHash {
			byHash = dir + path.Dir(base) + "/by-hash/SHA256/" + fh.SHA256
		}
		comp, err := c.fetchVerified(ctx, src, file, byHash, fh)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		text, err := decompress(ext, comp, plain.Size)
		if err != nil {
			return nil, c.errf(src, file, "%w: decompress: %v", ErrInvalid, err)
		}
		if hasPlain && ext != "" {
			if int64(len(text)) != plain.Size {
				return nil, c.errf(src, file, "%w: uncompressed (want %d bytes, got %d)", ErrSize, plain.Size, len(text))
			}
			if got := sha256Hex([]byte(text)); got != plain.SHA256 {
				return nil, c.errf(src, file, "%w: uncompressed (want %s, got %s)", ErrChecksum, plain.SHA256, got)
			}
			c.cachePut(plain.SHA256, []byte(text))
		} else {
			c.cachePut(fh.SHA256, comp)
		}
		return c.parsePackages(src, file, component, text)
	}
	if !listed {
		return nil, c.errf(src, dir+base, "%w: not listed in %s (with any of the compressions %q)", ErrNotFound, rel.File, c.opt.Compressions)
	}
	return nil, c.errf(src, dir+base, "%w: listed in %s but no variant could be downloaded from %s", ErrNotFound, rel.File, c.fileURL(src, dir+base))
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

// get downloads src.URL/(urlPath or file). size >= 0 is the expected size
// (a different length is ErrSize); limit bounds the body otherwise. Errors
// name file.
func (c *Client) get(ctx context.Context, src Source, file, urlPath string, size, limit int64) ([]byte, error) {
	if urlPath == "" {
		urlPath = file
	}
	u := c.fileURL(src, urlPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.errf(src, file, "%v", err)
	}
	req.Header.Set("User-Agent", c.opt.UserAgent)
	c.progress(Progress{Repo: src.Name, File: file, Total: size})
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.errf(src, file, "%w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return nil, c.errf(src, file, "%w: HTTP %s from %s", ErrNotFound, resp.Status, u)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.errf(src, file, "HTTP %s from %s", resp.Status, u)
	}
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(size))
	}
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if size >= 0 && (errors.Is(err, io.ErrUnexpectedEOF) || n < size) {
			return nil, c.errf(src, file, "%w (want %d bytes, got %d): %v", ErrSize, size, n, err)
		}
		return nil, c.errf(src, file, "GET %s: %w", u, err)
	}
	if size >= 0 && n != size {
		got := strconv.FormatInt(n, 10)
		if n > size {
			got = "more"
		}
		return nil, c.errf(src, file, "%w (want %d bytes, got %s)", ErrSize, size, got)
	}
	if size < 0 && n > limit {
		return nil, c.errf(src, file, "%w: larger than %d bytes", ErrSize, limit)
	}
	c.progress(Progress{Repo: src.Name, File: file, Bytes: n, Total: size, Done: true})
	return buf.Bytes(), nil
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
func (c *Client) parsePackages(src Source, file, component, text string) ([]Package, error) {
	paras, err := deb822.ParseAllString(text)
	if err != nil {
		return nil, c.errf(src, file, "%w: %v", ErrInvalid, err)
	}
	base := strings.TrimRight(src.URL, "/") + "/"
	pkgs := make([]Package, len(paras))
	for i, p := range paras {
		pk := &pkgs[i]
		pk.Name = p.Get("Package")
		pk.Version = p.Get("Version")
		pk.Architecture = p.Get("Architecture")
		pk.MultiArch = p.Get("Multi-Arch")
		pk.Priority = p.Get("Priority")
		pk.Section = p.Get("Section")
		pk.Essential = p.Get("Essential") == "yes"
		pk.Depends = p.Get("Depends")
		pk.PreDepends = p.Get("Pre-Depends")
		pk.Recommends = p.Get("Recommends")
		pk.Provides = p.Get("Provides")
		pk.Conflicts = p.Get("Conflicts")
		pk.Breaks = p.Get("Breaks")
		pk.Replaces = p.Get("Replaces")
		pk.Filename = p.Get("Filename")
		pk.SHA256 = p.Get("SHA256")
		pk.Repo = src.Name
		pk.Component = component
		what := fmt.Sprintf("paragraph %d (%s %s)", i+1, pk.Name, pk.Version)
		if pk.Name == "" || pk.Version == "" || pk.Architecture == "" {
			return nil, c.errf(src, file, "%w: %s: missing Package, Version or Architecture", ErrInvalid, what)
		}
		if !sha256RE.MatchString(pk.SHA256) {
			return nil, c.errf(src, file, "%w: %s: bad or missing SHA256 %q", ErrInvalid, what, pk.SHA256)
		}
		if fn := pk.Filename; fn == "" || strings.HasPrefix(fn, "/") || hasDotDot(fn) ||
			strings.ContainsAny(fn, "?#\\ \t") {
			return nil, c.errf(src, file, "%w: %s: bad Filename %q", ErrInvalid, what, fn)
		}
		if pk.Size, err = strconv.ParseInt(p.Get("Size"), 10, 64); err != nil || pk.Size < 0 {
			return nil, c.errf(src, file, "%w: %s: bad Size %q", ErrInvalid, what, p.Get("Size"))
		}
		if v := p.Get("Installed-Size"); v != "" {
			if pk.InstalledSize, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, c.errf(src, file, "%w: %s: bad Installed-Size %q", ErrInvalid, what, v)
			}
		}
		pk.Source, pk.SourceVersion = pk.Name, pk.Version
		if s := p.Get("Source"); s != "" {
			name, ver, ok := strings.Cut(s, " ")
			pk.Source = name
			if ok {
				ver = strings.TrimSpace(ver)
				if !strings.HasPrefix(ver, "(") || !strings.HasSuffix(ver, ")") {
					return nil, c.errf(src, file, "%w: %s: bad Source %q", ErrInvalid, what, s)
				}
				pk.SourceVersion = strings.TrimSpace(ver[1 : len(ver)-1])
			}
		}
		compact(pk, base)
	}
	return pkgs, nil
}

// compact copies the package's strings (and its URL) into one allocation,
// so that the index text can be freed.
func compact(p *Package, base string) {
	fields := [...]*string{
		&p.Name, &p.Version, &p.Architecture, &p.Source, &p.SourceVersion,
		&p.MultiArch, &p.Priority, &p.Section, &p.Depends, &p.PreDepends,
		&p.Recommends, &p.Provides, &p.Conflicts, &p.Breaks, &p.Replaces,
		&p.SHA256, &p.URL,
	}
	p.URL = ""
	n := len(base) + len(p.Filename)
	for _, f := range fields {
		n += len(*f)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, f := range fields[:len(fields)-1] {
		sb.WriteString(*f)
	}
	sb.WriteString(base)
	sb.WriteString(p.Filename)
	s := sb.String()
	off := 0
	for _, f := range fields[:len(fields)-1] {
		l := len(*f)
		*f = s[off : off+l]
		off += l
	}
	p.URL = s[off:]
	p.Filename = s[off+len(base):]
}
