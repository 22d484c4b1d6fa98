package maintscript

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript/certhash"
)

// update-ca-certificates (ca-certificates' shell script, carried out in Go) and
// `openssl rehash` (OpenSSL's apps/rehash.c).

const (
	certsConf     = "/etc/ca-certificates.conf"
	certsDir      = "/usr/share/ca-certificates"
	localCertsDir = "/usr/local/share/ca-certificates"
	etcCertsDir   = "/etc/ssl/certs"
	certBundle    = "ca-certificates.crt"
	certHooksDir  = "/etc/ca-certificates/update.d"
)

// runUpdateCACertificates: the PEM links in /etc/ssl/certs (named after the .crt with
// blanks and commas turned into "_" and parentheses into "="), the bundle of the selected
// certificates (each ending with a newline) and, when a link was added or removed, the hash
// links. --fresh first removes the links into the certificate directories.
func runUpdateCACertificates(c *cmdCtx) int {
	s := c.sys()
	if !s.opts.CACertificates {
		s.unknown(c.run.pkg.Name, c.run.script, "update-ca-certificates (disabled by the layer configuration)")
		return 0
	}
	o := parseOpts(c.args, "", "hooksdir", "certsconf", "certsdir", "localcertsdir", "certbundle", "etccertsdir", "sysroot")
	conf, err := s.fs.read("/", certsConf)
	fresh := o.has("f", "fresh", "d", "default") || err != nil || len(conf) == 0
	if fresh {
		s.removeCertLinks()
	}
	var bundle []byte
	changed := 0
	add := func(cert string) {
		body, err := s.fs.read("/", cert)
		if err != nil {
			fmt.Fprintf(c.stderr, "W: %s not found\n", cert)
			return
		}
		if s.certLink(cert) {
			changed++
		}
		bundle = append(bundle, body...)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			bundle = append(bundle, '\n')
		}
	}
	for _, l := range lines(conf) {
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "!"):
			pem := path.Join(etcCertsDir, strings.TrimSuffix(path.Base(l[1:]), ".crt")+".pem")
			if _, n, err := s.fs.stat("/", pem, false); err == nil && n.Kind == KindSymlink {
				s.fs.remove("/", pem)
				changed++
			}
		default:
			if !s.fs.exists("/", certsDir+"/"+l) {
				fmt.Fprintf(c.stderr, "W: %s/%s not found, but listed in %s.\n", certsDir, l, certsConf)
				continue
			}
			add(certsDir + "/" + l)
		}
	}
	for _, crt := range s.findCerts(localCertsDir) {
		add(crt)
	}
	return s.finishCerts(c, bundle, changed, o)
}

// finishCerts rehashes when links changed, installs the bundle and runs the hooks.
func (s *System) finishCerts(c *cmdCtx, bundle []byte, changed int, o opts) int {
	if changed > 0 {
		s.removeOrphanLinks(etcCertsDir)
		if err := s.rehash(etcCertsDir); err != nil {
			return c.fail("%v", err)
		}
	}
	if bundle != nil {
		if err := s.fs.write("/", etcCertsDir+"/"+certBundle, bundle, 0o644, false); err != nil {
			return c.fail("%s", errorText(err))
		}
		s.fs.setMeta("/", etcCertsDir+"/"+certBundle, true, 0o644, -1, -1)
	}
	hooks := certHooksDir
	if v, ok := o.get("hooksdir"); ok {
		hooks = v
	}
	if hooks != "" {
		for _, h := range s.executables(hooks) {
			hc := *c
			hc.name, hc.args, hc.stdin = path.Base(h), nil, strings.NewReader("")
			s.dispatch(&hc, h)
		}
	}
	return 0
}

// certLink makes the PEM link of a certificate; it reports whether it was new or changed.
func (s *System) certLink(cert string) bool {
	mangle := strings.NewReplacer(" ", "_", "(", "=", ")", "=", ",", "_")
	pem := path.Join(etcCertsDir, mangle.Replace(strings.TrimSuffix(path.Base(cert), ".crt"))+".pem")
	if _, n, err := s.fs.stat("/", pem, false); err == nil && n.Kind == KindSymlink && n.Link == cert && s.fs.exists("/", pem) {
		return false
	}
	s.fs.remove("/", pem)
	s.fs.put("/", pem, Node{Kind: KindSymlink, Mode: 0o777, Link: cert}, nil, true)
	return true
}

// removeCertLinks removes the links in /etc/ssl/certs into the certificate directories and
// the dangling ones (--fresh).
func (s *System) removeCertLinks() {
	name, _, err := s.fs.stat("/", etcCertsDir, true)
	if err != nil {
		return
	}
	for _, sub := range s.fs.walk(name) {
		n, _ := s.fs.get(sub)
		if n.Kind == KindSymlink && (strings.HasPrefix(n.Link, certsDir) || strings.HasPrefix(n.Link, localCertsDir)) {
			s.fs.remove("/", "/"+sub)
		}
	}
	s.removeOrphanLinks(etcCertsDir)
}

