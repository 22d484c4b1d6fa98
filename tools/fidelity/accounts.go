package fidelity

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Group is a group of the image's own (not one of base-passwd's).
type Group struct {
	Name string
	GID  int
}

// User is a user of the image's own, with its supplementary groups.
type User struct {
	Name               string
	UID, GID           int
	Gecos, Home, Shell string
	Groups             []string
}

// Accounts are the users and groups an image defines beyond base-passwd's master files. The
// oracle creates them with the same ids before the packages that use them are installed.
type Accounts struct {
	Groups []Group
	Users  []User
}

// Empty reports whether there is nothing to create.
func (a Accounts) Empty() bool { return len(a.Groups) == 0 && len(a.Users) == 0 }

// AccountFiles are the account databases an image's accounts are read from.
type AccountFiles struct {
	// Passwd and Group are etc/passwd and etc/group; PasswdMaster and GroupMaster are
	// base-passwd's usr/share/base-passwd/{passwd,group}.master.
	Passwd, Group, PasswdMaster, GroupMaster []byte
}

// ImageAccounts returns the users and groups of f.Passwd and f.Group that the master files do
// not hold, sorted by id.
func ImageAccounts(f AccountFiles) (Accounts, error) {
	var a Accounts
	users, err := parseColons(f.Passwd, 7)
	if err != nil {
		return a, fmt.Errorf("etc/passwd: %w", err)
	}
	groups, err := parseColons(f.Group, 4)
	if err != nil {
		return a, fmt.Errorf("etc/group: %w", err)
	}
	masterUsers, err := parseColons(f.PasswdMaster, 7)
	if err != nil {
		return a, fmt.Errorf("passwd.master: %w", err)
	}
	masterGroups, err := parseColons(f.GroupMaster, 4)
	if err != nil {
		return a, fmt.Errorf("group.master: %w", err)
	}
	member := map[string][]string{}
	for _, g := range groups {
		for _, m := range strings.Split(g[3], ",") {
			if m != "" {
				member[m] = append(member[m], g[0])
			}
		}
		if _, ok := masterGroups[g[0]]; !ok {
			gid, err := strconv.Atoi(g[2])
			if err != nil {
				return a, fmt.Errorf("etc/group: %s: bad gid %q", g[0], g[2])
			}
			a.Groups = append(a.Groups, Group{Name: g[0], GID: gid})
		}
	}
	for _, u := range users {
		if _, ok := masterUsers[u[0]]; ok {
			continue
		}
		uid, err1 := strconv.Atoi(u[2])
		gid, err2 := strconv.Atoi(u[3])
		if err1 != nil || err2 != nil {
			return a, fmt.Errorf("etc/passwd: %s: bad uid or gid", u[0])
		}
		a.Users = append(a.Users, User{Name: u[0], UID: uid, GID: gid, Gecos: u[4], Home: u[5], Shell: u[6], Groups: member[u[0]]})
	}
	sort.Slice(a.Groups, func(i, j int) bool { return a.Groups[i].GID < a.Groups[j].GID })
	sort.Slice(a.Users, func(i, j int) bool { return a.Users[i].UID < a.Users[j].UID })
	return a, nil
}

// parseColons parses lines of n colon-separated fields into a map by their first field.
func parseColons(data []byte, n int) (map[string][]string, error) {
	out := map[string][]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != n {
			return nil, fmt.Errorf("line %d: %d fields, want %d", i+1, len(f), n)
		}
		out[f[0]] = f
	}
	return out, nil
}

// Script is the shell script that creates the accounts with groupadd and useradd (system
// accounts, -r, below id 1000; no home directories are created: packages own theirs).
func (a Accounts) Script() string {
	var b strings.Builder
	for _, g := range a.Groups {
		fmt.Fprintf(&b, "groupadd%s -g %d %s\n", systemFlag(g.GID), g.GID, shellQuote(g.Name))
	}
	for _, u := range a.Users {
		fmt.Fprintf(&b, "useradd%s -M -u %d -g %d -c %s -d %s -s %s", systemFlag(u.UID), u.UID, u.GID,
			shellQuote(u.Gecos), shellQuote(u.Home), shellQuote(u.Shell))
		if len(u.Groups) > 0 {
			fmt.Fprintf(&b, " -G %s", shellQuote(strings.Join(u.Groups, ",")))
		}
		fmt.Fprintf(&b, " %s\n", shellQuote(u.Name))
	}
	return b.String()
}

func systemFlag(id int) string {
	if id < 1000 {
		return " -r"
	}
	return ""
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
