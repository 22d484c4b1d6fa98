// Package aptrepo is a client for Debian-style apt repositories.
//
// For one Source (repository URL, suite, components, architectures and a
// pinned keyring) it fetches dists/<suite>/InRelease and verifies its
// OpenPGP clearsignature against the keyring (falling back to Release +
// Release.gpg when InRelease is missing), then fetches each
// <component>/binary-<arch>/Packages index (.xz, .gz, .bz2 or plain, in
// Options.Compressions order), checks its size and sha256 against the
// signed Release, and parses it (with tools/deb822) into []Package.
//
// Source and Package are the repository's one type for an apt source and
// for a package version: images/sources.json, the resolver (tools/resolve)
// and the lockfile's inputs (tools/lockfile) use them as they are.
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
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Source is one apt repository suite, as images/sources.json lists it and
// the lockfile records it. In JSON the keys are lower_snake_case:
//
//	{"name": "pgdg", "url": "https://apt.postgresql.org/pub/repos/apt",
//	 "suite": "bookworm-pgdg", "components": ["main"],
//	 "architectures": ["amd64", "arm64"], "keyring": "images/keys/pgdg.asc",
//	 "priority": 600, "mirrors": ["https://apt-archive.postgresql.org/pub/repos/apt"]}
//
// The field order is the lockfile's key order: do not reorder.
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
	// KeyringSHA256 is the sha256 of the keyring file, recorded in the
	// lockfile's inputs (computed by tools/lock; aptrepo ignores it).
	KeyringSHA256 string `json:"keyring_sha256"`
	// Priority is for the resolver (higher wins); aptrepo ignores it.
	Priority int `json:"priority"`
	// Mirrors are further base URLs serving the same pool/, recorded as
	// extra .deb URLs in the lockfile; aptrepo ignores them.
	Mirrors []string `json:"mirrors,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Validate checks that the source is complete.
func (s Source) Validate() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("aptrepo: source name %q: want [A-Za-z0-9][A-Za-z0-9._+-]*", s.Name)
	}
	if !isHTTPURL(s.URL) {
		return fmt.Errorf("aptrepo: %s: url %q: want an http(s) URL", s.Name, s.URL)
	}
	for _, m := range s.Mirrors {
		if !isHTTPURL(m) {
			return fmt.Errorf("aptrepo: %s: mirror %q: want an http(s) URL", s.Name, m)
		}
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

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
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
	// Now is the clock for key and signature checks; default time.Now.
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
	rel, err := c.fetchRelease(ctx, src)
	if err != nil {
		return nil, err
	}
	idx := &Index{Source: src, Release: rel}
	for _, comp := range src.Components {
		for _, arch := range src.Architectures {
			pkgs, err := c.fetchPackages(ctx, src, rel, comp, arch)
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