// removeOrphanLinks removes the dangling symlinks below dir.
func (s *System) removeOrphanLinks(dir string) {
	name, _, err := s.fs.stat("/", dir, true)
	if err != nil {
		return
	}
	for _, sub := range s.fs.walk(name) {
		if n, _ := s.fs.get(sub); n.Kind == KindSymlink && !s.fs.exists("/", "/"+sub) {
			s.fs.remove("/", "/"+sub)
		}
	}
}

// findCerts is `find -L DIR -type f -name '*.crt' | sort`.
func (s *System) findCerts(dir string) []string {
	name, n, err := s.fs.stat("/", dir, true)
	if err != nil || n.Kind != KindDir {
		return nil
	}
	var out []string
	for _, sub := range s.fs.walk(name) {
		p := path.Join(dir, strings.TrimPrefix(sub, name+"/"))
		if _, n, err := s.fs.stat("/", p, true); err == nil && n.Kind == KindFile && strings.HasSuffix(p, ".crt") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// executables lists the executable files of a directory, as `run-parts --test` does (names
// of letters, digits, "_" and "-" only), sorted.
func (s *System) executables(dir string) []string {
	names, err := s.fs.list("/", dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		p := path.Join(dir, n)
		if _, node, err := s.fs.stat("/", p, true); err == nil && node.Kind == KindFile && node.Mode&0o111 != 0 && runPartsName.MatchString(n) {
			out = append(out, p)
		}
	}
	return out
}

var runPartsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func runOpenssl(c *cmdCtx) int {
	if len(c.args) == 0 || c.args[0] != "rehash" {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "openssl "+strings.Join(c.args, " "))
		return 0
	}
	status := 0
	for _, d := range parseOpts(c.args[1:], "").args {
		if err := c.sys().rehash(c.abs(d)); err != nil {
			status = c.fail("%v", err)
		}
	}
	return status
}

// hashEntry is one file of a hash bucket.
type hashEntry struct {
	file   string
	digest [sha1.Size]byte
}

var hashLinkName = regexp.MustCompile(`^[0-9a-f]{8}\.(r?)([0-9]+)$`)

// rehash is `openssl rehash DIR`: a HASH.N symlink to every file holding exactly one
// certificate, HASH being its subject-name hash and N the first free number of the bucket
// (files in name order; duplicates skipped; existing correct links kept; stale ones removed).
func (s *System) rehash(dir string) error {
	names, err := s.fs.list("/", dir)
	if err != nil {
		return err
	}
	buckets := map[uint32][]*hashEntry{}
	var order []uint32
	add := func(h uint32, e *hashEntry) {
		if _, ok := buckets[h]; !ok {
			order = append(order, h)
		}
		buckets[h] = append(buckets[h], e)
	}
	var stale []string
	for _, n := range names {
		p := path.Join(dir, n)
		_, node, err := s.fs.stat("/", p, false)
		if err != nil {
			continue
		}
		if m := hashLinkName.FindStringSubmatch(n); node.Kind == KindSymlink && m != nil {
			if m[1] == "" {
				stale = append(stale, p)
			}
			continue
		}
		h, digest, ok := s.certHash(p)
		if !ok {
			continue
		}
		if dup := slicesContainsDigest(buckets[h], digest); dup {
			continue
		}
		add(h, &hashEntry{file: n, digest: digest})
	}
	for _, p := range stale {
		s.fs.remove("/", p)
	}
	for _, h := range order {
		for i, e := range buckets[h] {
			link := path.Join(dir, fmt.Sprintf("%08x.%d", h, i))
			if _, err := s.fs.put("/", link, Node{Kind: KindSymlink, Mode: 0o777, Link: e.file}, nil, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func slicesContainsDigest(es []*hashEntry, d [sha1.Size]byte) bool {
	for _, e := range es {
		if e.digest == d {
			return true
		}
	}
	return false
}

// certHash returns the subject hash and SHA-1 digest of the file at p when its name ends in
// .pem, .crt, .cer or .crl and it holds exactly one PEM certificate.
func (s *System) certHash(p string) (uint32, [sha1.Size]byte, bool) {
	var zero [sha1.Size]byte
	switch strings.ToLower(path.Ext(p)) {
	case ".pem", ".crt", ".cer":
	default:
		return 0, zero, false
	}
	b, err := s.fs.read("/", p)
	if err != nil {
		return 0, zero, false
	}
	var blocks []*pem.Block
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		blocks = append(blocks, blk)
	}
	if len(blocks) != 1 || !strings.HasSuffix(blocks[0].Type, "CERTIFICATE") {
		return 0, zero, false
	}
	der := blocks[0].Bytes
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return 0, zero, false
	}
	h, err := certhash.SubjectHash(cert.RawSubject)
	if err != nil {
		return 0, zero, false
	}
	return h, sha1.Sum(der), true
}
