package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ci-images/ci-images/tools/passwd"
	"golang.org/x/sys/unix"
)

// identity is the user a command runs as.
type identity struct {
	UID, GID int
	Groups   []int // supplementary groups: those of /etc/group that list the user
	Home     string
}

// resolveUser resolves an image's User ("", "name", "uid", "name:group", "uid:gid") through the
// root file system's /etc/passwd and /etc/group, as Docker does: a numeric uid need not have an
// entry (its group is then 0 and its home /).
func resolveUser(root, spec string) (identity, error) {
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	users, err := readAccounts(root, "etc/passwd", passwd.ParseUsers)
	if err != nil {
		return identity{}, err
	}
	groups, err := readAccounts(root, "etc/group", passwd.ParseGroups)
	if err != nil {
		return identity{}, err
	}
	id := identity{GID: 0, Home: "/"}
	name := ""
	if u, ok := findUser(users, userPart); ok {
		id.UID, id.GID, id.Home, name = u.UID, u.GID, u.Home, u.Name
	} else if n, err := strconv.Atoi(userPart); err == nil && n >= 0 {
		id.UID = n
	} else {
		return identity{}, fmt.Errorf("user %q: not in the image's /etc/passwd", userPart)
	}
	if hasGroup {
		g, ok := findGroup(groups, groupPart)
		if !ok {
			return identity{}, fmt.Errorf("group %q: not in the image's /etc/group", groupPart)
		}
		id.GID = g
	}
	for _, g := range groups {
		for _, m := range g.Members {
			if name != "" && m == name && g.GID != id.GID {
				id.Groups = append(id.Groups, g.GID)
			}
		}
	}
	return id, nil
}

func findUser(users []passwd.User, s string) (passwd.User, bool) {
	for _, u := range users {
		if u.Name == s || strconv.Itoa(u.UID) == s {
			return u, true
		}
	}
	return passwd.User{}, false
}

func findGroup(groups []passwd.Group, s string) (int, bool) {
	for _, g := range groups {
		if g.Name == s {
			return g.GID, true
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, true
	}
	return 0, false
}

// readAccounts parses root/rel, resolved inside root (symbolic links cannot leave it); a
// missing file holds no records.
func readAccounts[T any](root, rel string, parse func([]byte) ([]T, error)) ([]T, error) {
	b, err := readInRoot(root, rel)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image's /%s: %w", rel, err)
	}
	rs, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("image's /%s: %w", rel, err)
	}
	return rs, nil
}

// readInRoot reads the file rel of the root file system root, resolving symbolic links as if
// root were /.
func readInRoot(root, rel string) ([]byte, error) {
	dirfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dirfd)
	fd, err := unix.Openat2(dirfd, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: rel, Err: err}
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	return io.ReadAll(f)
}
