package maintscript

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// parseMode applies a chmod mode (octal, or symbolic like "u+x,go-w") to cur.
func parseMode(spec string, cur int64, isDir bool) (int64, error) {
	if n, err := strconv.ParseInt(spec, 8, 64); err == nil {
		if n > 0o7777 || n < 0 {
			return 0, fmt.Errorf("invalid mode %q", spec)
		}
		if isDir && len(spec) < 5 {
			n |= cur & 0o6000 // GNU chmod keeps a directory's setuid/setgid bits
		}
		return n, nil
	}
	m := cur
	for _, clause := range strings.Split(spec, ",") {
		var err error
		if m, err = applyClause(clause, m, isDir); err != nil {
			return 0, fmt.Errorf("invalid mode %q", spec)
		}
	}
	return m, nil
}

// applyClause applies one symbolic clause, e.g. "ug+rwx".
func applyClause(clause string, m int64, isDir bool) (int64, error) {
	who := int64(0)
	i := 0
	for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
		who |= map[byte]int64{'u': 0o4700, 'g': 0o2070, 'o': 0o1007, 'a': 0o7777}[clause[i]]
	}
	if who == 0 {
		who = 0o7777
	}
	if i >= len(clause) || strings.IndexByte("+-=", clause[i]) < 0 {
		return 0, fmt.Errorf("bad clause")
	}
	op := clause[i]
	perm := int64(0)
	for _, ch := range clause[i+1:] {
		switch ch {
		case 'r':
			perm |= 0o444
		case 'w':
			perm |= 0o222
		case 'x':
			perm |= 0o111
		case 'X':
			if isDir || m&0o111 != 0 {
				perm |= 0o111
			}
		case 's':
			perm |= 0o6000
		case 't':
			perm |= 0o1000
		default:
			return 0, fmt.Errorf("bad permission")
		}
	}
	perm &= who
	switch op {
	case '+':
		m |= perm
	case '-':
		m &^= perm
	default:
		m = m&^(who&0o777) | perm
	}
	return m, nil
}

func runChmod(c *cmdCtx) int {
	o := parseOpts(c.args, "", "reference")
	spec, files := "", o.args
	if ref, ok := o.get("reference"); ok {
		_, n, err := c.fs().stat(c.dir, ref, true)
		if err != nil {
			return c.fail("failed to get attributes of '%s': %s", ref, errorText(err))
		}
		spec = fmt.Sprintf("%o", n.Mode)
	} else if len(files) > 0 {
		spec, files = files[0], files[1:]
	}
	if len(files) == 0 {
		return c.fail("missing operand")
	}
	status := 0
	for _, f := range files {
		for _, p := range c.expandRecursive(f, o.has("R", "recursive")) {
			_, n, err := c.fs().stat(c.dir, p, true)
			if err == nil {
				var m int64
				if m, err = parseMode(spec, n.Mode, n.Kind == KindDir); err == nil {
					err = c.fs().setMeta(c.dir, p, true, m, -1, -1)
				}
			}
			if err != nil {
				status = c.fail("cannot access '%s': %s", p, errorText(err))
			}
		}
	}
	return status
}

// expandRecursive returns p, and with recursive every path below it.
func (c *cmdCtx) expandRecursive(p string, recursive bool) []string {
	if !recursive {
		return []string{p}
	}
	name, n, err := c.fs().stat(c.dir, p, true)
	if err != nil || n.Kind != KindDir {
		return []string{p}
	}
	out := []string{p}
	for _, sub := range c.fs().walk(name) {
		out = append(out, "/"+sub)
	}
	return out
}

func runChown(c *cmdCtx) int {
	o := parseOpts(c.args, "", "reference")
	if ref, ok := o.get("reference"); ok {
		_, n, err := c.fs().stat(c.dir, ref, true)
		if err != nil {
			return c.fail("failed to get attributes of '%s': %s", ref, errorText(err))
		}
		return c.chownAll(o, o.args, n.UID, n.GID)
	}
	if len(o.args) < 2 {
		return c.fail("missing operand")
	}
	user, group, hasGroup := strings.Cut(strings.Replace(o.args[0], ".", ":", 1), ":")
	uid, gid := -1, -1
	if user != "" {
		id, ok := c.sys().userID(user)
		if !ok {
			return c.fail("invalid user: '%s'", o.args[0])
		}
		uid = id
	}
	if hasGroup && group != "" {
		id, ok := c.sys().groupID(group)
		if !ok {
			return c.fail("invalid group: '%s'", o.args[0])
		}
		gid = id
	}
	return c.chownAll(o, o.args[1:], uid, gid)
}

