package layer

import (
	"archive/tar"
	"fmt"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
)

// Effects are the results of maintainer scripts, reproduced declaratively (no script is run).
// The JSON names are those of the deb_layer configuration.
//
// Locales are not compiled here (that is localedef, run by the locales postinst): C.UTF-8 is
// built into bookworm's libc-bin (usr/lib/locale/C.utf8), and the declarative way to other
// locales is the locales-all package, which ships them precompiled.
type Effects struct {
	// Users and Groups are added to etc/passwd, etc/group, etc/shadow and etc/gshadow
	// (users.go). The files start from base-passwd's master files
	// (usr/share/base-passwd/{passwd,group}.master) when that package is in the set, else from
	// a root-only database; they are written whenever base-passwd is present or Users/Groups
	// are given.
	Users  []User  `json:"users"`
	Groups []Group `json:"groups"`
	// Dirs are directories created (or whose mode/owner is set) after the packages are
	// unpacked, e.g. var/run/postgresql 2777 postgres.
	Dirs []Dir `json:"dirs"`
	// Alternatives reproduces update-alternatives (alternatives.go).
	Alternatives bool `json:"alternatives"`
	// CACertificates generates the CA bundle like update-ca-certificates (cacerts.go).
	CACertificates bool `json:"ca_certificates"`
	// Diversions are dpkg-divert diversions declared by the caller, for calls the scripts make
	// in a way that cannot be read statically (dash's postinst diverts /bin/sh to
	// /bin/sh.distrib through shell functions). They are applied like the diversions read
	// from the scripts (diversions.go), which are always applied.
	Diversions []maintscript.Diversion `json:"diversions"`
}

// User is a user to add. Home and Shell default to /nonexistent and /usr/sbin/nologin. GID
// defaults to the group named Group, or to a group with the user's name created with GID =
// UID when Group is empty.
type User struct {
	Name       string   `json:"name"`
	UID        int      `json:"uid"`
	GID        int      `json:"gid"`
	Group      string   `json:"group"`  // primary group name (created if missing)
	Groups     []string `json:"groups"` // supplementary groups (must exist)
	Gecos      string   `json:"gecos"`
	Home       string   `json:"home"`
	Shell      string   `json:"shell"`
	CreateHome bool     `json:"create_home"` // create Home owned by the user, mode 0755
}

// Group is a group to add.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members"`
}

// Dir is a directory with an explicit mode and owner. Owner and Group are names resolved
// against the generated passwd/group ("" for root).
type Dir struct {
	Path  string `json:"path"`
	Mode  int64  `json:"mode"`
	Owner string `json:"owner"`
	Group string `json:"group"`
}

// effectInput reports whether the effects may read the body of the file at output path p;
// bodies of files that are not written into the layer (Options.Installed) are kept only for
// these.
func effectInput(p string) bool {
	return strings.HasPrefix(p, "usr/share/base-passwd/") || strings.HasPrefix(p, "usr/share/ca-certificates/") || p == "etc/ca-certificates.conf"
}

// applyEffects applies the effects in a fixed order: accounts, alternatives, CA bundle,
// directories.
func applyEffects(t *tree, fx Effects) ([]string, error) {
	var warnings []string
	ids, err := applyUsers(t, fx)
	if err != nil {
		return nil, err
	}
	if fx.Alternatives {
		warnings = append(warnings, applyAlternatives(t)...)
	}
	if fx.CACertificates {
		if err := applyCACerts(t); err != nil {
			return nil, err
		}
	}
	for _, d := range fx.Dirs {
		if err := applyDir(t, d, ids); err != nil {
			return nil, err
		}
	}
	return warnings, nil
}

// applyDir creates directory d (or sets its mode and owner).
func applyDir(t *tree, d Dir, ids idMaps) error {
	uid, gid := 0, 0
	if d.Owner != "" {
		u, ok := ids.users[d.Owner]
		if !ok {
			return fmt.Errorf("dir %s: unknown user %q", d.Path, d.Owner)
		}
		uid, gid = u.UID, u.GID
	}
	if d.Group != "" {
		g, ok := ids.groups[d.Group]
		if !ok {
			return fmt.Errorf("dir %s: unknown group %q", d.Path, d.Group)
		}
		gid = g
	}
	t.put(&entry{path: t.resolve(d.Path), typ: tar.TypeDir, mode: d.Mode, uid: uid, gid: gid, uname: ids.userName(uid), gname: ids.groupName(gid)})
	return nil
}
