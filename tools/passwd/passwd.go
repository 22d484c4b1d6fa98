// Package passwd parses and writes the account databases: /etc/passwd, /etc/group,
// /etc/shadow and /etc/gshadow (and base-passwd's passwd.master and group.master, which have
// the same syntax). Each file has one record type with one parse and one format; parsing skips
// empty lines and lines starting with '#'.
package passwd

import (
	"fmt"
	"strconv"
	"strings"
)

// User is a passwd(5) record.
type User struct {
	Name, Password string
	UID, GID       int
	Gecos          string
	Home, Shell    string
}

// Group is a group(5) record.
type Group struct {
	Name, Password string
	GID            int
	Members        []string
}

// Shadow is a shadow(5) record. Nil numbers are empty fields; numbers count days (since
// 1970-01-01 for LastChange and Expire).
type Shadow struct {
	Name, Password             string
	LastChange, Min, Max, Warn *int64
	Inactive, Expire           *int64
	Reserved                   string
}

// GShadow is a gshadow(5) record.
type GShadow struct {
	Name, Password  string
	Admins, Members []string
}

// ParseUsers parses a passwd file.
func ParseUsers(data []byte) ([]User, error) {
	return parse(data, 7, func(f []string) (User, error) {
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return User{}, fmt.Errorf("user %s: bad uid/gid %q/%q", f[0], f[2], f[3])
		}
		return User{Name: f[0], Password: f[1], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]}, nil
	})
}

// FormatUsers returns the passwd file of us.
func FormatUsers(us []User) []byte {
	return format(us, func(u User) []string {
		return []string{u.Name, u.Password, strconv.Itoa(u.UID), strconv.Itoa(u.GID), u.Gecos, u.Home, u.Shell}
	})
}

// ParseGroups parses a group file.
func ParseGroups(data []byte) ([]Group, error) {
	return parse(data, 4, func(f []string) (Group, error) {
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return Group{}, fmt.Errorf("group %s: bad gid %q", f[0], f[2])
		}
		return Group{Name: f[0], Password: f[1], GID: gid, Members: splitList(f[3])}, nil
	})
}

// FormatGroups returns the group file of gs.
func FormatGroups(gs []Group) []byte {
	return format(gs, func(g Group) []string {
		return []string{g.Name, g.Password, strconv.Itoa(g.GID), strings.Join(g.Members, ",")}
	})
}

// ParseShadows parses a shadow file.
func ParseShadows(data []byte) ([]Shadow, error) {
	return parse(data, 9, func(f []string) (Shadow, error) {
		s := Shadow{Name: f[0], Password: f[1], Reserved: f[8]}
		for i, p := range []**int64{&s.LastChange, &s.Min, &s.Max, &s.Warn, &s.Inactive, &s.Expire} {
			n, err := parseOptional(f[2+i])
			if err != nil {
				return Shadow{}, fmt.Errorf("shadow %s: field %d: %w", f[0], 3+i, err)
			}
			*p = n
		}
		return s, nil
	})
}

// FormatShadows returns the shadow file of ss.
func FormatShadows(ss []Shadow) []byte {
	return format(ss, func(s Shadow) []string {
		return []string{s.Name, s.Password, formatOptional(s.LastChange), formatOptional(s.Min), formatOptional(s.Max),
			formatOptional(s.Warn), formatOptional(s.Inactive), formatOptional(s.Expire), s.Reserved}
	})
}

// ParseGShadows parses a gshadow file.
func ParseGShadows(data []byte) ([]GShadow, error) {
	return parse(data, 4, func(f []string) (GShadow, error) {
		return GShadow{Name: f[0], Password: f[1], Admins: splitList(f[2]), Members: splitList(f[3])}, nil
	})
}

// FormatGShadows returns the gshadow file of gs.
func FormatGShadows(gs []GShadow) []byte {
	return format(gs, func(g GShadow) []string {
		return []string{g.Name, g.Password, strings.Join(g.Admins, ","), strings.Join(g.Members, ",")}
	})
}

// parse splits data into records of n colon-separated fields and converts each.
func parse[T any](data []byte, n int, record func([]string) (T, error)) ([]T, error) {
	var out []T
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != n {
			return nil, fmt.Errorf("line %d: %d fields, want %d: %q", i+1, len(f), n, line)
		}
		r, err := record(f)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// format writes one line of colon-separated fields per record.
func format[T any](rs []T, fields func(T) []string) []byte {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(strings.Join(fields(r), ":"))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// splitList splits a comma-separated list; the empty string is the empty list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseOptional(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func formatOptional(n *int64) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(*n, 10)
}