func runChgrp(c *cmdCtx) int {
	o := parseOpts(c.args, "", "reference")
	if len(o.args) < 2 {
		return c.fail("missing operand")
	}
	gid, ok := c.sys().groupID(o.args[0])
	if !ok {
		return c.fail("invalid group: '%s'", o.args[0])
	}
	return c.chownAll(o, o.args[1:], -1, gid)
}

func (c *cmdCtx) chownAll(o opts, files []string, uid, gid int) int {
	status := 0
	follow := !o.has("h", "no-dereference")
	for _, f := range files {
		for _, p := range c.expandRecursive(f, o.has("R", "recursive")) {
			if err := c.fs().setMeta(c.dir, p, follow, -1, uid, gid); err != nil {
				status = c.fail("cannot access '%s': %s", p, errorText(err))
			}
		}
	}
	return status
}

// canonical returns the absolute path p denotes with every symlink resolved; with missing,
// components that do not exist are allowed (readlink -m): they and what follows them are
// taken as written.
func (c *cmdCtx) canonical(p string, missing bool) (string, bool) {
	if name, _, err := c.fs().stat(c.dir, p, true); err == nil {
		return "/" + name, true
	}
	if !missing {
		return "", false
	}
	if !path.IsAbs(p) {
		p = c.dir + "/" + p
	}
	cur := "/"
	comps := strings.Split(p, "/")
	for i, comp := range comps {
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, comp)
		name, _, err := c.fs().stat("/", next, true)
		if err != nil {
			return path.Join(append([]string{next}, comps[i+1:]...)...), true
		}
		cur = "/" + name
	}
	return cur, true
}

func runReadlink(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	status := 0
	for _, p := range o.args {
		var out string
		ok := false
		switch {
		case o.has("f", "canonicalize"):
			out, ok = c.canonical(p, false)
			if !ok {
				out, ok = c.canonicalParent(p)
			}
		case o.has("e", "canonicalize-existing"):
			out, ok = c.canonical(p, false)
		case o.has("m", "canonicalize-missing"):
			out, ok = c.canonical(p, true)
		default:
			if _, n, err := c.fs().stat(c.dir, p, false); err == nil && n.Kind == KindSymlink {
				out, ok = n.Link, true
			}
		}
		if !ok {
			status = 1
			continue
		}
		fmt.Fprint(c.stdout, out)
		if !o.has("n", "no-newline") {
			fmt.Fprintln(c.stdout)
		}
	}
	return status
}

// canonicalParent is readlink -f of a path whose last component does not exist.
func (c *cmdCtx) canonicalParent(p string) (string, bool) {
	if !path.IsAbs(p) {
		p = c.dir + "/" + p
	}
	p = strings.TrimRight(p, "/")
	i := strings.LastIndexByte(p, '/')
	dir, ok := c.canonical(p[:i]+"/", false)
	if !ok {
		return "", false
	}
	return path.Join(dir, p[i+1:]), true
}

func runRealpath(c *cmdCtx) int {
	o := parseOpts(c.args, "", "relative-to")
	status := 0
	for _, p := range o.args {
		var out string
		ok := true
		switch {
		case o.has("s", "strip", "no-symlinks"):
			out = c.abs(p)
		case o.has("m", "canonicalize-missing"):
			out, ok = c.canonical(p, true)
		case o.has("e", "canonicalize-existing"):
			out, ok = c.canonical(p, false)
		default:
			out, ok = c.canonical(p, false)
			if !ok {
				out, ok = c.canonicalParent(p)
			}
		}
		if !ok {
			status = c.fail("%s: No such file or directory", p)
			continue
		}
		fmt.Fprintln(c.stdout, out)
	}
	return status
}

func runStat(c *cmdCtx) int {
	o := parseOpts(c.args, "c", "format", "printf")
	format, ok := o.get("c", "format", "printf")
	if !ok {
		return c.fail("only stat -c FORMAT is emulated")
	}
	status := 0
	for _, p := range o.args {
		_, n, err := c.fs().stat(c.dir, p, o.has("L", "dereference") || o.has("f", "file-system"))
		if err != nil {
			status = c.fail("cannot stat '%s': %s", p, errorText(err))
			continue
		}
		out := c.statFormat(format, p, n, o.has("f", "file-system"))
		if !o.has("printf") {
			out += "\n"
		}
		fmt.Fprint(c.stdout, out)
	}
	return status
}

