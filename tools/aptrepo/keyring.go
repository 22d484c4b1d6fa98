package aptrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// loadKeyring reads an armored (one or more blocks) or binary OpenPGP
// keyring.
func loadKeyring(path string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("aptrepo: keyring: %w", err)
	}
	el, err := parseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("aptrepo: keyring %s: %w", path, err)
	}
	return el, nil
}

// parseKeyring parses an armored (one or more blocks) or binary keyring.
func parseKeyring(data []byte) (openpgp.EntityList, error) {
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
	return loadKeyring(p)
}
