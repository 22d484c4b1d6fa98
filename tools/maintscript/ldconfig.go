package maintscript

import (
	"debug/elf"
	"fmt"
	"path"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript/ldcache"
)

// ldconfig, as glibc 2.36's elf/ldconfig.c builds the cache: the directories of
// /etc/ld.so.conf (with its includes, in glob order) and then the multiarch system
// directories, each once (the first path that reaches a directory names it); in each, the
// files named like libraries (lib*.so*, ld-*.so*, ld.so.*, ld64.so.*) that are ELF shared
// objects, grouped by soname; a symlink counts as its own entry (under its own name) when
// its name is the soname of the library it leads to, or the ".so" name that soname starts
// with (ldconfig without a chroot compares the link's own name, not its target's). Missing soname links are
// created, as ldconfig does. The cache goes to /etc/ld.so.cache (ldcache); the auxiliary
// cache, which only speeds up later runs, is not written, but its directory is made.

// ldLib is one library of a directory (ldconfig's struct dlib_entry).
type ldLib struct {
	name, soname string
	isLink       bool
	flags        int32
}

func runLdconfig(c *cmdCtx) int {
	o := parseOpts(c.args, "rfCcA", "root", "config-file", "cache-file")
	if o.has("p", "print-cache") {
		return 0
	}
	if root, ok := o.get("r", "root"); ok && strings.Trim(root, "/") != "" {
		return c.fail("only -r / is emulated")
	}
	s := c.sys()
	var entries []ldcache.Entry
	for _, dir := range s.ldconfigDirs() {
		libs, err := s.scanLibDir(dir)
		if err != nil {
			s.warnf("ldconfig: %s: %v", dir, err)
			continue
		}
		for _, l := range libs {
			entries = append(entries, ldcache.Entry{Soname: l.soname, Path: dir + "/" + l.soname, Flags: l.flags})
			if !l.isLink && !o.has("X", "N") {
				s.soLink(dir, l)
			}
		}
	}
	if o.has("N") {
		return 0
	}
	ldcache.Sort(entries)
	if err := s.fs.write("/", "/etc/ld.so.cache", ldcache.Encode(entries, s.ldconfigGenerator()), 0o644, false); err != nil {
		return c.fail("%s", errorText(err))
	}
	if !s.fs.exists("/", "/var/cache/ldconfig") {
		s.fs.mkdirAll("/", "/var/cache/ldconfig", 0o700)
	}
	return 0
}

// ldconfigGenerator is the generator string of the cache: ldconfig names the C library
// package's version (libc-bin, which ships ldconfig, in Debian).
func (s *System) ldconfigGenerator() string {
	version := "unknown"
	if p := s.pkgs["libc-bin"]; p != nil {
		version = p.Version
	}
	upstream, _, _ := strings.Cut(version, "-")
	if _, after, ok := strings.Cut(upstream, ":"); ok {
		upstream = after
	}
	return fmt.Sprintf("ldconfig (Debian GLIBC %s) stable release version %s", version, upstream)
}

// ldconfigDirs returns the directories to scan, in order, each directory once.
func (s *System) ldconfigDirs() []string {
	var dirs []string
	s.parseLdConf("/etc/ld.so.conf", &dirs, 0)
	triplet := s.multiarchTriplet()
	dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		name, n, err := s.fs.stat("/", d, true)
		if err != nil || n.Kind != KindDir || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, path.Clean(d))
	}
	return out
}

// parseLdConf reads one ld.so.conf file: a directory per line, "include GLOB" lines.
func (s *System) parseLdConf(file string, dirs *[]string, depth int) {
	b, err := s.fs.read("/", file)
	if err != nil || depth > 10 {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "hwcap "):
		case strings.HasPrefix(line, "include") && len(line) > 7 && (line[7] == ' ' || line[7] == '\t'):
			pattern := strings.TrimSpace(line[8:])
			if !path.IsAbs(pattern) {
				pattern = path.Join(path.Dir(file), pattern)
			}
			for _, f := range s.glob(pattern) {
				s.parseLdConf(f, dirs, depth+1)
			}
		default:
			dir, _, _ := strings.Cut(line, "=")
			*dirs = append(*dirs, strings.TrimSpace(dir))
		}
	}
}

