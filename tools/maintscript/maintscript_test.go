package maintscript

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var testEpoch = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC) // day 19509

// pkg is a package with a postinst (and other members as name, body pairs).
func pkg(name, postinst string, members ...string) *Package {
	p := &Package{Name: name, Version: "1.0-1", Architecture: "amd64", Members: map[string][]byte{}}
	if postinst != "" {
		p.Members["postinst"] = []byte(postinst)
	}
	for i := 0; i+1 < len(members); i += 2 {
		p.Members[members[i]] = []byte(members[i+1])
	}
	return p
}

// install runs the packages' scripts as one installation on f and returns the system and
// the scripts' output.
func install(t *testing.T, f FS, opts Options, ps ...*Package) (*System, string) {
	t.Helper()
	var log bytes.Buffer
	opts.Log = &log
	if opts.Epoch.IsZero() {
		opts.Epoch = testEpoch
	}
	s := NewSystem(f, ps, opts)
	s.Install(ps, nil)
	return s, log.String()
}

// memFS returns a MemFS with directories and files ("path" or "path=content"; a trailing
// "/" makes a directory, "path->target" a symlink).
func memFS(entries ...string) *MemFS {
	m := NewMemFS()
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e, "/"):
			m.Put(cleanName(e), Node{Kind: KindDir, Mode: 0o755}, nil)
		case strings.Contains(e, "->"):
			p, target, _ := strings.Cut(e, "->")
			m.Put(cleanName(p), Node{Kind: KindSymlink, Mode: 0o777, Link: target}, nil)
		default:
			p, body, _ := strings.Cut(e, "=")
			m.Put(cleanName(p), Node{Kind: KindFile, Mode: 0o644}, []byte(body))
		}
	}
	return m
}

func file(t *testing.T, f FS, p string) string {
	t.Helper()
	b, err := readAll(f, cleanName(p))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return string(b)
}

// output runs one postinst and returns what it printed.
func output(t *testing.T, f FS, script string) string {
	t.Helper()
	s, log := install(t, f, Options{}, pkg("p", script))
	if r := s.Report(); len(r.Failures)+len(r.Unknown) > 0 {
		t.Errorf("script %q: %+v\n%s", script, r, log)
	}
	return strings.TrimPrefix(log, "--- p: postinst configure \n")
}

