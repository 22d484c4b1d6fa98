package layer

import (
	"archive/tar"
	"path"
	"strings"
)

// mergedDirs returns the top-level directories merged into /usr.
func mergedDirs() []string { return []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} }

// rewriteMergedUsr maps a package path to its place on a merged-/usr system. The top-level
// name itself is rewritten too when it is a directory.
func rewriteMergedUsr(p string, isDir bool) string {
	top, _, _ := strings.Cut(p, "/")
	for _, d := range mergedDirs() {
		if top == d {
			if p == d && !isDir {
				return p // e.g. a package shipping the /bin -> usr/bin symlink itself
			}
			return "usr/" + p
		}
	}
	return p
}

// relocateSymlink keeps a relative symlink target valid after the link was moved from oldPath
// to newPath: if the target resolves to a different place from the new directory, it is
// replaced by the absolute target.
func relocateSymlink(oldPath, newPath, target string) string {
	if oldPath == newPath || strings.HasPrefix(target, "/") {
		return target
	}
	oldAbs := path.Join("/", path.Dir(oldPath), target)
	newAbs := path.Join("/", path.Dir(newPath), target)
	// On the merged system the old location resolves through the top-level symlink, so
	// compare after mapping both.
	if "/"+rewriteMergedUsr(strings.TrimPrefix(oldAbs, "/"), true) == "/"+rewriteMergedUsr(strings.TrimPrefix(newAbs, "/"), true) {
		return target
	}
	return oldAbs
}

// mergedUsrLinks adds the top-level symlinks bin -> usr/bin etc. (always for bin, sbin and
// lib; for the others when usr/<dir> exists).
func (t *tree) mergedUsrLinks() {
	t.putDir("usr", 0o755)
	for _, d := range mergedDirs() {
		need := d == "bin" || d == "sbin" || d == "lib"
		if _, ok := t.entries["usr/"+d]; ok {
			need = true
		}
		if !need {
			continue
		}
		if e, ok := t.entries[d]; ok && e.typ == tar.TypeSymlink && e.link == "usr/"+d {
			continue
		}
		t.putDir("usr/"+d, 0o755)
		t.putSymlink(d, "usr/"+d)
	}
}
