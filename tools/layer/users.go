package layer

import (
	"archive/tar"
	"fmt"
	"slices"

	"github.com/ci-images/ci-images/tools/passwd"
)

// The account database: etc/passwd, etc/group, etc/shadow and etc/gshadow start from
// base-passwd's master files (or a root-only database), gain Effects.Groups and Effects.Users,
// and are written the way shadowconfig/pwconv leaves them: every password moves to the shadow
// files ("*", locked, where it was "x" or empty) and passwd and group say "x". The shadow
// files' last change is the epoch's day; they are mode 0640, group shadow.

// accounts are the records being built.
type accounts struct {
	users  []passwd.User
	groups []passwd.Group
}

// idMaps resolve names to ids and back.
type idMaps struct {
	users    map[string]passwd.User // by name (the last record of a name)
	groups   map[string]int         // gid by name (the last record of a name)
	uidNames map[int]string         // the first name of a uid
	gidNames map[int]string         // the first name of a gid
}

func (m idMaps) userName(uid int) string  { return nameOf(m.uidNames, uid) }
func (m idMaps) groupName(gid int) string { return nameOf(m.gidNames, gid) }

// nameOf returns the name of id: its entry in names, "root" for an unnamed 0, else "".
func nameOf(names map[int]string, id int) string {
	if n, ok := names[id]; ok {
		return n
	}
	if id == 0 {
		return "root"
	}
	return ""
}

// applyUsers builds and writes the account database, and creates the requested home
// directories. The database is not written when there is neither base-passwd nor a user or
// group to add.
func applyUsers(t *tree, fx Effects) (idMaps, error) {
	acc, base, err := loadAccounts(t)
	if err != nil {
		return idMaps{}, err
	}
	if err := acc.addGroups(fx.Groups); err != nil {
		return idMaps{}, err
	}
	if err := acc.addUsers(fx.Users); err != nil {
		return idMaps{}, err
	}
	ids := acc.ids()
	if !base && len(fx.Users) == 0 && len(fx.Groups) == 0 {
		return ids, nil
	}
	acc.write(t, ids)
	for _, u := range fx.Users {
		if u.CreateHome && u.Home != "" {
			id := ids.users[u.Name]
			t.put(&entry{path: t.resolve(u.Home), typ: tar.TypeDir, mode: 0o755, uid: id.UID, gid: id.GID, uname: u.Name, gname: ids.groupName(id.GID)})
		}
	}
	return ids, nil
}

// loadAccounts reads base-passwd's master files; base reports whether either exists.
func loadAccounts(t *tree) (acc accounts, base bool, err error) {
	pw, havePw, err := t.file("/usr/share/base-passwd/passwd.master")
	if err != nil {
		return acc, false, err
	}
	gr, haveGr, err := t.file("/usr/share/base-passwd/group.master")
	if err != nil {
		return acc, false, err
	}
	if !havePw {
		pw = []byte("root:*:0:0:root:/root:/bin/bash\n")
	}
	if !haveGr {
		gr = []byte("root:*:0:\n")
	}
	if acc.users, err = passwd.ParseUsers(pw); err != nil {
		return acc, false, fmt.Errorf("passwd.master: %w", err)
	}
	if acc.groups, err = passwd.ParseGroups(gr); err != nil {
		return acc, false, fmt.Errorf("group.master: %w", err)
	}
	return acc, havePw || haveGr, nil
}

func (a *accounts) group(name string) int {
	return slices.IndexFunc(a.groups, func(g passwd.Group) bool { return g.Name == name })
}

func (a *accounts) addGroups(gs []Group) error {
	for _, g := range gs {
		if a.group(g.Name) >= 0 {
			return fmt.Errorf("group %s already exists", g.Name)
		}
		a.groups = append(a.groups, passwd.Group{Name: g.Name, Password: "x", GID: g.GID, Members: slices.Clone(g.Members)})
	}
	return nil
}

// addUsers adds the users, creating missing primary groups and joining the supplementary
// ones.
func (a *accounts) addUsers(us []User) error {
	for _, u := range us {
		if slices.ContainsFunc(a.users, func(p passwd.User) bool { return p.Name == u.Name }) {
			return fmt.Errorf("user %s already exists", u.Name)
		}
		gname := u.Group
		if gname == "" {
			gname = u.Name
		}
		gid := u.GID
		if i := a.group(gname); i >= 0 {
			gid = a.groups[i].GID
		} else {
			if u.Group == "" && u.GID == 0 {
				gid = u.UID
			}
			a.groups = append(a.groups, passwd.Group{Name: gname, Password: "x", GID: gid})
		}
		for _, sg := range u.Groups {
			i := a.group(sg)
			if i < 0 {
				return fmt.Errorf("user %s: supplementary group %s does not exist", u.Name, sg)
			}
			a.groups[i].Members = append(a.groups[i].Members, u.Name)
		}
		a.users = append(a.users, passwd.User{Name: u.Name, Password: "x", UID: u.UID, GID: gid, Gecos: u.Gecos,
			Home: or(u.Home, "/nonexistent"), Shell: or(u.Shell, "/usr/sbin/nologin")})
	}
	return nil
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a *accounts) ids() idMaps {
	ids := idMaps{users: map[string]passwd.User{}, groups: map[string]int{}, uidNames: map[int]string{}, gidNames: map[int]string{}}
	for _, g := range a.groups {
		ids.groups[g.Name] = g.GID
		if _, ok := ids.gidNames[g.GID]; !ok {
			ids.gidNames[g.GID] = g.Name
		}
	}
	for _, u := range a.users {
		ids.users[u.Name] = u
		if _, ok := ids.uidNames[u.UID]; !ok {
			ids.uidNames[u.UID] = u.Name
		}
	}
	return ids
}

// shadowPassword is the shadow file's password for a record's password.
func shadowPassword(p string) string {
	if p == "x" || p == "" {
		return "*"
	}
	return p
}

// write puts the four files into the tree.
func (a *accounts) write(t *tree, ids idMaps) {
	day := t.epoch.Unix() / 86400
	zero, maxDays, warn := int64(0), int64(99999), int64(7)
	users := slices.Clone(a.users)
	shadows := make([]passwd.Shadow, len(users))
	for i, u := range users {
		shadows[i] = passwd.Shadow{Name: u.Name, Password: shadowPassword(u.Password), LastChange: &day, Min: &zero, Max: &maxDays, Warn: &warn}
		users[i].Password = "x"
	}
	groups := slices.Clone(a.groups)
	gshadows := make([]passwd.GShadow, len(groups))
	for i, g := range groups {
		gshadows[i] = passwd.GShadow{Name: g.Name, Password: shadowPassword(g.Password), Members: g.Members}
		groups[i].Password = "x"
	}
	t.putDir("etc", 0o755)
	t.putFile("etc/passwd", 0o644, passwd.FormatUsers(users))
	t.putFile("etc/group", 0o644, passwd.FormatGroups(groups))
	shadowGID := ids.groups["shadow"] // 0 (root) without a shadow group
	for _, f := range []struct {
		path string
		data []byte
	}{{"etc/shadow", passwd.FormatShadows(shadows)}, {"etc/gshadow", passwd.FormatGShadows(gshadows)}} {
		t.put(&entry{path: f.path, typ: tar.TypeReg, mode: 0o640, gid: shadowGID, uname: "root", gname: ids.groupName(shadowGID), data: f.data})
	}
}