// glob expands a pattern whose last component only has wildcards, sorted.
func (s *System) glob(pattern string) []string {
	names, err := s.fs.list("/", path.Dir(pattern))
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(path.Base(pattern), n); ok {
			out = append(out, path.Join(path.Dir(pattern), n))
		}
	}
	return out
}

// multiarchTriplet is the Debian multiarch directory of the packages' architecture.
func (s *System) multiarchTriplet() string {
	switch s.architecture() {
	case "arm64":
		return "aarch64-linux-gnu"
	case "i386":
		return "i386-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

// isDSO is glibc's _dl_is_dso.
func isDSO(name string) bool {
	return (strings.HasPrefix(name, "lib") || strings.HasPrefix(name, "ld-")) && strings.Contains(name, ".so") ||
		strings.HasPrefix(name, "ld.so.") || strings.HasPrefix(name, "ld64.so.")
}

// scanLibDir returns the libraries of one directory, in ldconfig's order.
func (s *System) scanLibDir(dir string) ([]ldLib, error) {
	names, err := s.fs.list("/", dir)
	if err != nil {
		return nil, err
	}
	var libs []ldLib
	for _, n := range names {
		if strings.HasPrefix(n, ".") || !isDSO(n) {
			continue
		}
		l, ok := s.readLib(dir, n)
		if !ok {
			continue
		}
		libs = addLib(libs, l)
	}
	return libs, nil
}

// readLib examines one candidate file; ok is false when it is not a usable library.
func (s *System) readLib(dir, name string) (ldLib, bool) {
	_, ln, err := s.fs.stat(dir, name, false)
	if err != nil || ln.Kind == KindDir {
		return ldLib{}, false
	}
	real, n, err := s.fs.stat(dir, name, true)
	if err != nil || n.Kind != KindFile {
		return ldLib{}, false
	}
	soname, flags, ok := s.elfInfo(real)
	if !ok {
		return ldLib{}, false
	}
	if soname == "" {
		soname = name
	}
	l := ldLib{name: name, soname: soname, isLink: ln.Kind == KindSymlink, flags: flags}
	if l.isLink && name != soname && !(strings.HasSuffix(name, ".so") && strings.HasPrefix(soname, name)) {
		l.isLink = false
	}
	if l.isLink {
		l.soname = name
	}
	return l, true
}

// addLib adds a library, or keeps one entry per soname: a file over a link, else the
// greater name.
func addLib(libs []ldLib, l ldLib) []ldLib {
	for i := range libs {
		if libs[i].soname != l.soname {
			continue
		}
		if !libs[i].isLink && l.isLink || libs[i].isLink == l.isLink && ldcache.Libcmp(libs[i].name, l.name) < 0 {
			libs[i].name, libs[i].isLink = l.name, l.isLink
		}
		return libs
	}
	return append(libs, l)
}

// elfInfo reads the soname and the cache flags of an ELF shared object at a name.
func (s *System) elfInfo(name string) (soname string, flags int32, ok bool) {
	r, err := s.fs.open(name)
	if err != nil {
		return "", 0, false
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	switch {
	case f.Class == elf.ELFCLASS64 && f.Machine == elf.EM_X86_64:
		flags = ldcache.FlagX8664Lib64 | ldcache.FlagELFLibc6
	case f.Class == elf.ELFCLASS64 && f.Machine == elf.EM_AARCH64:
		flags = ldcache.FlagAArch64Lib64 | ldcache.FlagELFLibc6
	default:
		return "", 0, false
	}
	if names, err := f.DynString(elf.DT_SONAME); err == nil && len(names) > 0 {
		soname = names[0]
	}
	return soname, flags, true
}

// soLink makes dir/soname a symlink to the library file when it is missing or points
// elsewhere (ldconfig's create_links).
func (s *System) soLink(dir string, l ldLib) {
	if l.name == l.soname {
		return
	}
	link := path.Join(dir, l.soname)
	if _, n, err := s.fs.stat("/", link, false); err == nil {
		if n.Kind != KindSymlink || n.Link == l.name {
			return
		}
		s.fs.remove("/", link)
	}
	s.fs.put("/", link, Node{Kind: KindSymlink, Mode: 0o777, Link: l.name}, nil, false)
}
