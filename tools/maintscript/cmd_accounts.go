package maintscript

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ci-images/ci-images/tools/passwd"
)

// accountCommands are the tools that read and change the account database.
func accountCommands() map[string]command {
	return map[string]command{
		"getent": {run: runGetent}, "id": {run: runID},
		"groupadd": {run: runGroupadd}, "useradd": {run: runUseradd},
		"addgroup": {run: runAddgroup}, "adduser": {run: runAdduser},
		"pwconv": {run: runConv(true)}, "grpconv": {run: runConv(false)},
		"pwck": {noEffect: "checks the account files (read-only with -r)"}, "grpck": {noEffect: "checks the account files (read-only with -r)"},
		"update-passwd": {run: runUpdatePasswd},
	}
}

// withAccounts loads the database, applies f and saves it; errors are printed.
func (c *cmdCtx) withAccounts(f func(db *accountDB) error) int {
	db, err := c.sys().loadAccounts()
	if err == nil {
		err = f(db)
	}
	if err == nil {
		err = c.sys().saveAccounts(db)
	}
	if err != nil {
		return c.fail("%v", err)
	}
	return 0
}

func runGetent(c *cmdCtx) int {
	o := parseOpts(c.args, "s", "service")
	if len(o.args) == 0 {
		return c.fail("missing database")
	}
	file := map[string]string{"passwd": passwdFile, "group": groupFile, "shadow": shadowFile, "gshadow": gshadowFile}[o.args[0]]
	if file == "" {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "getent "+o.args[0])
		return 1
	}
	b, _ := c.fs().read("/", file)
	ls := lines(b)
	if len(o.args) == 1 {
		writeLines(c, ls)
		return 0
	}
	status := 0
	for _, key := range o.args[1:] {
		found := false
		for _, l := range ls {
			f := strings.Split(l, ":")
			if f[0] == key || len(f) > 2 && f[2] == key && (file == passwdFile || file == groupFile) {
				fmt.Fprintln(c.stdout, l)
				found = true
				break
			}
		}
		if !found {
			status = 2
		}
	}
	return status
}

func runID(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	name := "root"
	if len(o.args) > 0 {
		name = o.args[0]
	}
	db, err := c.sys().loadAccounts()
	if err != nil {
		return c.fail("%v", err)
	}
	u := db.user(name)
	if u == nil {
		return c.fail("'%s': no such user", name)
	}
	names := o.has("n", "name")
	show := func(id int, nm string) string {
		if names {
			return nm
		}
		return strconv.Itoa(id)
	}
	switch {
	case o.has("u", "user"):
		fmt.Fprintln(c.stdout, show(u.UID, u.Name))
	case o.has("g", "group"):
		fmt.Fprintln(c.stdout, show(u.GID, c.sys().groupName(u.GID)))
	case o.has("G", "groups"):
		out := []string{show(u.GID, c.sys().groupName(u.GID))}
		for _, g := range db.groups {
			if g.GID != u.GID && containsString(g.Members, u.Name) {
				out = append(out, show(g.GID, g.Name))
			}
		}
		fmt.Fprintln(c.stdout, strings.Join(out, " "))
	default:
		fmt.Fprintf(c.stdout, "uid=%d(%s) gid=%d(%s)\n", u.UID, u.Name, u.GID, c.sys().groupName(u.GID))
	}
	return 0
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// freeID returns the first id in [lo, hi] (from hi down when down is set) that taken does not
// hold.
func freeID(taken func(int) bool, lo, hi int, down bool) (int, bool) {
	for i := 0; i <= hi-lo; i++ {
		id := lo + i
		if down {
			id = hi - i
		}
		if !taken(id) {
			return id, true
		}
	}
	return 0, false
}

func (db *accountDB) uidTaken(id int) bool {
	for _, u := range db.users {
		if u.UID == id {
			return true
		}
	}
	return false
}

func (db *accountDB) gidTaken(id int) bool {
	for _, g := range db.groups {
		if g.GID == id {
			return true
		}
	}
	return false
}

func runGroupadd(c *cmdCtx) int {
	o := parseOpts(c.args, "gKp", "gid", "key", "password")
	if len(o.args) != 1 {
		return c.fail("wrong number of arguments")
	}
	return c.withAccounts(func(db *accountDB) error {
		if db.group(o.args[0]) != nil && o.has("f", "force") {
			return nil
		}
		gid, err := pickID(o, []string{"g", "gid"}, db.gidTaken, o.has("r", "system"))
		if err != nil {
			return err
		}
		return c.sys().addGroup(db, o.args[0], gid)
	})
}

// pickID returns the id the option names give, or a free one: system ids from 999 down,
// others from 1000 up (login.defs).
func pickID(o opts, names []string, taken func(int) bool, system bool) (int, error) {
	if v, ok := o.get(names...); ok {
		return strconv.Atoi(v)
	}
	lo, hi := 1000, 60000
	if system {
		lo, hi = 100, 999
	}
	id, ok := freeID(taken, lo, hi, system)
	if !ok {
		return 0, fmt.Errorf("no free id")
	}
	return id, nil
}

func runUseradd(c *cmdCtx) int {
	o := parseOpts(c.args, "ugGcdsekKp", "uid", "gid", "groups", "comment", "home-dir", "shell", "expiredate", "key", "password")
	if len(o.args) != 1 {
		return c.fail("wrong number of arguments")
	}
	name := o.args[0]
	system := o.has("r", "system")
	return c.withAccounts(func(db *accountDB) error {
		uid, err := pickID(o, []string{"u", "uid"}, db.uidTaken, system)
		if err != nil {
			return err
		}
		gid, err := c.sys().primaryGroup(db, o, name, uid, system)
		if err != nil {
			return err
		}
		gecos, _ := o.get("c", "comment")
		home, ok := o.get("d", "home-dir")
		if !ok {
			home = "/home/" + name
		}
		shell, ok := o.get("s", "shell")
		if !ok {
			shell = "/bin/sh"
		}
		if err := c.sys().addUser(db, passwd.User{Name: name, UID: uid, GID: gid, Gecos: gecos, Home: home, Shell: shell}, system); err != nil {
			return err
		}
		if gs, ok := o.get("G", "groups"); ok && gs != "" {
			for _, g := range strings.Split(gs, ",") {
				if err := db.addMember(g, name); err != nil {
					return err
				}
			}
		}
		if o.has("m", "create-home") {
			return c.sys().makeHome(home, uid, gid)
		}
		return nil
	})
}

// primaryGroup returns useradd's primary group: -g, else a new group named after the user
// (USERGROUPS_ENAB), with the uid as gid when that is free.
func (s *System) primaryGroup(db *accountDB, o opts, name string, uid int, system bool) (int, error) {
	if g, ok := o.get("g", "gid"); ok {
		if gr := db.group(g); gr != nil {
			return gr.GID, nil
		}
		return strconv.Atoi(g)
	}
	if gr := db.group(name); gr != nil {
		return gr.GID, nil
	}
	gid := uid
	if db.gidTaken(gid) {
		var ok bool
		if gid, ok = freeID(db.gidTaken, 100, 999, system); !ok {
			return 0, fmt.Errorf("no free gid")
		}
	}
	return gid, s.addGroup(db, name, gid)
}

// makeHome creates a home directory (0755) owned by the user.
func (s *System) makeHome(home string, uid, gid int) error {
	if err := s.fs.mkdirAll("/", home, 0o755); err != nil {
		return err
	}
	return s.fs.setMeta("/", home, true, 0o755, uid, gid)
}
