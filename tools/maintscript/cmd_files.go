package maintscript

import (
	"fmt"
	"path"
)

// fileCommands are the coreutils that create, copy, move and remove files.
func fileCommands() map[string]command {
	return map[string]command{
		"cat": {run: runCat}, "cp": {run: runCp}, "mv": {run: runMv}, "rm": {run: runRm},
		"ln": {run: runLn}, "mkdir": {run: runMkdir}, "rmdir": {run: runRmdir}, "touch": {run: runTouch},
		"install": {run: runInstall}, "chmod": {run: runChmod}, "chown": {run: runChown}, "chgrp": {run: runChgrp},
		"readlink": {run: runReadlink}, "realpath": {run: runRealpath}, "stat": {run: runStat},
		"mktemp": {run: runMktemp}, "basename": {run: runBasename}, "dirname": {run: runDirname},
		"ls": {run: runLs}, "cmp": {run: runCmp},
	}
}

func runCat(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	b, err := c.input(o.args)
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	c.stdout.Write(b)
	return 0
}

// newMode is the mode of a new file or directory made with mode under the script's umask.
func (c *cmdCtx) newMode(mode int64) int64 { return mode &^ c.run.umask }

// target returns where an operand goes: into dst when dst is a directory.
func (c *cmdCtx) target(src, dst string, noTargetDir bool) string {
	if noTargetDir {
		return dst
	}
	if _, n, err := c.fs().stat(c.dir, dst, true); err == nil && n.Kind == KindDir {
		return path.Join(c.abs(dst), path.Base(src))
	}
	return dst
}

func runCp(c *cmdCtx) int {
	o := parseOpts(c.args, "t", "target-directory", "preserve")
	ops := o.args
	if len(ops) < 2 {
		return c.fail("missing file operand")
	}
	dst := ops[len(ops)-1]
	archive := o.has("a", "archive")
	keepLinks := archive || o.has("d", "P", "no-dereference")
	preserve := archive || o.has("p", "preserve")
	recursive := archive || o.has("r", "R", "recursive")
	status := 0
	for _, src := range ops[:len(ops)-1] {
		to := c.target(src, dst, o.has("T", "no-target-directory"))
		if err := c.copyTree(src, to, keepLinks, preserve, recursive); err != nil {
			status = c.fail("cannot copy '%s' to '%s': %s", src, to, errorText(err))
		}
	}
	return status
}

// copyTree copies src to dst (a directory recursively when recursive is set).
func (c *cmdCtx) copyTree(src, dst string, keepLinks, preserve, recursive bool) error {
	_, n, err := c.fs().stat(c.dir, src, !keepLinks)
	if err != nil {
		return err
	}
	switch n.Kind {
	case KindSymlink:
		_, err = c.fs().put(c.dir, dst, Node{Kind: KindSymlink, Mode: 0o777, Link: n.Link, UID: n.UID, GID: n.GID}, nil, true)
		return err
	case KindDir:
		if !recursive {
			return fmt.Errorf("-r not specified; omitting directory")
		}
		if err := c.fs().mkdirAll(c.dir, dst, c.keptMode(n, preserve)); err != nil {
			return err
		}
		names, err := c.fs().list(c.dir, src)
		if err != nil {
			return err
		}
		for _, nm := range names {
			if err := c.copyTree(path.Join(c.abs(src), nm), path.Join(c.abs(dst), nm), keepLinks, preserve, true); err != nil {
				return err
			}
		}
		return nil
	case KindFile:
		return c.copyFile(src, dst, n, preserve)
	}
	return fmt.Errorf("cannot copy a special file")
}

func (c *cmdCtx) keptMode(n Node, preserve bool) int64 {
	if preserve {
		return n.Mode
	}
	return c.newMode(n.Mode)
}

