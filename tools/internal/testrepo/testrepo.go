// Package testrepo builds real, signed apt repositories for tests and
// serves them with net/http/httptest on 127.0.0.1.
//
// A repository is described by a Spec (suites, components, .deb
// descriptions). Serve builds every .deb with debtest, writes
// pool/<component>/<prefix>/<source>/<name>_<version>_<arch>.deb,
// dists/<suite>/<component>/binary-<arch>/Packages{,.xz,.gz} with by-hash
// copies, a Release listing their SHA256, a clearsigned InRelease and a
// detached Release.gpg, all signed with a throwaway ed25519 key whose
// armored public key is written to Server.KeyringPath.
//
// The Server's methods tamper with the served files (Corrupt, Tamper,
// Truncate, Delete, SetStatus, Resign, RewriteRelease) so tests can cover
// every failure a client must detect.
package testrepo

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"github.com/ci-images/ci-images/tools/deb822"
	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// Suite is one dists/<name> directory.
type Suite struct {
	// Components maps a component name ("main", "16") to its packages.
	// A package with Architecture "all" is listed in every binary-<arch>.
	Components map[string][]debtest.Deb
	// Architectures to publish; default ["amd64"].
	Architectures []string
	// SuiteField and Codename are the Release "Suite:" and "Codename:"
	// values; both default to the suite directory name.
	SuiteField, Codename string
	Origin, Label        string // default "Test"
	// Date defaults to 2024-01-02T03:04:05Z; ValidUntil is omitted when zero.
	Date, ValidUntil time.Time
	// Compressions to publish for Packages; default ["", ".xz", ".gz"].
	Compressions []string
	// NoByHash omits Acquire-By-Hash and the by-hash files.
	NoByHash bool
	// NoInRelease publishes only Release + Release.gpg.
	NoInRelease bool
	// ComponentsField overrides the Release "Components:" value (Debian
	// security says "updates/main" while serving main/).
	ComponentsField string
}

// Spec describes a repository.
type Spec struct {
	Suites map[string]Suite
	// PathPrefix is prepended to every served path, e.g. "/debian";
	// Server.URL includes it.
	PathPrefix string
	// Key signs the Release files; default a new key from NewKey.
	Key *openpgp.Entity
}

type entry struct {
	data     []byte
	truncate int // serve only this many bytes (with the full Content-Length); -1: all
	status   int // 0: 200 with data
}

// Server is a running repository.
type Server struct {
	// URL is the repository root (http://127.0.0.1:port + PathPrefix).
	URL string
	// KeyringPath is the armored public key that signed the Release files.
	KeyringPath string
	Key         *openpgp.Entity
	// Debs maps pool paths ("pool/main/m/mawk/mawk_1.3_amd64.deb") to the
	// package built there.
	Debs map[string]debtest.Deb

	t        testing.TB
	srv      *httptest.Server
	prefix   string
	mu       sync.Mutex
	files    map[string]*entry // by path relative to URL; by-hash aliases share entries
	requests []string
}

// Date is the default Release date.
var defaultDate = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// NewKey returns a fresh ed25519 signing key.
func NewKey(t testing.TB) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return defaultDate.Add(-time.Hour) }}
	e, err := openpgp.NewEntity("testrepo", "throwaway", "testrepo@example.invalid", cfg)
	if err != nil {
		t.Fatalf("testrepo: new key: %v", err)
	}
	return e
}

