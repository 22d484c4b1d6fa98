package maintscript

import (
	"fmt"
	"strconv"

	"github.com/ci-images/ci-images/tools/passwd"
)

// adduser and addgroup (Debian's adduser package): system accounts take the first free id
// from 100 up (FIRST_SYSTEM_UID), a system user's primary group is nogroup unless --group or
// --ingroup says otherwise, and "adduser USER GROUP" adds a member. An account that exists
// already is left as it is.

// adduserValued are the long options of adduser and addgroup that take a value.
func adduserValued() []string {
	return []string{"home", "shell", "ingroup", "gecos", "uid", "gid", "firstuid", "lastuid", "conf", "comment"}
}

func runAddgroup(c *cmdCtx) int {
	o := parseOpts(c.args, "", adduserValued()...)
	if len(o.args) == 2 {
		return c.withAccounts(func(db *accountDB) error { return db.addMember(o.args[1], o.args[0]) })
	}
	if len(o.args) != 1 {
		return c.fail("wrong number of arguments")
	}
	return c.withAccounts(func(db *accountDB) error {
		if db.group(o.args[0]) != nil {
			return nil
		}
		gid, err := adduserID(o, "gid", db.gidTaken, o.has("system"))
		if err != nil {
			return err
		}
		return c.sys().addGroup(db, o.args[0], gid)
	})
}

// adduserID is the id --NAME gives, or the first free one (system: 100-999, else 1000-59999).
func adduserID(o opts, name string, taken func(int) bool, system bool) (int, error) {
	if v, ok := o.get(name); ok {
		return strconv.Atoi(v)
	}
	lo, hi := 1000, 59999
	if system {
		lo, hi = 100, 999
	}
	id, ok := freeID(taken, lo, hi, false)
	if !ok {
		return 0, fmt.Errorf("no free id")
	}
	return id, nil
}

func runAdduser(c *cmdCtx) int {
	o := parseOpts(c.args, "", adduserValued()...)
	if len(o.args) == 2 && !o.has("system") {
		return c.withAccounts(func(db *accountDB) error { return db.addMember(o.args[1], o.args[0]) })
	}
	if len(o.args) != 1 {
		return c.fail("wrong number of arguments")
	}
	name := o.args[0]
	system := o.has("system")
	return c.withAccounts(func(db *accountDB) error {
		if db.user(name) != nil {
			return nil
		}
		uid, err := adduserID(o, "uid", db.uidTaken, system)
		if err != nil {
			return err
		}
		gid, err := adduserGroup(c.sys(), db, o, name, uid, system)
		if err != nil {
			return err
		}
		home, ok := o.get("home")
		if !ok {
			home = "/home/" + name
			if system {
				home = "/nonexistent"
			}
		}
		shell, ok := o.get("shell")
		if !ok {
			shell = "/bin/bash"
			if system {
				shell = "/usr/sbin/nologin"
			}
		}
		gecos, _ := o.get("gecos", "comment")
		if err := c.sys().addUser(db, passwd.User{Name: name, UID: uid, GID: gid, Gecos: gecos, Home: home, Shell: shell}, system); err != nil {
			return err
		}
		if home != "/nonexistent" && !o.has("no-create-home") {
			return c.sys().makeHome(home, uid, gid)
		}
		return nil
	})
}

// adduserGroup returns the primary group of a new user, creating it when needed.
func adduserGroup(s *System, db *accountDB, o opts, name string, uid int, system bool) (int, error) {
	if g, ok := o.get("ingroup"); ok {
		gr := db.group(g)
		if gr == nil {
			return 0, fmt.Errorf("the group '%s' does not exist", g)
		}
		return gr.GID, nil
	}
	if v, ok := o.get("gid"); ok {
		return strconv.Atoi(v)
	}
	if system && !o.has("group") {
		if gr := db.group("nogroup"); gr != nil {
			return gr.GID, nil
		}
		return 65534, nil
	}
	if gr := db.group(name); gr != nil {
		return gr.GID, nil
	}
	gid := uid
	if db.gidTaken(gid) {
		var err error
		if gid, err = adduserID(opts{set: map[string]string{}}, "gid", db.gidTaken, system); err != nil {
			return 0, err
		}
	}
	return gid, s.addGroup(db, name, gid)
}

// runConv is pwconv and grpconv.
func runConv(users bool) func(c *cmdCtx) int {
	return func(c *cmdCtx) int {
		return c.withAccounts(func(db *accountDB) error {
			if users {
				c.sys().pwconv(db)
			} else {
				c.sys().grpconv(db)
			}
			return nil
		})
	}
}

// runUpdatePasswd is base-passwd's update-passwd: the accounts of the master files that the
// system lacks are added (nothing else is changed; with --dry-run nothing at all).
func runUpdatePasswd(c *cmdCtx) int {
	o := parseOpts(c.args, "PGSL", "passwd", "group", "shadow", "lock")
	mp, err1 := c.fs().read("/", "/usr/share/base-passwd/passwd.master")
	mg, err2 := c.fs().read("/", "/usr/share/base-passwd/group.master")
	if err1 != nil || err2 != nil {
		return c.fail("cannot read the master files")
	}
	users, err1 := passwd.ParseUsers(mp)
	groups, err2 := passwd.ParseGroups(mg)
	if err1 != nil || err2 != nil {
		return c.fail("cannot parse the master files")
	}
	changed := false
	status := c.withAccounts(func(db *accountDB) error {
		for _, g := range groups {
			if db.group(g.Name) == nil {
				changed = true
				db.groups = append(db.groups, g)
			}
		}
		for _, u := range users {
			if db.user(u.Name) == nil {
				changed = true
				db.users = append(db.users, u)
			}
		}
		if o.has("n", "dry-run") && changed {
			return fmt.Errorf("would add accounts")
		}
		return nil
	})
	return status
}

// CreateGroup adds a group as `groupadd -r -g GID NAME` would, with members (useradd -G).
func (s *System) CreateGroup(name string, gid int, members []string) error {
	db, err := s.loadAccounts()
	if err != nil {
		return err
	}
	if err := s.addGroup(db, name, gid); err != nil {
		return err
	}
	for _, m := range members {
		if err := db.addMember(name, m); err != nil {
			return err
		}
	}
	return s.saveAccounts(db)
}

// CreateUser adds a user as `useradd [-r] -u UID -g GID -c GECOS -d HOME -s SHELL -G GROUPS`
// would (system accounts, below uid 1000, get no password aging), creating the primary
// group group when it does not exist (with gid, or the uid when gid is 0).
func (s *System) CreateUser(u passwd.User, group string, groups []string) error {
	db, err := s.loadAccounts()
	if err != nil {
		return err
	}
	if g := db.group(group); g != nil {
		u.GID = g.GID
	} else {
		if u.GID == 0 {
			u.GID = u.UID
		}
		if err := s.addGroup(db, group, u.GID); err != nil {
			return err
		}
	}
	if err := s.addUser(db, u, u.UID < 1000); err != nil {
		return err
	}
	for _, g := range groups {
		if err := db.addMember(g, u.Name); err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	return s.saveAccounts(db)
}