// copyFile copies a regular file: an existing destination keeps its mode and owner unless
// preserve is set; a new one gets the source's mode under the umask, owned by root.
func (c *cmdCtx) copyFile(src, dst string, n Node, preserve bool) error {
	body, err := c.fs().read(c.dir, src)
	if err != nil {
		return err
	}
	_, old, existed := c.statErr(dst)
	mode := c.keptMode(n, preserve)
	if existed && !preserve {
		mode = old.Mode
	}
	if err := c.fs().write(c.dir, dst, body, mode, false); err != nil {
		return err
	}
	if preserve {
		if err := c.fs().setMeta(c.dir, dst, true, n.Mode, n.UID, n.GID); err != nil {
			return err
		}
		if name, _, err := c.fs().stat(c.dir, dst, true); err == nil {
			c.fs().touchTime(name, n.MTime)
		}
	}
	return nil
}

// statErr returns the node p denotes and whether it exists.
func (c *cmdCtx) statErr(p string) (string, Node, bool) {
	name, n, err := c.fs().stat(c.dir, p, true)
	return name, n, err == nil
}

func runMv(c *cmdCtx) int {
	o := parseOpts(c.args, "t", "target-directory")
	if len(o.args) < 2 {
		return c.fail("missing file operand")
	}
	dst := o.args[len(o.args)-1]
	noClobber := o.has("n", "no-clobber")
	status := 0
	for _, src := range o.args[:len(o.args)-1] {
		to := c.target(src, dst, o.has("T", "no-target-directory"))
		if _, _, exists := c.statErr(to); exists && noClobber {
			continue
		}
		if err := c.fs().rename(c.dir, src, to); err != nil {
			status = c.fail("cannot move '%s' to '%s': %s", src, to, errorText(err))
		}
	}
	return status
}

func runRm(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	force := o.has("f", "force")
	recursive := o.has("r", "R", "recursive")
	status := 0
	for _, p := range o.args {
		var err error
		if recursive {
			if _, _, serr := c.fs().stat(c.dir, p, false); serr != nil {
				err = serr
			} else {
				err = c.fs().removeAll(c.dir, p)
			}
		} else {
			if _, n, serr := c.fs().stat(c.dir, p, false); serr == nil && n.Kind == KindDir {
				status = c.fail("cannot remove '%s': Is a directory", p)
				continue
			}
			err = c.fs().remove(c.dir, p)
		}
		if err != nil && !(force && isNotExist(err)) {
			status = c.fail("cannot remove '%s': %s", p, errorText(err))
		}
	}
	return status
}

func isNotExist(err error) bool { return errorText(err) == "No such file or directory" }

func runLn(c *cmdCtx) int {
	o := parseOpts(c.args, "t", "target-directory")
	if !o.has("s", "symbolic") {
		return c.hardLink(o)
	}
	ops := o.args
	if len(ops) == 1 {
		ops = append(ops, path.Base(ops[0]))
	}
	dst := ops[len(ops)-1]
	noDeref := o.has("n", "no-dereference", "T", "no-target-directory")
	status := 0
	for _, target := range ops[:len(ops)-1] {
		link := dst
		if _, n, err := c.fs().stat(c.dir, dst, !noDeref); err == nil && n.Kind == KindDir && len(ops) > 1 {
			link = path.Join(c.abs(dst), path.Base(target))
		}
		if _, _, err := c.fs().stat(c.dir, link, false); err == nil {
			if !o.has("f", "force") {
				status = c.fail("failed to create symbolic link '%s': File exists", link)
				continue
			}
			if err := c.fs().remove(c.dir, link); err != nil {
				status = c.fail("cannot remove '%s': %s", link, errorText(err))
				continue
			}
		}
		if _, err := c.fs().put(c.dir, link, Node{Kind: KindSymlink, Mode: 0o777, Link: target}, nil, false); err != nil {
			status = c.fail("failed to create symbolic link '%s': %s", link, errorText(err))
		}
	}
	return status
}

// hardLink makes a copy (a file system of an image has no use for a second name of the
// same inode that a copy would not serve).
func (c *cmdCtx) hardLink(o opts) int {
	if len(o.args) != 2 {
		return c.fail("hard links to more than one file are not emulated")
	}
	_, n, err := c.fs().stat(c.dir, o.args[0], true)
	if err != nil {
		return c.fail("failed to access '%s': %s", o.args[0], errorText(err))
	}
	if err := c.copyFile(o.args[0], o.args[1], n, true); err != nil {
		return c.fail("%s", errorText(err))
	}
	return 0
}

