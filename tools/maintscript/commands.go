package maintscript

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"mvdan.cc/sh/v3/expand"
)

// cmdCtx is one invocation of a command.
type cmdCtx struct {
	run    *scriptRun
	name   string // the command's base name
	args   []string
	dir    string
	env    expand.Environ
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func (c *cmdCtx) sys() *System { return c.run.s }
func (c *cmdCtx) fs() *vfs     { return c.run.s.fs }

// fail prints "name: message" to standard error and returns status 1 (or code).
func (c *cmdCtx) fail(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "%s: %s\n", c.name, fmt.Sprintf(format, args...))
	return 1
}

// input returns the concatenated content of files, or standard input without files or for
// "-".
func (c *cmdCtx) input(files []string) ([]byte, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var out []byte
	for _, f := range files {
		var b []byte
		var err error
		if f == "-" {
			b, err = c.readStdin()
		} else {
			b, err = c.fs().read(c.dir, f)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func (c *cmdCtx) readStdin() ([]byte, error) {
	if f, ok := c.stdin.(*os.File); c.stdin == nil || ok && f == nil {
		return nil, nil // a script's standard input is empty
	}
	return io.ReadAll(c.stdin)
}

// abs makes p absolute against the command's directory.
func (c *cmdCtx) abs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(c.dir, p)
}

// command is one entry of the table of commands the emulation knows.
type command struct {
	// run carries the command out and returns its exit status; nil when the command has no
	// effect on an image's files.
	run func(c *cmdCtx) int
	// noEffect says why a command without run has no effect on the image (or why its effect
	// is deliberately left out).
	noEffect string
}

// Reasons shared by several commands without effect.
const (
	noServices = "image policy: no init system runs in CI containers; services are never started or enabled"
	noCaches   = "byte-code caches: Python compiles on import"
	noOutput   = "prints information only"
)

// commands returns the table of commands the emulation knows, by base name.
func commands() map[string]command {
	t := map[string]command{}
	for _, part := range []map[string]command{fileCommands(), textCommands(), dpkgCommands(), accountCommands(), generatorCommands(), noEffectCommands()} {
		for k, v := range part {
			t[k] = v
		}
	}
	return t
}

// noEffectCommands are commands whose effect an image does not need or must not have.
func noEffectCommands() map[string]command {
	return map[string]command{
		"deb-systemd-helper": {noEffect: noServices}, "deb-systemd-invoke": {noEffect: noServices},
		"systemctl": {noEffect: noServices}, "invoke-rc.d": {noEffect: noServices}, "update-rc.d": {noEffect: noServices},
		"systemd-tmpfiles": {noEffect: "tmpfiles are created by systemd at boot; no init system runs"},
		"py3compile":       {noEffect: noCaches}, "pypy3compile": {noEffect: noCaches},
		"make-ssl-cert":    {noEffect: "machine-specific: generates a private key and certificate for one host; a shared image must not ship a secret"},
		"update-initramfs": {noEffect: "no kernel or initramfs in a container image"},
		"pg_createcluster": {noEffect: "image policy: the images ship no database cluster (tests run initdb)"},
		"pg_checksystem":   {noEffect: "checks the system and prints warnings only"},
		"sleep":            {noEffect: "waits only"},
		"date":             {run: runDate},
		"uname":            {run: runUname},
		"ischroot":         {run: func(*cmdCtx) int { return 0 }}, // the scripts run in the image's root, as in a chroot
		"pidof":            {run: func(*cmdCtx) int { return 1 }}, // no process runs while an image is built
		"runlevel":         {run: func(c *cmdCtx) int { fmt.Fprintln(c.stdout, "unknown"); return 1 }},
		"mountpoint":       {run: func(*cmdCtx) int { return 1 }}, // nothing is mounted in an image
		"su":               {run: func(c *cmdCtx) int { return c.fail("switching users is not emulated") }},
		"runuser":          {run: func(c *cmdCtx) int { return c.fail("switching users is not emulated") }},
		"perl":             {run: runPerl}, "pam_getenv": {run: runPamGetenv}, "expr": {run: runExpr},
		"which-command": {run: runWhich(true)}, "which": {run: runWhich(false)},
		"sh": {run: runShell}, "bash": {run: runShell}, "dash": {run: runShell},
	}
}

// dispatch runs the command a script called (args[0] as written, c.args the rest).
func (s *System) dispatch(c *cmdCtx, called string) int {
	if cmd, ok := s.cmds[c.name]; ok {
		if s.discover && c.name != "dpkg-divert" && !discoverable(c.name) {
			return 0
		}
		if cmd.run == nil {
			return 0
		}
		return cmd.run(c)
	}
	if pythonName.MatchString(c.name) {
		return runPython(c)
	}
	file, found := s.lookPath(c, called)
	if !found {
		fmt.Fprintf(c.stderr, "%s: not found\n", called)
		return 127
	}
	if isShellScript(s, file) {
		return c.run.runFile(c, file)
	}
	s.unknown(c.run.pkg.Name, c.run.script, c.name)
	return 0
}

// discoverable are the commands that run while diversions are discovered: those whose
// output scripts use to decide whether to divert.
func discoverable(name string) bool {
	switch name {
	case "dpkg", "dpkg-query", "sed", "grep", "cut", "tr", "basename", "dirname", "which-command", "which":
		return true
	}
	return false
}

// lookPath finds a command in the image: the path as given, or the first PATH directory
// that has it.
func (s *System) lookPath(c *cmdCtx, called string) (string, bool) {
	if strings.Contains(called, "/") {
		name, n, err := s.fs.stat(c.dir, called, true)
		return "/" + name, err == nil && n.Kind == KindFile
	}
	for _, d := range strings.Split(c.env.Get("PATH").String(), ":") {
		if d == "" {
			continue
		}
		if _, n, err := s.fs.stat("/", path.Join(d, called), true); err == nil && n.Kind == KindFile && n.Mode&0o111 != 0 {
			return path.Join(d, called), true
		}
	}
	return "", false
}

// isShellScript reports whether the file starts with a #! line naming sh, dash or bash.
func isShellScript(s *System, file string) bool {
	b, err := s.fs.read("/", file)
	if err != nil || !bytes.HasPrefix(b, []byte("#!")) {
		return false
	}
	line, _, _ := bytes.Cut(b[2:], []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return false
	}
	switch path.Base(f[0]) {
	case "sh", "dash", "bash":
		return true
	}
	return false
}

// runFile runs the shell script at file (a program a script called) with the command's
// arguments and standard streams.
func (run *scriptRun) runFile(c *cmdCtx, file string) int {
	src, err := run.s.fs.read("/", file)
	if err != nil {
		return c.fail("%v", err)
	}
	return run.sub(c, src, file, c.args)
}

// sub runs shell code in a nested interpreter that writes to c's streams.
func (run *scriptRun) sub(c *cmdCtx, src []byte, name string, args []string) int {
	if run.depth >= maxDepth {
		return c.fail("scripts nested too deeply")
	}
	child := &scriptRun{s: run.s, pkg: run.pkg, script: run.script, umask: run.umask, depth: run.depth + 1}
	status, err := child.runSourceTo(src, name, args, c.stdin, c.stdout, c.stderr)
	if err != nil {
		return c.fail("%s: %v", name, err)
	}
	return status
}

// runShell is sh -c CODE [NAME ARGS...], or sh FILE ARGS.
func runShell(c *cmdCtx) int {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-c" {
		args = args[1:] // -e and the like
	}
	if len(args) >= 2 && args[0] == "-c" {
		name, params := c.name, []string(nil)
		if len(args) > 2 {
			name, params = args[2], args[3:]
		}
		return c.run.sub(c, []byte(args[1]), name, params)
	}
	if len(args) == 0 {
		src, err := c.readStdin()
		if err != nil {
			return c.fail("%v", err)
		}
		return c.run.sub(c, src, c.name, nil)
	}
	src, err := c.fs().read(c.dir, args[0])
	if err != nil {
		return c.fail("%v", err)
	}
	return c.run.sub(c, src, args[0], args[1:])
}

// runWhich is which and command -v: the path of a command in the image; builtins and the
// commands of the table that the image lacks count as missing, as they would.
func runWhich(builtins bool) func(c *cmdCtx) int {
	return func(c *cmdCtx) int {
		status := 0
		for _, a := range c.args {
			if strings.HasPrefix(a, "-") {
				continue
			}
			if builtins && isBuiltin(a) {
				fmt.Fprintln(c.stdout, a)
				continue
			}
			if p, ok := c.sys().lookPath(c, a); ok {
				fmt.Fprintln(c.stdout, p)
				continue
			}
			status = 1
		}
		return status
	}
}

func isBuiltin(name string) bool {
	switch name {
	case "echo", "printf", "test", "[", "true", "false", "cd", "read", "set", "export", "local", "exit", "return", ".", ":", "eval", "exec", "trap", "umask", "unset", "shift", "command", "type":
		return true
	}
	return false
}

// runPerl runs no Perl program; it answers `perl -e ""` (scripts check with it that perl
// works) and reports the rest.
func runPerl(c *cmdCtx) int {
	if len(c.args) == 2 && c.args[0] == "-e" && strings.TrimSpace(c.args[1]) == "" {
		return 0
	}
	c.sys().unknown(c.run.pkg.Name, c.run.script, "perl")
	return 0
}

// runDate prints the installation time (SOURCE_DATE_EPOCH), whatever the format asked for.
func runDate(c *cmdCtx) int {
	fmt.Fprintln(c.stdout, c.sys().opts.Epoch.UTC().Format("Mon Jan _2 15:04:05 UTC 2006"))
	return 0
}

// runUname describes the machine the image is for (the kernel of the machine it will run on
// is not known; scripts only compare it with old minimum versions).
func runUname(c *cmdCtx) int {
	out := "Linux"
	for _, a := range c.args {
		switch a {
		case "-r":
			out = "6.1.0"
		case "-m":
			out = map[string]string{"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}[c.sys().architecture()]
		}
	}
	fmt.Fprintln(c.stdout, out)
	return 0
}

// errorText is the message of an error without the path prefixes of the FS.
func errorText(err error) string {
	switch {
	case errors.Is(err, errNotExist):
		return "No such file or directory"
	case errors.Is(err, errExist):
		return "File exists"
	case errors.Is(err, errNotDir):
		return "Not a directory"
	case errors.Is(err, errIsDir):
		return "Is a directory"
	case errors.Is(err, errNotEmpty):
		return "Directory not empty"
	}
	return err.Error()
}
