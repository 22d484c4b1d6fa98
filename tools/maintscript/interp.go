package maintscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// scriptRun is one running script (and the scripts and subshells it starts).
type scriptRun struct {
	s      *System
	pkg    *Package
	script string // preinst, postinst, config, or the path of a helper script
	umask  int64
	depth  int // nesting of scripts started by scripts
}

// maxDepth bounds scripts starting scripts.
const maxDepth = 16

// runScript runs control member script of package p with args, if the package has it.
func (s *System) runScript(p *Package, script string, args ...string) {
	body, ok := p.Members[script]
	if !ok {
		return
	}
	run := &scriptRun{s: s, pkg: p, script: script, umask: 0o022}
	var out bytes.Buffer
	status, err := run.runSourceTo(body, script, args, nil, &out, &out)
	s.logf("--- %s: %s %s\n%s", p.Name, script, strings.Join(args, " "), out.String())
	switch {
	case err != nil:
		s.failure(fmt.Sprintf("%s: %s %s: %v", p.Name, script, strings.Join(args, " "), err))
	case status != 0:
		s.failure(fmt.Sprintf("%s: %s %s: exit status %d", p.Name, script, strings.Join(args, " "), status))
	}
}

// runSourceTo parses and runs shell code with positional parameters args, its standard
// output and error going to stdout and stderr; it returns the exit status, or an error when
// the code cannot be parsed or the interpreter fails.
func (run *scriptRun) runSourceTo(src []byte, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	file, err := syntax.NewParser().Parse(bytes.NewReader(src), name)
	if err != nil {
		return 0, fmt.Errorf("parsing: %w", err)
	}
	fixErrexit(file)
	fixDeterminism(file)
	r, err := run.newRunner(shebangOptions(src), args, stdin, stdout, stderr)
	if err != nil {
		return 0, err
	}
	err = r.Run(context.Background(), file)
	var status interp.ExitStatus
	if errors.As(err, &status) {
		return int(status), nil
	}
	return 0, err
}

// env is the environment dpkg gives a maintainer script (DPKG_ROOT is empty: the scripts
// run "in" the image).
func (run *scriptRun) env() []string {
	p := run.pkg
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true",
		"DPKG_MAINTSCRIPT_PACKAGE=" + p.Name, "DPKG_MAINTSCRIPT_NAME=" + path.Base(run.script),
		"DPKG_MAINTSCRIPT_ARCH=" + p.Architecture, "DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1",
		"DPKG_ADMINDIR=/var/lib/dpkg", "DPKG_ROOT=", "DPKG_RUNNING_VERSION=" + run.s.dpkgVersion(),
	}
}

// shebangOptions returns the shell options of a "#!/bin/sh -e" line, as "-e" arguments for
// newRunner (before the positional parameters).
func shebangOptions(src []byte) []string {
	line, _, _ := bytes.Cut(src, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("#!")) {
		return nil
	}
	var opts []string
	for _, f := range strings.Fields(string(line[2:]))[1:] {
		if strings.HasPrefix(f, "-") && strings.Trim(f[1:], "eux") == "" {
			opts = append(opts, f)
		}
	}
	return opts
}

// newRunner makes an interpreter for one script with shell options ("-e") and positional
// parameters args.
func (run *scriptRun) newRunner(options, args []string, stdin io.Reader, stdout, stderr io.Writer) (*interp.Runner, error) {
	return interp.New(
		interp.Env(expand.ListEnviron(run.env()...)),
		interp.Dir("/"),
		interp.Params(append(append(append(run.s.traceFlag(), options...), "--"), args...)...),
		interp.StdIO(stdin, stdout, stderr),
		interp.OpenHandler(run.open),
		interp.StatHandler(run.statInfo),
		interp.ReadDirHandler2(run.readDir),
		interp.AccessHandler(run.access),
		interp.CallHandler(run.call),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return run.exec }),
	)
}

// call rewrites the builtins that would look at the host: umask (which the interpreter does
// not implement) and command -v / type (which search the host's PATH).
func (run *scriptRun) call(ctx context.Context, args []string) ([]string, error) {
	switch {
	case args[0] == "umask" && len(args) == 2:
		var m int64
		if _, err := fmt.Sscanf(args[1], "%o", &m); err == nil {
			run.umask = m & 0o777
		}
		return []string{":"}, nil
	case args[0] == "command" && len(args) > 2 && (args[1] == "-v" || args[1] == "-V"):
		return append([]string{"which-command"}, args[2:]...), nil
	case args[0] == "type" && len(args) > 1:
		return append([]string{"which-command"}, args[1:]...), nil
	case args[0] == "trap" && len(args) > 2:
		return trapArgs(args), nil
	case args[0] == "read":
		if code, ok := posixRead(interp.HandlerCtx(ctx), args[1:]); ok {
			return []string{"eval", code}, nil
		}
	}
	return args, nil
}

