// Package fsdiff compares two root file systems entry by entry: path, type, mode (permission,
// setuid, setgid and sticky bits), owner and group ids, symlink target, device numbers and the
// sha256 of regular files. Modification times are not compared.
//
// A tree is read from a directory (ReadDir) or from a tar stream of a flattened file system
// (ReadTar; hard links count as regular files, as they do in a directory). Compare takes the
// tree that is wanted (the oracle) and the tree that was made (the image) and sorts every
// difference into allowed ones, each under the Category of the Rule or Normalizer that explains
// it, and unexplained ones. A Rule explains only the Aspects it names, so "the log file's
// content differs" can be allowed without also allowing "the log file is missing". A Normalizer
// rewrites a file's content before hashing (for example the date of the last password change in
// etc/shadow), so that only the part it names is ignored.
//
// Debian returns the allow-list for a Debian image compared with a debootstrap + apt-get chroot
// of the same packages; every entry carries a category and a reason.
package fsdiff

import (
	"fmt"
	"sort"
	"strings"
)

// Kind is the type of a file system entry.
type Kind string

// Entry kinds.
const (
	Dir     Kind = "dir"
	File    Kind = "file"
	Symlink Kind = "symlink"
	CharDev Kind = "char"
	Block   Kind = "block"
	FIFO    Kind = "fifo"
	Socket  Kind = "socket"
)

// Entry is one file system entry.
type Entry struct {
	// Path is slash-separated and relative to the root ("etc/passwd"); the root itself is
	// never an entry.
	Path string
	Kind Kind
	// Mode holds the permission, setuid, setgid and sticky bits (07777).
	Mode     uint32
	UID, GID int
	// Link is a symlink's target.
	Link string
	// Dev is "major,minor" for character and block devices.
	Dev string
	// Size and SHA256 (hex) describe a regular file's content.
	Size   int64
	SHA256 string
	// NormSHA256 is the sha256 of the content after the ReadOptions.Normalizers that apply
	// to Path ("" when none applies).
	NormSHA256 string
	// NormSHA256s are, when several normalizers apply, the sha256 after each of them alone,
	// in order.
	NormSHA256s []string
	// Body is the content, kept only when ReadOptions.Keep asks for it.
	Body []byte
}

// String describes the entry in one short line: "file 0644 0:0 sha256:abcd1234 (12 bytes)".
func (e *Entry) String() string {
	s := fmt.Sprintf("%s %04o %d:%d", e.Kind, e.Mode, e.UID, e.GID)
	switch e.Kind {
	case File:
		s += fmt.Sprintf(" sha256:%.12s (%d bytes)", e.SHA256, e.Size)
	case Symlink:
		s += " -> " + e.Link
	case CharDev, Block:
		s += " " + e.Dev
	}
	return s
}

// Tree is a file system: entries by path.
type Tree map[string]*Entry

// Paths returns the tree's paths, sorted.
func (t Tree) Paths() []string {
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Aspect is one way in which two entries at the same path differ.
type Aspect string

// Aspects, in the order a Diff lists them.
const (
	// Missing: the entry is only in the wanted tree.
	Missing Aspect = "missing"
	// Extra: the entry is only in the tree that was made.
	Extra Aspect = "extra"
	// Type: the kinds differ (nothing else is compared then).
	Type Aspect = "type"
	// Mode: the permission, setuid, setgid or sticky bits differ.
	Mode Aspect = "mode"
	// Owner: the uid or gid differs.
	Owner Aspect = "owner"
	// Link: the symlink targets differ.
	Link Aspect = "link"
	// Content: the sha256 of a regular file, or a device's numbers, differ.
	Content Aspect = "content"
)

// Diff is a difference at one path.
type Diff struct {
	Path    string
	Aspects []Aspect
	// Want and Got are the entries of the wanted tree and of the tree that was made (nil
	// when missing there).
	Want, Got *Entry
	// Category and Reason say why the difference is allowed ("" when it is unexplained).
	Category Category
	Reason   string
}

// Has reports whether d has aspect a.
func (d Diff) Has(a Aspect) bool {
	for _, x := range d.Aspects {
		if x == a {
			return true
		}
	}
	return false
}

// String describes the difference in one line, e.g.
// "mode,owner usr/bin/x: want file 4755 0:0 ..., got file 0755 0:0 ...".
func (d Diff) String() string {
	var as []string
	for _, a := range d.Aspects {
		as = append(as, string(a))
	}
	s := strings.Join(as, ",") + " " + d.Path
	switch {
	case d.Want == nil:
		return s + ": got " + d.Got.String()
	case d.Got == nil:
		return s + ": want " + d.Want.String()
	}
	return s + ": want " + d.Want.String() + ", got " + d.Got.String()
}

// aspects returns how want and got differ (nil when they are equal).
func aspects(want, got *Entry) []Aspect {
	switch {
	case got == nil:
		return []Aspect{Missing}
	case want == nil:
		return []Aspect{Extra}
	case want.Kind != got.Kind:
		return []Aspect{Type}
	}
	var as []Aspect
	if want.Mode != got.Mode {
		as = append(as, Mode)
	}
	if want.UID != got.UID || want.GID != got.GID {
		as = append(as, Owner)
	}
	if want.Link != got.Link {
		as = append(as, Link)
	}
	if want.SHA256 != got.SHA256 || want.Dev != got.Dev {
		as = append(as, Content)
	}
	return as
}