// statFormat expands the directives of stat's format for node n at path p.
func (c *cmdCtx) statFormat(format, p string, n Node, fileSystem bool) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 'a':
			fmt.Fprintf(&b, "%o", n.Mode)
		case 'u':
			fmt.Fprint(&b, n.UID)
		case 'g':
			fmt.Fprint(&b, n.GID)
		case 'U':
			b.WriteString(c.sys().userName(n.UID))
		case 'G':
			b.WriteString(c.sys().groupName(n.GID))
		case 'n':
			b.WriteString(p)
		case 's':
			fmt.Fprint(&b, n.Size)
		case 'T':
			if fileSystem {
				b.WriteString("overlayfs")
			}
		case 'F':
			b.WriteString(map[Kind]string{KindDir: "directory", KindFile: "regular file", KindSymlink: "symbolic link", KindOther: "character special file"}[n.Kind])
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// runMktemp makes a file (or, with -d, a directory) with a name that depends only on how
// many were made before: the X's of the template become a counter. --tmpdir, -t and -p put
// it in /tmp (or the directory given), as does the absence of a template.
func runMktemp(c *cmdCtx) int {
	tmpl, dir, useDir, isDir := "tmp.XXXXXXXXXX", "/tmp", false, false
	templateGiven := false
	for i := 0; i < len(c.args); i++ {
		switch a := c.args[i]; {
		case a == "-d" || a == "--directory":
			isDir = true
		case a == "-t" || a == "--tmpdir":
			useDir = true
		case strings.HasPrefix(a, "--tmpdir="):
			useDir, dir = true, strings.TrimPrefix(a, "--tmpdir=")
		case a == "-p" && i+1 < len(c.args):
			i++
			useDir, dir = true, c.args[i]
		case a == "-q" || a == "--quiet" || a == "-u" || a == "--dry-run":
		case strings.HasPrefix(a, "-"):
			return c.fail("option %s is not emulated", a)
		default:
			tmpl, templateGiven = a, true
		}
	}
	if useDir || !templateGiven {
		tmpl = path.Join(dir, path.Base(tmpl))
	}
	return c.makeTemp(tmpl, isDir)
}

// makeTemp creates the file or directory of a mktemp template.
func (c *cmdCtx) makeTemp(tmpl string, isDir bool) int {
	x := len(tmpl) - len(strings.TrimRight(tmpl, "X"))
	if x < 3 {
		return c.fail("too few X's in template '%s'", tmpl)
	}
	s := c.sys()
	s.mu.Lock()
	s.temps++
	n := s.temps
	s.mu.Unlock()
	name := tmpl[:len(tmpl)-x] + fmt.Sprintf("%0*d", x, n)
	node := Node{Kind: KindFile, Mode: 0o600}
	if isDir {
		node = Node{Kind: KindDir, Mode: 0o700}
	}
	if _, err := c.fs().put(c.dir, name, node, nil, false); err != nil {
		return c.fail("failed to create '%s': %s", name, errorText(err))
	}
	fmt.Fprintln(c.stdout, name)
	return 0
}

func runBasename(c *cmdCtx) int {
	o := parseOpts(c.args, "s", "suffix")
	ops := o.args
	suffix, _ := o.get("s", "suffix")
	if !o.has("a", "multiple", "s", "suffix") && len(ops) == 2 {
		suffix, ops = ops[1], ops[:1]
	}
	for _, p := range ops {
		b := path.Base(p)
		if suffix != "" && b != suffix {
			b = strings.TrimSuffix(b, suffix)
		}
		fmt.Fprintln(c.stdout, b)
	}
	return 0
}

func runDirname(c *cmdCtx) int {
	for _, p := range parseOpts(c.args, "").args {
		fmt.Fprintln(c.stdout, path.Dir(p))
	}
	return 0
}

// runLs lists names: the entries of a directory operand, a non-directory operand itself.
func runLs(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	ops := o.args
	if len(ops) == 0 {
		ops = []string{"."}
	}
	status := 0
	for _, p := range ops {
		_, n, err := c.fs().stat(c.dir, p, true)
		if err != nil {
			fmt.Fprintf(c.stderr, "ls: cannot access '%s': No such file or directory\n", p)
			status = 2
			continue
		}
		if n.Kind != KindDir || o.has("d", "directory") {
			fmt.Fprintln(c.stdout, p)
			continue
		}
		names, _ := c.fs().list(c.dir, p)
		for _, nm := range names {
			if !strings.HasPrefix(nm, ".") || o.has("a", "A", "all", "almost-all") {
				fmt.Fprintln(c.stdout, nm)
			}
		}
	}
	return status
}

// runCmp compares two files: 0 when equal, 1 when they differ, 2 when one is missing.
func runCmp(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	if len(o.args) < 2 {
		return c.fail("missing operand")
	}
	a, err1 := c.input(o.args[:1])
	b, err2 := c.input(o.args[1:2])
	if err1 != nil || err2 != nil {
		if !o.has("s", "silent", "quiet") {
			fmt.Fprintf(c.stderr, "cmp: %s: No such file or directory\n", o.args[0])
		}
		return 2
	}
	if bytes.Equal(a, b) {
		return 0
	}
	if !o.has("s", "silent", "quiet") {
		fmt.Fprintf(c.stdout, "%s %s differ\n", o.args[0], o.args[1])
	}
	return 1
}
