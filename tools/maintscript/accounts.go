package maintscript

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/ci-images/ci-images/tools/passwd"
)

// The account database as the shadow tools (useradd, groupadd, pwconv, grpconv) and adduser
// change it: the four files are read, changed and written back; a shadow file is only
// written when it exists (or pwconv and grpconv create it).

const (
	passwdFile  = "/etc/passwd"
	groupFile   = "/etc/group"
	shadowFile  = "/etc/shadow"
	gshadowFile = "/etc/gshadow"
)

// accountDB is the content of the account files.
type accountDB struct {
	users             []passwd.User
	groups            []passwd.Group
	shadows           []passwd.Shadow
	gshadows          []passwd.GShadow
	hasShadow, hasGSh bool
}

// loadAccounts reads the account files (missing ones are empty).
func (s *System) loadAccounts() (*accountDB, error) {
	db := &accountDB{}
	read := func(p string) ([]byte, bool) {
		b, err := s.fs.read("/", p)
		return b, err == nil
	}
	var err error
	if b, ok := read(passwdFile); ok {
		if db.users, err = passwd.ParseUsers(b); err != nil {
			return nil, fmt.Errorf("%s: %w", passwdFile, err)
		}
	}
	if b, ok := read(groupFile); ok {
		if db.groups, err = passwd.ParseGroups(b); err != nil {
			return nil, fmt.Errorf("%s: %w", groupFile, err)
		}
	}
	var b []byte
	if b, db.hasShadow = read(shadowFile); db.hasShadow {
		if db.shadows, err = passwd.ParseShadows(b); err != nil {
			return nil, fmt.Errorf("%s: %w", shadowFile, err)
		}
	}
	if b, db.hasGSh = read(gshadowFile); db.hasGSh {
		if db.gshadows, err = passwd.ParseGShadows(b); err != nil {
			return nil, fmt.Errorf("%s: %w", gshadowFile, err)
		}
	}
	return db, nil
}

// save writes the files back (new files 0644, new shadow files 0640 root:shadow).
func (s *System) saveAccounts(db *accountDB) error {
	if err := s.fs.write("/", passwdFile, passwd.FormatUsers(db.users), 0o644, false); err != nil {
		return err
	}
	if err := s.fs.write("/", groupFile, passwd.FormatGroups(db.groups), 0o644, false); err != nil {
		return err
	}
	shadowGID := -1
	if g := db.group("shadow"); g != nil {
		shadowGID = g.GID
	}
	for _, f := range []struct {
		name string
		has  bool
		data []byte
	}{{shadowFile, db.hasShadow, passwd.FormatShadows(db.shadows)}, {gshadowFile, db.hasGSh, passwd.FormatGShadows(db.gshadows)}} {
		if !f.has {
			continue
		}
		existed := s.fs.exists("/", f.name)
		if err := s.fs.write("/", f.name, f.data, 0o640, false); err != nil {
			return err
		}
		if !existed && shadowGID >= 0 {
			s.fs.setMeta("/", f.name, true, -1, -1, shadowGID)
		}
	}
	return nil
}

func (db *accountDB) user(name string) *passwd.User {
	for i := range db.users {
		if db.users[i].Name == name {
			return &db.users[i]
		}
	}
	return nil
}

func (db *accountDB) group(name string) *passwd.Group {
	for i := range db.groups {
		if db.groups[i].Name == name {
			return &db.groups[i]
		}
	}
	return nil
}

// lastChange is the shadow day of a password change made at the installation time: none
// for day 0 (the shadow tools disable aging rather than force a change on 1970-01-01).
func (s *System) lastChange() *int64 {
	day := s.opts.Epoch.Unix() / 86400
	if day <= 0 {
		return nil
	}
	return &day
}

// addGroup is groupadd: a group with a locked ("!") gshadow password.
func (s *System) addGroup(db *accountDB, name string, gid int) error {
	if db.group(name) != nil {
		return fmt.Errorf("group '%s' already exists", name)
	}
	db.groups = append(db.groups, passwd.Group{Name: name, Password: "x", GID: gid})
	if db.hasGSh {
		db.gshadows = append(db.gshadows, passwd.GShadow{Name: name, Password: "!"})
	}
	return nil
}