// trapArgs keeps the conditions of a trap command that can happen while a script runs in
// the emulation: EXIT (also written 0) and ERR; signals never arrive.
func trapArgs(args []string) []string {
	out := args[:2:2]
	for _, sig := range args[2:] {
		switch sig {
		case "0", "EXIT":
			out = append(out, "EXIT")
		case "ERR":
			out = append(out, sig)
		}
	}
	if len(out) == 2 {
		return []string{":"}
	}
	return out
}

// exec runs a command that is neither a builtin nor a function.
func (run *scriptRun) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	c := &cmdCtx{run: run, name: path.Base(args[0]), args: args[1:], dir: hc.Dir, env: hc.Env,
		stdin: hc.Stdin, stdout: hc.Stdout, stderr: hc.Stderr}
	code := run.s.dispatch(c, args[0])
	if code != 0 {
		return interp.ExitStatus(code)
	}
	return nil
}

// open gives the interpreter the files of the FS (redirections, sourced files).
func (run *scriptRun) open(ctx context.Context, p string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	dir := interp.HandlerCtx(ctx).Dir
	if p == "/dev/null" {
		return nopFile{}, nil
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		if p == "/usr/share/debconf/confmodule" {
			return readOnly{bytes.NewReader([]byte(confmodule))}, nil
		}
		b, err := run.s.fs.read(dir, p)
		if err != nil {
			return nil, err
		}
		return readOnly{bytes.NewReader(b)}, nil
	}
	w := &fileWriter{run: run, dir: dir, path: p, appendTo: flag&os.O_APPEND != 0, mode: int64(perm.Perm()) &^ run.umask}
	if flag&os.O_TRUNC != 0 || !w.appendTo {
		if err := run.s.fs.write(dir, p, nil, w.mode, false); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// fileWriter collects what a redirection writes and stores it when closed.
type fileWriter struct {
	run      *scriptRun
	dir      string
	path     string
	appendTo bool
	mode     int64
	buf      bytes.Buffer
}

func (w *fileWriter) Read([]byte) (int, error)    { return 0, io.EOF }
func (w *fileWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }
func (w *fileWriter) Close() error {
	return w.run.s.fs.write(w.dir, w.path, w.buf.Bytes(), w.mode, true)
}

type nopFile struct{}

func (nopFile) Read([]byte) (int, error)    { return 0, io.EOF }
func (nopFile) Write(b []byte) (int, error) { return len(b), nil }
func (nopFile) Close() error                { return nil }

type readOnly struct{ *bytes.Reader }

func (readOnly) Write([]byte) (int, error) { return 0, fs.ErrPermission }
func (readOnly) Close() error              { return nil }

func (run *scriptRun) statInfo(ctx context.Context, p string, follow bool) (fs.FileInfo, error) {
	if p == "/dev/null" {
		return fileInfo{name: "null", n: Node{Kind: KindOther, Mode: 0o666}}, nil
	}
	_, n, err := run.s.fs.stat(interp.HandlerCtx(ctx).Dir, p, follow)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(p), n: n}, nil
}

func (run *scriptRun) readDir(ctx context.Context, p string) ([]fs.DirEntry, error) {
	dir := interp.HandlerCtx(ctx).Dir
	names, err := run.s.fs.list(dir, p)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(names))
	for _, nm := range names {
		_, n, err := run.s.fs.stat(dir, path.Join(p, nm), false)
		if err != nil {
			continue
		}
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: nm, n: n}))
	}
	return out, nil
}

// access answers -r, -w and -x as root would: everything is readable and writable, and
// executable when any execute bit is set (or it is a directory).
func (run *scriptRun) access(ctx context.Context, p string, mode interp.AccessMode) error {
	_, n, err := run.s.fs.stat(interp.HandlerCtx(ctx).Dir, p, true)
	if err != nil {
		return err
	}
	if mode&interp.AccessExec != 0 && n.Kind != KindDir && n.Mode&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}

// fileInfo is a Node as an fs.FileInfo.
type fileInfo struct {
	name string
	n    Node
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.n.Size }
func (f fileInfo) ModTime() time.Time { return f.n.MTime }
func (f fileInfo) IsDir() bool        { return f.n.Kind == KindDir }
func (f fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(f.n.Mode & 0o777)
	if f.n.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if f.n.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if f.n.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch f.n.Kind {
	case KindDir:
		m |= fs.ModeDir
	case KindSymlink:
		m |= fs.ModeSymlink
	case KindOther:
		m |= fs.ModeDevice
	}
	return m
}
func (f fileInfo) Sys() any {
	return &syscall.Stat_t{Uid: uint32(f.n.UID), Gid: uint32(f.n.GID), Size: f.n.Size}
}

// traceFlag is the shell option that makes the interpreter print the commands (Trace).
func (s *System) traceFlag() []string {
	if s.opts.Trace && s.opts.Log != nil {
		return []string{"-x"}
	}
	return nil
}