func runMkdir(c *cmdCtx) int {
	o := parseOpts(c.args, "m", "mode")
	mode := c.newMode(0o777)
	if m, ok := o.get("m", "mode"); ok {
		var err error
		if mode, err = parseMode(m, 0o777&^c.run.umask, true); err != nil {
			return c.fail("invalid mode '%s'", m)
		}
	}
	status := 0
	for _, d := range o.args {
		var err error
		if o.has("p", "parents") {
			err = c.fs().mkdirAll(c.dir, d, mode)
		} else {
			_, err = c.fs().put(c.dir, d, Node{Kind: KindDir, Mode: mode}, nil, false)
		}
		if err != nil {
			status = c.fail("cannot create directory '%s': %s", d, errorText(err))
		} else if o.has("m", "mode") {
			c.fs().setMeta(c.dir, d, true, mode, -1, -1)
		}
	}
	return status
}

func runRmdir(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	status := 0
	for _, d := range o.args {
		_, n, err := c.fs().stat(c.dir, d, false)
		if err == nil && n.Kind != KindDir {
			err = errNotDir
		}
		if err == nil {
			err = c.fs().remove(c.dir, d)
		}
		if err != nil && !(o.has("ignore-fail-on-non-empty") && errorText(err) == "Directory not empty") {
			status = c.fail("failed to remove '%s': %s", d, errorText(err))
		}
	}
	return status
}

func runTouch(c *cmdCtx) int {
	o := parseOpts(c.args, "rdt", "reference", "date")
	status := 0
	for _, f := range o.args {
		name, _, exists := c.statErr(f)
		if !exists {
			if o.has("c", "no-create") {
				continue
			}
			var err error
			if name, err = c.fs().put(c.dir, f, Node{Kind: KindFile, Mode: c.newMode(0o666)}, nil, false); err != nil {
				status = c.fail("cannot touch '%s': %s", f, errorText(err))
				continue
			}
		}
		c.fs().touchTime(name, c.sys().opts.Epoch)
	}
	return status
}

func runInstall(c *cmdCtx) int {
	o := parseOpts(c.args, "mogt", "mode", "owner", "group", "target-directory")
	mode := int64(0o755)
	if m, ok := o.get("m", "mode"); ok {
		var err error
		if mode, err = parseMode(m, 0o755, true); err != nil {
			return c.fail("invalid mode '%s'", m)
		}
	}
	uid, gid, msg := c.ownerIDs(o)
	if msg != "" {
		return c.fail("%s", msg)
	}
	if o.has("d", "directory") {
		for _, d := range o.args {
			if err := c.fs().mkdirAll(c.dir, d, mode); err != nil {
				return c.fail("cannot create directory '%s': %s", d, errorText(err))
			}
			c.fs().setMeta(c.dir, d, true, mode, uid, gid)
		}
		return 0
	}
	if len(o.args) < 2 {
		return c.fail("missing file operand")
	}
	dst := o.args[len(o.args)-1]
	for _, src := range o.args[:len(o.args)-1] {
		to := c.target(src, dst, false)
		body, err := c.fs().read(c.dir, src)
		if err == nil {
			c.fs().remove(c.dir, to)
			err = c.fs().write(c.dir, to, body, mode, false)
		}
		if err != nil {
			return c.fail("cannot install '%s': %s", src, errorText(err))
		}
		c.fs().setMeta(c.dir, to, true, mode, uid, gid)
	}
	return 0
}

// ownerIDs reads install's -o and -g (root when absent); msg is an error message.
func (c *cmdCtx) ownerIDs(o opts) (uid, gid int, msg string) {
	if u, ok := o.get("o", "owner"); ok {
		id, ok := c.sys().userID(u)
		if !ok {
			return 0, 0, "invalid user '" + u + "'"
		}
		uid = id
	}
	if g, ok := o.get("g", "group"); ok {
		id, ok := c.sys().groupID(g)
		if !ok {
			return 0, 0, "invalid group '" + g + "'"
		}
		gid = id
	}
	return uid, gid, ""
}
