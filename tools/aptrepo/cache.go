package aptrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ci-images/ci-images/tools/atomicfile"
)

// Cache layout under Options.CacheDir:
//
//	sha256/<hex>                      verified index files, by content hash
//	release/<key>/InRelease           last verified InRelease of a source, or
//	release/<key>/Release{,.gpg}      Release and its detached signature
//
// where <key> is the sha256 of "<url>\x00<suite>". Cache writes are
// best-effort (a failure only costs a re-download) and atomic (temporary
// file + rename); cached content is verified again before use.

// cacheGet returns the cached file with the given hash and size, if
// present and intact. A corrupt entry is removed.
func (c *Client) cacheGet(fh FileHash) ([]byte, bool) {
	if c.opt.CacheDir == "" || !sha256RE.MatchString(fh.SHA256) {
		return nil, false
	}
	p := filepath.Join(c.opt.CacheDir, "sha256", fh.SHA256)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	if int64(len(data)) != fh.Size || sha256Hex(data) != fh.SHA256 {
		os.Remove(p)
		return nil, false
	}
	return data, true
}

func (c *Client) cachePut(sum string, data []byte) {
	if c.opt.CacheDir == "" {
		return
	}
	_ = writeAtomic(filepath.Join(c.opt.CacheDir, "sha256", sum), data)
}

// writeAtomic replaces p by data (atomicfile), creating its directory.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, data, 0o644)
}

func (c *Client) releaseDir(src Source) string {
	k := sha256.Sum256([]byte(src.URL + "\x00" + src.Suite))
	return filepath.Join(c.opt.CacheDir, "release", hex.EncodeToString(k[:]))
}

// storeRelease remembers the verified Release file(s) of src for Offline
// runs. Exactly one of inrel or rel+sig is set.
func (c *Client) storeRelease(src Source, inrel, rel, sig []byte) {
	if c.opt.CacheDir == "" {
		return
	}
	d := c.releaseDir(src)
	if inrel != nil {
		if writeAtomic(filepath.Join(d, "InRelease"), inrel) == nil {
			os.Remove(filepath.Join(d, "Release"))
			os.Remove(filepath.Join(d, "Release.gpg"))
		}
		return
	}
	if writeAtomic(filepath.Join(d, "Release.gpg"), sig) == nil &&
		writeAtomic(filepath.Join(d, "Release"), rel) == nil {
		os.Remove(filepath.Join(d, "InRelease"))
	}
}

func (c *Client) cachedRelease(src Source) (inrel, rel, sig []byte, err error) {
	d := c.releaseDir(src)
	inrel, err = os.ReadFile(filepath.Join(d, "InRelease"))
	if err == nil {
		return inrel, nil, nil, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, err
	}
	rel, err = os.ReadFile(filepath.Join(d, "Release"))
	if err == nil {
		sig, err = os.ReadFile(filepath.Join(d, "Release.gpg"))
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("no cached Release for %s %s in %s", src.URL, src.Suite, c.opt.CacheDir)
	}
	return nil, rel, sig, err
}
