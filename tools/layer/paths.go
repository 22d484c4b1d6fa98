package layer

import (
	"archive/tar"
	"fmt"
	"path"
	"strings"
)

// checkNames refuses a member name, or a hard link target (also a member name), with a ".."
// component in package pkg: see "Paths and symbolic links" in the package documentation.
func checkNames(pkg string, h *tar.Header) error {
	if hasDotDot(h.Name) {
		return fmt.Errorf("package %s: %s: path with a \"..\" component (refused: dpkg would write it outside its root)", pkg, h.Name)
	}
	if h.Typeflag == tar.TypeLink && hasDotDot(h.Linkname) {
		return fmt.Errorf("package %s: %s: hard link to %s, a path with a \"..\" component (refused)", pkg, h.Name, h.Linkname)
	}
	return nil
}

func hasDotDot(name string) bool {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

// checkSymlink returns a warning for the symlink at the package path pp (cleaned, relative
// to the root) if its target is relative and climbs above the root from the link's
// directory, "" otherwise.
func checkSymlink(pp, target string) string {
	if strings.HasPrefix(target, "/") {
		return ""
	}
	depth := 0
	if dir := path.Dir(pp); dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return fmt.Sprintf("/%s: symlink target %s climbs above the root (kept as shipped; in the image it resolves to %s)",
					pp, target, path.Join("/", path.Dir(pp), target))
			}
		default:
			depth++
		}
	}
	return ""
}

// readWarnings returns the warnings of the packages' data tars, in package order.
func readWarnings(pkgs []*pkgInfo) []string {
	var w []string
	for _, p := range pkgs {
		w = append(w, p.warnings...)
	}
	return w
}
