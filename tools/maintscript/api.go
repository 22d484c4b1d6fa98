package maintscript

import (
	"strconv"
)

// ReadFile returns the content of the file at an absolute path of the image.
func (s *System) ReadFile(p string) ([]byte, error) { return s.fs.read("/", p) }

// WriteFile creates or replaces the file at an absolute path (new files get mode).
func (s *System) WriteFile(p string, data []byte, mode int64) error {
	return s.fs.write("/", p, data, mode, false)
}

// UserIDs returns the uid and primary gid of a user of the image.
func (s *System) UserIDs(name string) (uid, gid int, ok bool) {
	db, err := s.loadAccounts()
	if err != nil {
		return 0, 0, false
	}
	if u := db.user(name); u != nil {
		return u.UID, u.GID, true
	}
	if n, err := strconv.Atoi(name); err == nil {
		return n, n, true
	}
	return 0, 0, false
}

// GroupID returns the gid of a group of the image.
func (s *System) GroupID(name string) (int, bool) { return s.groupID(name) }

// MakeHome creates a user's home directory (0755, owned by the user and their group).
func (s *System) MakeHome(home, user string) error {
	uid, gid, ok := s.UserIDs(user)
	if !ok {
		return nil
	}
	return s.makeHome(home, uid, gid)
}

// MakeDir creates the directory at an absolute path (and its missing parents, 0755 root),
// following symlinks, and sets its mode and owner.
func (s *System) MakeDir(p string, mode int64, uid, gid int) error {
	if err := s.fs.mkdirAll("/", p, mode); err != nil {
		return err
	}
	return s.fs.setMeta("/", p, true, mode, uid, gid)
}

// AddDiversions records diversions that exist before any script runs (declared by the
// caller), as if added in this order.
func (s *System) AddDiversions(ds []Diversion) {
	s.diversions = append(s.diversions, ds...)
}