// addUser is useradd: system accounts (system) get no password aging, others the defaults
// of login.defs (0, 99999, 7).
func (s *System) addUser(db *accountDB, u passwd.User, system bool) error {
	if db.user(u.Name) != nil {
		return fmt.Errorf("user '%s' already exists", u.Name)
	}
	u.Password = "x"
	db.users = append(db.users, u)
	if db.hasShadow {
		sh := passwd.Shadow{Name: u.Name, Password: "!", LastChange: s.lastChange()}
		if !system {
			zero, max, warn := int64(0), int64(99999), int64(7)
			sh.Min, sh.Max, sh.Warn = &zero, &max, &warn
		}
		db.shadows = append(db.shadows, sh)
	}
	return nil
}

// addMember adds user to the member lists of group (group and gshadow).
func (db *accountDB) addMember(group, user string) error {
	g := db.group(group)
	if g == nil {
		return fmt.Errorf("group '%s' does not exist", group)
	}
	if !slices.Contains(g.Members, user) {
		g.Members = append(g.Members, user)
	}
	for i := range db.gshadows {
		if db.gshadows[i].Name == group && !slices.Contains(db.gshadows[i].Members, user) {
			db.gshadows[i].Members = append(db.gshadows[i].Members, user)
		}
	}
	return nil
}

// pwconv creates the shadow entries of users that have none, moving their passwords.
func (s *System) pwconv(db *accountDB) {
	db.hasShadow = true
	zero, max, warn := int64(0), int64(99999), int64(7)
	for i, u := range db.users {
		if !slices.ContainsFunc(db.shadows, func(sh passwd.Shadow) bool { return sh.Name == u.Name }) {
			db.shadows = append(db.shadows, passwd.Shadow{Name: u.Name, Password: u.Password, LastChange: s.lastChange(), Min: &zero, Max: &max, Warn: &warn})
		}
		db.users[i].Password = "x"
	}
}

// grpconv creates the gshadow entries of groups that have none, moving their passwords.
func (s *System) grpconv(db *accountDB) {
	db.hasGSh = true
	for i, g := range db.groups {
		if !slices.ContainsFunc(db.gshadows, func(gs passwd.GShadow) bool { return gs.Name == g.Name }) {
			db.gshadows = append(db.gshadows, passwd.GShadow{Name: g.Name, Password: g.Password, Members: slices.Clone(g.Members)})
		}
		db.groups[i].Password = "x"
	}
}

// userID resolves a user name (or number) against the image's etc/passwd; root is 0 also
// without one.
func (s *System) userID(name string) (int, bool) {
	return s.accountID(name, func(db *accountDB) (int, bool) {
		if u := db.user(name); u != nil {
			return u.UID, true
		}
		return 0, false
	})
}

// groupID resolves a group name (or number) against the image's etc/group; root is 0 also
// without one.
func (s *System) groupID(name string) (int, bool) {
	return s.accountID(name, func(db *accountDB) (int, bool) {
		if g := db.group(name); g != nil {
			return g.GID, true
		}
		return 0, false
	})
}

// accountID is a number as it is, root as 0, anything else looked up in the account database.
func (s *System) accountID(name string, lookup func(*accountDB) (int, bool)) (int, bool) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, true
	}
	if name == "root" {
		return 0, true
	}
	db, err := s.loadAccounts()
	if err != nil {
		return 0, false
	}
	return lookup(db)
}

// userName returns the name of uid (the number when it has none).
func (s *System) userName(uid int) string {
	if db, err := s.loadAccounts(); err == nil {
		for _, u := range db.users {
			if u.UID == uid {
				return u.Name
			}
		}
	}
	return strconv.Itoa(uid)
}

// groupName returns the name of gid (the number when it has none).
func (s *System) groupName(gid int) string {
	if db, err := s.loadAccounts(); err == nil {
		for _, g := range db.groups {
			if g.GID == gid {
				return g.Name
			}
		}
	}
	return strconv.Itoa(gid)
}