// ArmoredPublicKey returns key's public part, armored.
func ArmoredPublicKey(t testing.TB, key *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// WriteKeyring writes key's armored public key to a new file in
// t.TempDir() and returns its path.
func WriteKeyring(t testing.TB, key *openpgp.Entity) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keyring.asc")
	if err := os.WriteFile(p, ArmoredPublicKey(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Build builds the repository files without serving them; paths are
// relative to the repository root.
func Build(t testing.TB, spec Spec) (files map[string][]byte, debs map[string]debtest.Deb) {
	t.Helper()
	key := spec.Key
	if key == nil {
		key = NewKey(t)
	}
	s := &Server{t: t, Key: key, files: map[string]*entry{}, Debs: map[string]debtest.Deb{}}
	s.build(spec)
	files = map[string][]byte{}
	for p, e := range s.files {
		files[p] = e.data
	}
	return files, s.Debs
}

// Serve builds the repository described by spec and serves it until the
// test ends.
func Serve(t testing.TB, spec Spec) *Server {
	t.Helper()
	key := spec.Key
	if key == nil {
		key = NewKey(t)
	}
	s := &Server{t: t, Key: key, files: map[string]*entry{}, Debs: map[string]debtest.Deb{}}
	s.prefix = "/" + strings.Trim(spec.PathPrefix, "/")
	if s.prefix == "/" {
		s.prefix = ""
	}
	s.build(spec)
	s.KeyringPath = WriteKeyring(t, key)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + s.prefix
	return s
}

func (s *Server) put(p string, data []byte) *entry {
	e := &entry{data: data, truncate: -1}
	s.files[p] = e
	return e
}

// poolPath returns the Debian pool path of d in component comp.
func poolPath(comp string, d debtest.Deb) string {
	src := d.Package
	if d.Source != "" {
		src, _, _ = strings.Cut(d.Source, " ")
	}
	prefix := src[:1]
	if strings.HasPrefix(src, "lib") && len(src) > 3 {
		prefix = src[:4]
	}
	ver := d.Version
	if _, v, ok := strings.Cut(ver, ":"); ok {
		ver = v
	}
	return fmt.Sprintf("pool/%s/%s/%s/%s_%s_%s.deb", comp, prefix, src, d.Package, ver, d.Architecture)
}

func hexsum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// indexSum is one index file's line in the Release MD5Sum and SHA256 lists.
type indexSum struct {
	path string // relative to dists/<suite>/
	size int
	hash string
	md5  string
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Server) build(spec Spec) {
	s.t.Helper()
	built := map[string][]byte{} // pool path -> .deb
	for _, name := range sortedKeys(spec.Suites) {
		s.buildSuite(name, spec.Suites[name], built)
	}
}

// buildSuite writes dists/<name>/: the Packages indices of every
// component and architecture, then the signed Release. built holds the
// .debs already written to the pool, by pool path, and gains the new ones.
func (s *Server) buildSuite(name string, su Suite, built map[string][]byte) {
	s.t.Helper()
	archs := su.Architectures
	if len(archs) == 0 {
		archs = []string{"amd64"}
	}
	comps := sortedKeys(su.Components)
	compressions := su.Compressions
	if compressions == nil {
		compressions = []string{"", ".xz", ".gz"}
	}
	var sums []indexSum
	for _, comp := range comps {
		for _, arch := range archs {
			plain := s.packagesIndex(comp, arch, su.Components[comp], built)
			dir := comp + "/binary-" + arch
			for _, ext := range compressions {
				data := compress(s.t, ext, plain)
				rel := dir + "/Packages" + ext
				m := md5.Sum(data)
				sums = append(sums, indexSum{rel, len(data), hexsum(data), hex.EncodeToString(m[:])})
				e := s.put("dists/"+name+"/"+rel, data)
				if !su.NoByHash {
					s.files["dists/"+name+"/"+dir+"/by-hash/SHA256/"+hexsum(data)] = e
				}
			}
		}
	}
	s.put("dists/"+name+"/Release", []byte(releaseFile(name, su, archs, comps, sums)))
	s.sign(name, s.Key, !su.NoInRelease)
}

// packagesIndex returns the uncompressed Packages index of component comp
// for arch, listing the debs of that architecture or "all". It builds and
// serves the pool files not yet in built.
func (s *Server) packagesIndex(comp, arch string, debs []debtest.Deb, built map[string][]byte) []byte {
	t := s.t
	t.Helper()
	var paras []deb822.Paragraph
	for _, d := range debs {
		if d.Architecture != arch && d.Architecture != "all" {
			continue
		}
		pp := poolPath(comp, d)
		deb, ok := built[pp]
		if !ok {
			var err error
			if deb, err = debtest.Build(d); err != nil {
				t.Fatalf("testrepo: build %s %s: %v", d.Package, d.Version, err)
			}
			built[pp] = deb
			s.Debs[pp] = d
			s.put(pp, deb)
		}
		p, err := deb822.Parse(debtest.Control(d))
		if err != nil {
			t.Fatalf("testrepo: control of %s: %v", d.Package, err)
		}
		m := md5.Sum(deb)
		p.Set("Filename", pp)
		p.Set("Size", strconv.Itoa(len(deb)))
		p.Set("MD5sum", hex.EncodeToString(m[:]))
		p.Set("SHA256", hexsum(deb))
		paras = append(paras, p)
	}
	if len(paras) == 0 {
		return nil
	}
	plain, err := deb822.Format(paras...)
	if err != nil {
		t.Fatalf("testrepo: %v", err)
	}
	return plain
}

// releaseFile returns the (unsigned) Release file of suite name.
func releaseFile(name string, su Suite, archs, comps []string, sums []indexSum) string {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	date := su.Date
	if date.IsZero() {
		date = defaultDate
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\n",
		def(su.Origin, "Test"), def(su.Label, "Test"), def(su.SuiteField, name), def(su.Codename, name))
	fmt.Fprintf(&b, "Date: %s\n", date.UTC().Format(time.RFC1123))
	if !su.ValidUntil.IsZero() {
		fmt.Fprintf(&b, "Valid-Until: %s\n", su.ValidUntil.UTC().Format(time.RFC1123))
	}
	if !su.NoByHash {
		b.WriteString("Acquire-By-Hash: yes\n")
	}
	fmt.Fprintf(&b, "Architectures: %s\nComponents: %s\nDescription: testrepo %s\n",
		strings.Join(archs, " "), def(su.ComponentsField, strings.Join(comps, " ")), name)
	b.WriteString("MD5Sum:\n")
	for _, x := range sums {
		fmt.Fprintf(&b, " %s %8d %s\n", x.md5, x.size, x.path)
	}
	b.WriteString("SHA256:\n")
	for _, x := range sums {
		fmt.Fprintf(&b, " %s %8d %s\n", x.hash, x.size, x.path)
	}
	return b.String()
}

func compress(t testing.TB, ext string, data []byte) []byte {
	var buf bytes.Buffer
	switch ext {
	case "":
		return data
	case ".xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".gz":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("testrepo: unsupported compression %q", ext)
	}
	return buf.Bytes()
}

// sign writes dists/<suite>/Release.gpg (and InRelease if inRelease) for
// the current Release file, signed by key. Callers hold s.mu or own s.
func (s *Server) sign(suite string, key *openpgp.Entity, inRelease bool) {
	t := s.t
	t.Helper()
	rel := s.files["dists/"+suite+"/Release"]
	if rel == nil {
		t.Fatalf("testrepo: no suite %q", suite)
	}
	cfg := &packet.Config{Time: func() time.Time { return defaultDate }}
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, key, bytes.NewReader(rel.data), cfg); err != nil {
		t.Fatalf("testrepo: sign: %v", err)
	}
	s.put("dists/"+suite+"/Release.gpg", sig.Bytes())
	if !inRelease {
		delete(s.files, "dists/"+suite+"/InRelease")
		return
	}
	var in bytes.Buffer
	w, err := clearsign.Encode(&in, key.PrivateKey, cfg)
	if err != nil {
		t.Fatalf("testrepo: clearsign: %v", err)
	}
	w.Write(rel.data)
	if err := w.Close(); err != nil {
		t.Fatalf("testrepo: clearsign: %v", err)
	}
	s.put("dists/"+suite+"/InRelease", in.Bytes())
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.mu.Lock()
	s.requests = append(s.requests, p)
	rel, ok := strings.CutPrefix(p, s.prefix+"/")
	var e *entry
	if ok {
		e = s.files[path.Clean(rel)]
	}
	var (
		data     []byte
		truncate = -1
		status   int
	)
	if e != nil {
		data, truncate, status = e.data, e.truncate, e.status
	}
	s.mu.Unlock()
	if e == nil {
		http.NotFound(w, r)
		return
	}
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Type", "application/octet-stream")
	if truncate >= 0 && truncate < len(data) {
		// Promise the full length, send less and hang up: the client sees
		// an unexpected EOF, like a dropped connection.
		w.Write(data[:truncate])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	w.Write(data)
}

func (s *Server) entry(p string) *entry {
	e := s.files[p]
	if e == nil {
		s.t.Fatalf("testrepo: no file %q", p)
	}
	return e
}

// File returns the current content of a served path (relative to URL).
func (s *Server) File(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.entry(p).data)
}

// Paths returns every served path, sorted.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.files))
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Set replaces (or adds) a served file. Existing by-hash aliases of p
// keep pointing at p's entry and so serve the new content too.
func (s *Server) Set(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.files[p]; e != nil {
		e.data = bytes.Clone(data)
		return
	}
	s.put(p, bytes.Clone(data))
}

// Tamper replaces the content of p (and its by-hash aliases) by
// fn(content) without updating Release: a tampered mirror.
func (s *Server) Tamper(p string, fn func([]byte) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry(p)
	e.data = fn(bytes.Clone(e.data))
}

// Corrupt flips one byte in the middle of p (size unchanged).
func (s *Server) Corrupt(p string) {
	s.Tamper(p, func(b []byte) []byte {
		if len(b) == 0 {
			s.t.Fatalf("testrepo: cannot corrupt empty %s", p)
		}
		b[len(b)/2] ^= 0x55
		return b
	})
}

// Truncate makes the server announce p's full length but send only n
// bytes and drop the connection.
func (s *Server) Truncate(p string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(p).truncate = n
}

// SetStatus makes p (and its aliases) answer with an HTTP error status.
func (s *Server) SetStatus(p string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(p).status = status
}

// Delete stops serving exactly path p (aliases stay); requests get 404.
func (s *Server) Delete(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(p)
	delete(s.files, p)
}

// Resign signs suite's current Release again with key (nil: the server's
// key), replacing InRelease (if served) and Release.gpg.
func (s *Server) Resign(suite string, key *openpgp.Entity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == nil {
		key = s.Key
	}
	_, hasIn := s.files["dists/"+suite+"/InRelease"]
	s.sign(suite, key, hasIn)
}

// RewriteRelease replaces suite's Release by fn(Release) and re-signs it
// with the server's key: a validly signed but altered Release.
func (s *Server) RewriteRelease(suite string, fn func(string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry("dists/" + suite + "/Release")
	e.data = []byte(fn(string(e.data)))
	_, hasIn := s.files["dists/"+suite+"/InRelease"]
	s.sign(suite, s.Key, hasIn)
}

// Requests returns the paths requested so far (with PathPrefix), in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// DebPath returns the pool path of the package name_version_arch served by
// s, or "" if there is none.
func (s *Server) DebPath(name, version, arch string) string {
	for p, d := range s.Debs {
		if d.Package == name && d.Version == version && d.Architecture == arch {
			return p
		}
	}
	return ""
}
