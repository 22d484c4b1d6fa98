package aptrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/ci-images/ci-images/tools/deb822"
)

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

// fetchRelease fetches dists/<suite>/InRelease (or Release and
// Release.gpg), verifies it against src.Keyring, and parses it.
func (c *Client) fetchRelease(ctx context.Context, src Source) (*Release, error) {
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
	cfg := &packet.Config{Time: c.opt.Now}
	_, signer, err := openpgp.VerifyDetachedSignature(keys, bytes.NewReader(signed), sig, cfg)
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