// TestShell covers the interpreter's POSIX behaviour the scripts rely on, where
// mvdan.cc/sh alone differs from dash.
func TestShell(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		// set -e ignores a failure on the left of && also when it ends a compound command...
		{"set -e\nif true; then false && true; fi\ncase x in x) ! true;; esac\nfor i in 1; do false || false && :; done\necho reached", "reached\n"},
		// ...but not in a function's last command or a subshell, as in dash.
		{"set -e\nf() { false && true; }\nif f; then echo no; else echo f failed; fi\nf\necho not reached", "f failed\n"},
		{"set -e\n(false && true)\necho not reached", ""},
		// read with an IFS of other characters than white space (update-shells).
		{"printf '# comment\\n/bin/sh # x\\n\\n' | while IFS='#' read -r line _; do echo \"[$line]\"; done", "[]\n[/bin/sh ]\n[]\n"},
		// numeric trap conditions (postgresql-common: trap "rm -f $F" 0 2 3 15).
		{"trap 'echo bye' 0 2 3 15\necho hi", "hi\nbye\n"},
		{"#!/bin/sh -e\nfalse\necho not reached", ""},
		{"x=$(command -v sh); y=$(command -v nope || echo none); echo \"$x $y\"", "/usr/bin/sh none\n"},
		{"umask 066\ntouch /f\nstat -c %a /f", "600\n"},
		{"sh -c 'echo \"$0 $1\"' zero one", "zero one\n"},
		{". /lib.sh\nhello", "hello from lib\n"},
		{"/usr/bin/helper a b", "helper a b\n"},
		{"uname -s; date", "Linux\nThu Jun  1 00:00:00 UTC 2023\n"},
		{"cat; echo \"[$(sort)]\"", "[]\n"}, // a script's standard input is empty
		// no host pid, no random seed
		{"echo /tmp/x.$$ ${$} $RANDOM", "/tmp/x.4242 4242 " + firstRandom() + "\n"},
	} {
		f := memFS("usr/", "usr/bin/", "bin->usr/bin", "usr/bin/sh=#!/bin/sh", "lib.sh=hello() { echo hello from lib; }",
			"usr/bin/helper=#!/bin/sh\necho helper \"$@\"\n")
		f.SetMeta("usr/bin/sh", Node{Mode: 0o755})
		f.SetMeta("usr/bin/helper", Node{Mode: 0o755})
		_, log := install(t, f, Options{}, pkg("p", tc.script))
		if got := strings.TrimPrefix(log, "--- p: postinst configure \n"); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

// TestTextTools checks the emulated text tools against GNU outputs.
func TestTextTools(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{`printf 'a b\nc d\n' | sed -e 's/ /_/g' -e '/^c/d'`, "a_b\n"},
		{`printf 'x\n# y\nz\n' | sed -n '/^#/!p'`, "x\nz\n"},
		{`printf 'ssl = off\nport = 1\n' | sed -e "s/^ssl =.*/ssl = on/"`, "ssl = on\nport = 1\n"},
		{`printf 'a\nb\nc\n' | sed -n '2,$p'`, "b\nc\n"},
		{`printf 'k\nk\n' | sed '0,/^k$/ s/^k$/K/'`, "K\nk\n"},
		{`printf 'Vendor: Debian\n' | sed -ne 's/^Vendor: *\([^ ]\+\) */\1/p' | tr A-Z a-z`, "debian\n"},
		{`echo 's/x/y/' | sed 's|/|_|g'`, "s_x_y_\n"},
		{`printf 'a\n' > /f; sed -i 's/^ *[a-zA-Z]/# &/' /f; cat /f`, "# a\n"},
		{`printf 'one\nTwo\n' | grep -i two; printf 'ab\n' | grep -qE '^(a|c)b$' && echo yes`, "Two\nyes\n"},
		{`printf 'x.crt\n' | grep -F -x -q 'x.crt' && echo fixed; printf 'a\n' | grep -c b; echo $?`, "fixed\n0\n1\n"},
		{`printf 'b\na\nb\n' | sort | uniq -c`, "      1 a\n      2 b\n"},
		{`printf 'b\na\nb\n' | sort -u`, "a\nb\n"},
		{`echo 'a,b, c' | tr ',' '\n' | sed -e 's/^[[:space:]]*//'`, "a\nb\nc\n"},
		{`echo 'f1 f2 f3' | cut -d ' ' -f 2-`, "f2 f3\n"},
		{`printf '1\n2\n3\n' | head -n 2; printf '1\n2\n3\n' | tail -1`, "1\n2\n3\n"},
		{`echo abc | md5sum`, "0bee89b07a248e27c83fc3d5951213c1  -\n"},
		{`printf 'LANG="C.UTF-8"\n' | awk '/^LANG=/ {gsub("\"", ""); sub("LANG=", ""); lang=$0;} END {print lang}'`, "C.UTF-8\n"},
		{`printf '15 main\n16 x\n' | awk "/^15 / { print \$2 }"; echo 'a b c' | awk '{ print $NF, NR }'`, "main\nc 1\n"},
		{`expr ", All locales," : ".*, All locales,.*"; expr 1 + 2`, "14\n3\n"},
		{`seq 2 3; basename /a/b.crt .crt; dirname /a/b`, "2\n3\nb\n/a\n"},
	} {
		if got := output(t, memFS("tmp/"), tc.script); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

// TestFileTools checks the file commands' effect on the file system.
func TestFileTools(t *testing.T) {
	f := memFS("etc/", "tmp/", "usr/", "usr/share/", "usr/share/d/", "usr/share/d/x=X\n", "var/", "var/run/", "run/")
	f.SetMeta("usr/share/d/x", Node{Mode: 0o600})
	out := output(t, f, `set -e
install -d -m 2775 -o 0 -g 42 /run/sock
mkdir -p /a/b/c; mkdir -m 700 /a/p
cp -p /usr/share/d/x /etc/x; cp /usr/share/d/x /etc/y
ln -s ../share/d/x /usr/share/link; ln -sf debian /etc/origin
rmdir /var/run; ln -s /run /var/run
mkdir /var/run/inside
touch /etc/t; chmod 640 /etc/t; chown 7:8 /etc/t; chmod u+x,go-r /etc/t
mv /etc/y /etc/z; rm -f /etc/none
readlink -f /var/run/inside; readlink /etc/origin; realpath -m /var/run/../x
[ -L /var/run ] && [ -d /var/run/ ] && echo linked
mktemp; mktemp -d --tmpdir=/a p.XXX
`)
	if out != "/run/inside\ndebian\n/x\nlinked\n/tmp/tmp.0000000001\n/a/p.002\n" {
		t.Errorf("output %q", out)
	}
	for p, want := range map[string]Node{
		"run/sock":           {Kind: KindDir, Mode: 0o2775, GID: 42},
		"a/b/c":              {Kind: KindDir, Mode: 0o755},
		"a/p":                {Kind: KindDir, Mode: 0o700},
		"etc/x":              {Kind: KindFile, Mode: 0o600, Size: 2},
		"etc/z":              {Kind: KindFile, Mode: 0o600, Size: 2},
		"usr/share/link":     {Kind: KindSymlink, Mode: 0o777, Link: "../share/d/x"},
		"var/run":            {Kind: KindSymlink, Mode: 0o777, Link: "/run"},
		"run/inside":         {Kind: KindDir, Mode: 0o755},
		"etc/t":              {Kind: KindFile, Mode: 0o700, UID: 7, GID: 8},
		"tmp/tmp.0000000001": {Kind: KindFile, Mode: 0o600},
	} {
		n, ok := f.Get(p)
		n.MTime = time.Time{}
		if !ok || n != want {
			t.Errorf("%s = %+v (exists %v), want %+v", p, n, ok, want)
		}
	}
	if _, ok := f.Get("etc/y"); ok {
		t.Error("etc/y was not moved")
	}
}

// firstRandom is $RANDOM's first value after the seeding every script starts with.
func firstRandom() string {
	var log strings.Builder
	s := NewSystem(NewMemFS(), nil, Options{Log: &log})
	s.runScript(pkg("p", "echo $RANDOM"), "postinst")
	return strings.TrimSpace(strings.TrimPrefix(log.String(), "--- p: postinst \n"))
}
