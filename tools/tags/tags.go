// Package tags computes the tags an image is pushed under, and the repository it is pushed to.
//
// Tags are computed for the push only, from Bazel's workspace status (see ReadStatusFiles):
// they never enter an image, so stamping never changes a digest.
//
//   - dev (the default): <version>-devYYYYmmddHHMM, the UTC minute of BUILD_TIMESTAMP, e.g.
//     16.13-dev202611221530;
//   - release: <version>, the moving tag users pull, plus <version>-v<short commit>, an
//     immutable tag that names exactly the commit the image was built from.
//
// A '~' in a version (betas: 18~beta3) is dropped, as the Citus Makefile does: 18beta3.
// An image that holds every pinned version (pgupgradetester) uses Joined: 16.13-17.9-18.3.
package tags

import (
	"fmt"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/pgversions"
)

// ShortCommitLen is the length of the commit in release tags (git's default abbreviation).
const ShortCommitLen = 7

// Stamp is what a push's tags are computed from.
type Stamp struct {
	// Time is BUILD_TIMESTAMP; dev tags use its UTC minute.
	Time time.Time
	// Release selects the release tags instead of the dev tag.
	Release bool
	// Commit is the git commit (full or abbreviated, hexadecimal); needed for release tags.
	Commit string
}

// Version is a version as written in a tag: "18~beta3" becomes "18beta3".
func Version(v string) string { return pgversions.Pin{Version: v}.TagVersion() }

// Joined is the tag version of an image that holds several versions, in the given order:
// ["16.13", "17.9", "18~beta3"] gives "16.13-17.9-18beta3".
func Joined(versions []string) string {
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = Version(v)
	}
	return strings.Join(parts, "-")
}

// Tags returns the tags of an image of the given version (a Postgres version, a joined one, or an
// image's own version such as a tools release), in a fixed order: the dev tag, or the release
// tag then the commit tag.
func (s Stamp) Tags(version string) ([]string, error) {
	v := Version(version)
	if v == "" {
		return nil, fmt.Errorf("tags: empty version")
	}
	var out []string
	if !s.Release {
		if s.Time.IsZero() {
			return nil, fmt.Errorf("tags: no build timestamp for the dev tag of %s (build with --stamp)", v)
		}
		out = []string{v + "-dev" + s.Time.UTC().Format("200601021504")}
	} else {
		c, err := shortCommit(s.Commit)
		if err != nil {
			return nil, fmt.Errorf("tags: release tags of %s: %w", v, err)
		}
		out = []string{v, v + "-v" + c}
	}
	for _, t := range out {
		if err := Validate(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func shortCommit(c string) (string, error) {
	if c == "" {
		return "", fmt.Errorf("no commit in the workspace status (build with --stamp)")
	}
	if len(c) < ShortCommitLen {
		return "", fmt.Errorf("commit %q is shorter than %d characters", c, ShortCommitLen)
	}
	for _, r := range c {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return "", fmt.Errorf("commit %q is not a lowercase hexadecimal git commit", c)
		}
	}
	return c[:ShortCommitLen], nil
}

// Validate checks a tag against the OCI distribution grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func Validate(tag string) error {
	if tag == "" || len(tag) > 128 {
		return fmt.Errorf("tags: invalid tag %q: want 1 to 128 characters", tag)
	}
	for i, r := range tag {
		word := r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !word && (i == 0 || (r != '.' && r != '-')) {
			return fmt.Errorf("tags: invalid tag %q: character %q at %d (want letters, digits, '_', and '.' or '-' after the first)", tag, r, i)
		}
	}
	return nil
}
