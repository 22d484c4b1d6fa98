// Package fidelity builds the oracle for an image's file system, the way Debian would make it,
// and flattens the image to compare with it (tools/fsdiff does the comparison).
//
// The oracle of a locked package set is a scratch chroot: `debootstrap --variant=minbase` of the
// set's suite from the machine's Debian mirror (read from /etc/apt/sources.list.d/debian.sources
// at run time), then, one phase per image layer (the base set, then the rest of the set),
// `apt-get install` of exactly the locked .deb files inside the chroot, so that maintainer
// scripts and triggers really run, and `dpkg --purge` of every package debootstrap installed
// that the phase's set does not hold. Before the last phase the image's own accounts (users and
// groups that base-passwd does not define, such as postgres 999) are created with the image's
// ids, as a Dockerfile that pins them would do; their maintainer scripts then find them. Services
// are never started (policy-rc.d exits 101 during the build). At the end `dpkg-query -W` must
// list exactly the locked name, version and architecture of every package of the set.
//
// The chroot is stored as a zstd-compressed tar under
// ${CI_IMAGES_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ci-images}/fidelity/<hash of the inputs>/
// (with the build logs), so a second run only reads it; without it the oracle is rebuilt.
//
// # The integration test
//
// TestFidelity compares the image with its oracle and prints the counts (entries compared,
// equal, allowed differences by reason, unexplained differences); it fails while any
// difference is unexplained. It needs root, debootstrap and the Debian mirror, and reads:
//
//	CI_IMAGES_INTEGRATION=1   run at all (otherwise it is skipped with "SKIPPING ...")
//	FIDELITY_LAYOUT           the image's OCI layout directory (e.g. bazel-bin/images/debian15)
//	FIDELITY_DEBS             a directory holding every locked .deb of the set (symlinks are
//	                          fine; files are matched to the lockfile by sha256)
//	FIDELITY_SET              the lockfile set of the image (default debian15)
//	FIDELITY_BASE_SET         the set of its base layer (default base; "" for none)
//	FIDELITY_LOCKFILE         the lockfile (default images/apt.lock.json of this repository)
//	FIDELITY_REPORT           optional: write every difference, with line diffs of small
//	                          text files, to this file
//
// images/tests/fidelity sets them up from a Bazel build.
//
// Two more integration tests use the same variables: TestScriptsReproduced writes the set's
// layer above its base set and fails on maintainer-script commands the layer writer does
// not reproduce (tools/maintscript; allowedUnknown accepts some, with the reason) and on
// scripts that fail; TestLogin loads the image of FIDELITY_LAYOUT into Docker and runs su,
// runuser and login -f in it.
package fidelity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ci-images/ci-images/tools/deb822"
)

// DebianSources is the machine's apt source list for Debian (deb822 format).
const DebianSources = "/etc/apt/sources.list.d/debian.sources"

// MirrorFor returns the first URI of the stanza in the deb822 sources file at path whose
// Suites include suite.
func MirrorFor(path, suite string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the Debian mirror: %w", err)
	}
	paras, err := deb822.ParseAll(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range paras {
		uris := strings.Fields(p.Get("URIs"))
		if len(uris) > 0 && slices.Contains(strings.Fields(p.Get("Suites")), suite) {
			return uris[0], nil
		}
	}
	return "", fmt.Errorf("%s: no stanza with suite %s", path, suite)
}

// CacheDir is ${CI_IMAGES_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ci-images}/fidelity, the
// convention of tools/check.
func CacheDir() (string, error) {
	if d := os.Getenv("CI_IMAGES_CACHE"); d != "" {
		return filepath.Join(d, "fidelity"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return filepath.Join(d, "ci-images", "fidelity"), nil
}

// recipe names the way the oracle is built; change it whenever Build changes what it makes,
// so that cached oracles of the old recipe are not used.
const recipe = "fidelity-oracle/1"

// Key is the hash of everything the oracle is made from: the recipe, the mirror and suite,
// debootstrap's version, the phases (package keys and sha256) and the accounts.
func (o *Oracle) Key() string {
	b, err := json.Marshal(struct {
		Recipe, Mirror, Suite, Debootstrap string
		Phases                             []Phase
		Accounts                           Accounts
	}{recipe, o.Mirror, o.Suite, o.DebootstrapVersion, o.Phases, o.Accounts})
	if err != nil {
		// Only strings, slices and structs of them are encoded.
		panic(fmt.Sprintf("fidelity: encoding the oracle's inputs: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
