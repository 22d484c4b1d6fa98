package maintscript

import (
	"reflect"
	"strings"
	"testing"
)

// TestDiversions runs dpkg-divert the ways maintainer scripts call it: options in any order,
// only the branches a first installation takes, shell functions (dash's claim_binsh), and
// calls that fail.
func TestDiversions(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string // path>to@pkg, ... in the order added ("" package: local)
		failed bool
	}{
		{"dpkg-divert /x", "/x>/x.distrib@me", false},
		{"/usr/bin/dpkg-divert --divert /y --package p --no-rename --add /x", "/x>/y@p", false},
		{"dpkg-divert --local --divert=/y /x; dpkg-divert --package q --add /z || true", "/x>/y@,/z>/z.distrib@q", false},
		{"dpkg-divert --package p --local --add /x", "/x>/x.distrib@", false},
		{"dpkg-divert --local --package p --add /x", "/x>/x.distrib@p", false},
		{"dpkg-divert /x\ndpkg-divert --remove /x\ndpkg-divert --list 'x*'", "", false},
		{"# dpkg-divert --add /x\n  # dpkg-divert --package foo --add --rename \\\n  #   --divert /a /b", "", false},
		{"set -e\ndpkg-divert --add relative", "", true},
		{"set -e\ndpkg-divert --add /a /b", "", true},
		{"set -e\ndpkg-divert --add --divert \"$X.real\" /varcall", "", true},
		{"if [ \"$1\" = configure ] && [ -z \"$2\" ]; then\n dpkg-divert /a\nfi", "/a>/a.distrib@me", false},
		{"if [ \"$1\" = upgrade ]; then\n dpkg-divert /a\nelif [ \"$1\" = configure ]; then\n dpkg-divert /b\nelse dpkg-divert /c\nfi", "/b>/b.distrib@me", false},
		{"case \"$1\" in\n configure) dpkg-divert /a ;;\n remove) dpkg-divert /b ;;\n *) dpkg-divert /c ;;\nesac", "/a>/a.distrib@me", false},
		// dash's postinst: the diversion is made in a function, from variables.
		{`claim() {
	dfile=$1 distrib=${3:-$dfile.distrib}
	diverter=$(dpkg-divert --listpackage $dfile)
	truename=$(dpkg-divert --truename $dfile)
	if [ "$diverter" = dash ]; then return; fi
	dpkg-divert --package bash --no-rename --remove $dfile
	dpkg-divert --package dash --no-rename --divert $distrib --add $dfile
	echo "$truename" > /truename
}
claim /bin/sh dash
claim /bin/sh dash
claim /usr/share/man/man1/sh.1.gz dash.1.gz /usr/share/man/man1/sh.distrib.1.gz`, "/bin/sh>/bin/sh.distrib@dash,/usr/share/man/man1/sh.1.gz>/usr/share/man/man1/sh.distrib.1.gz@dash", false},
	} {
		s, log := install(t, memFS(), Options{}, pkg("me", tc.script))
		var got []string
		for _, d := range s.Diversions() {
			got = append(got, d.Path+">"+d.DivertTo+"@"+d.Package)
		}
		if strings.Join(got, ",") != tc.want || (len(s.Report().Failures) > 0) != tc.failed {
			t.Errorf("%q:\ngot  %q, failures %q\nwant %q, failed %v\n%s", tc.script, strings.Join(got, ","), s.Report().Failures, tc.want, tc.failed, log)
		}
	}
}

// TestDiscoverDiversions: the scripts run on an empty file system, in configuration order.
func TestDiscoverDiversions(t *testing.T) {
	common := pkg("postgresql-common", "", "preinst", "case \"$1\" in\n install|upgrade)\n  dpkg-divert --package postgresql-common --rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config\n ;;\nesac\n")
	common.Paragraph.Set("Depends", "dash")
	dash := pkg("dash", "dpkg-divert --package dash --no-rename --divert /bin/sh.distrib --add /bin/sh\n")
	got := DiscoverDiversions([]*Package{common, dash})
	want := []Discovered{
		{Diversion: Diversion{Path: "/bin/sh", DivertTo: "/bin/sh.distrib", Package: "dash"}, By: "dash"},
		{Diversion: Diversion{Path: "/usr/bin/pg_config", DivertTo: "/usr/bin/pg_config.libpq-dev", Package: "postgresql-common"}, By: "postgresql-common"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestAlternatives: update-alternatives as dpkg's, with slaves built by shell functions in a
// command substitution (xz-utils) and the links of the best choice.
func TestAlternatives(t *testing.T) {
	f := memFS("usr/", "usr/bin/", "bin->usr/bin", "usr/share/", "usr/share/man/", "usr/share/man/man1/", "etc/",
		"usr/bin/xz=xz", "usr/bin/unxz=unxz", "usr/bin/xzcat=xzcat", "usr/share/man/man1/xz.1.gz=m",
		"usr/bin/gcc->gcc-12", "usr/bin/clang=clang")
	xz := pkg("xz-utils", `set -e
slave () {
	dir=$1 filename=$2 target=$3
	echo "--slave $dir/$filename $filename $dir/$target"
}
update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(
	slave /usr/share/man/man1 lzma.1.gz xz.1.gz
	slave /usr/bin unlzma unxz
	for util in cat more; do
		slave /usr/bin lz$util xz$util
	done
)
update-alternatives --quiet --install /bin/cc cc /usr/bin/gcc 20 #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz
update-alternatives --install /usr/bin/cc cc /usr/bin/clang 10
update-alternatives --install /usr/bin/x x /usr/bin/missing 10 || echo refused
`)
	s, log := install(t, f, Options{Alternatives: true}, xz)
	if r := s.Report(); len(r.Failures)+len(r.Unknown) > 0 || !strings.Contains(log, "refused") {
		t.Fatalf("%+v\n%s", r, log)
	}
	links := map[string]string{
		"usr/bin/lzma": "/etc/alternatives/lzma", "etc/alternatives/lzma": "/usr/bin/xz",
		"usr/bin/unlzma": "/etc/alternatives/unlzma", "etc/alternatives/unlzma": "/usr/bin/unxz",
		"usr/bin/lzcat": "/etc/alternatives/lzcat", "usr/share/man/man1/lzma.1.gz": "/etc/alternatives/lzma.1.gz",
		"usr/bin/cc": "/etc/alternatives/cc", "etc/alternatives/cc": "/usr/bin/gcc",
	}
	for p, want := range links {
		if n, _ := f.Get(p); n.Kind != KindSymlink || n.Link != want {
			t.Errorf("%s -> %q, want %q", p, n.Link, want)
		}
	}
	for _, p := range []string{"usr/bin/lzmore", "etc/alternatives/lzmore", "etc/alternatives/x"} {
		if _, ok := f.Get(p); ok {
			t.Errorf("%s exists; its file is missing", p)
		}
	}
	want := "auto\n/usr/bin/lzma\nlzcat\n/usr/bin/lzcat\nlzma.1.gz\n/usr/share/man/man1/lzma.1.gz\nlzmore\n/usr/bin/lzmore\nunlzma\n/usr/bin/unlzma\n\n" +
		"/usr/bin/xz\n20\n/usr/bin/xzcat\n/usr/share/man/man1/xz.1.gz\n/usr/bin/xzmore\n/usr/bin/unxz\n\n"
	if got := file(t, f, "/var/lib/dpkg/alternatives/lzma"); got != want {
		t.Errorf("alternatives/lzma:\n%q\nwant\n%q", got, want)
	}
	if got := file(t, f, "/var/lib/dpkg/alternatives/cc"); got != "auto\n/usr/bin/cc\n\n/usr/bin/clang\n10\n/usr/bin/gcc\n20\n\n" {
		t.Errorf("alternatives/cc = %q", got)
	}
	// Disabled: reported, nothing made.
	g := memFS("usr/", "usr/bin/", "usr/bin/xz=xz")
	s, _ = install(t, g, Options{}, pkg("x", "update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20"))
	if u := s.Report().Unknown; len(u) != 1 || !strings.HasPrefix(u[0].Command, "update-alternatives") {
		t.Errorf("unknown = %+v", u)
	}
}

// TestDebconf: the noninteractive frontend's answers, the config script run before the
// postinst, and values set by one script read by another.
func TestDebconf(t *testing.T) {
	templates := "Template: tz/area\nType: select\nChoices: Etc, Europe\nDefault: Etc\nDescription: area\n\n" +
		"Template: tz/enable\nType: boolean\nDefault: true\nDescription: x\n\nTemplate: tz/list\nType: multiselect\nChoices: ${list}\nDescription: y\n"
	p := pkg("tz", `. /usr/share/debconf/confmodule
db_version 2.0
db_get tz/area; echo "area=$RET"
db_get tz/list; echo "list=$RET"
db_metaget tz/list choices; echo "choices=$RET"
db_input high tz/area || echo "input=$?"
db_get tz/nope || echo "nope=$?"
db_fget tz/area seen; echo "seen=$RET"
`, "templates", templates, "config", `. /usr/share/debconf/confmodule
db_set tz/list "a, b"
db_subst tz/list list "a, b, c"
echo config ran
`)
	_, log := install(t, memFS(), Options{}, p)
	want := "config ran\n"
	for _, l := range []string{"area=Etc", "list=a, b", "choices=a, b, c", "input=30", "nope=10", "seen=false"} {
		if !strings.Contains(log, l+"\n") {
			t.Errorf("missing %q in\n%s", l, log)
		}
	}
	if !strings.Contains(log, want) || strings.Index(log, "config ran") > strings.Index(log, "area=") {
		t.Errorf("config did not run first:\n%s", log)
	}
}

// TestDpkgTools: dpkg --compare-versions, dpkg-query, dpkg -L, dpkg-maintscript-helper on a
// first installation, dpkg-statoverride and triggers.
func TestDpkgTools(t *testing.T) {
	a := pkg("a", `set -e
dpkg --compare-versions "" lt-nl 1.0 || echo "empty lt-nl fails"
dpkg --compare-versions 1:1.0 gt 2.0 && echo "epoch wins"
dpkg-query -W -f='${Package} ${Version} ${db:Status-Want}\n' a b
dpkg-query -W c 2>/dev/null || echo "c unknown"
dpkg -L b
dpkg-maintscript-helper rm_conffile /etc/old 1.0~ -- "$@"
dpkg-statoverride --list /etc/x || dpkg-statoverride --update --add root 42 0710 /etc/x
dpkg-statoverride --list
dpkg-trigger --no-await mytrigger
`)
	b := pkg("b", `echo "b: $1 $2"`, "triggers", "interest-noawait mytrigger\ninterest /usr/share/b\n")
	b.Files = []string{"/.", "/usr", "/usr/share/b"}
	c := pkg("c", "", "triggers", "activate-noawait mytrigger\n")
	c.Files = []string{"/usr/share/b/x"}
	f := memFS("etc/", "etc/x/")
	s, log := install(t, f, Options{}, a, b)
	for _, l := range []string{"empty lt-nl fails", "epoch wins", "a 1.0-1 install", "b 1.0-1 install", "c unknown", "/.\n/usr\n/usr/share/b\n", "root 42 710 /etc/x", "b: configure \n", "b: triggered mytrigger /usr/share/b\n"} {
		if !strings.Contains(log, l) {
			t.Errorf("missing %q in\n%s", l, log)
		}
	}
	if n, _ := f.Get("etc/x"); n.Mode != 0o710 || n.GID != 42 {
		t.Errorf("statoverride not applied: %+v", n)
	}
	if ov := s.StatOverrides(); len(ov) != 1 || ov[0] != (StatOverride{User: "root", Group: "42", Mode: 0o710, Path: "/etc/x"}) {
		t.Errorf("overrides %+v", ov)
	}
	// A second installation: c's files and declared activation trigger b again.
	var out strings.Builder
	s.opts.Log = &out
	s.Install([]*Package{c}, nil)
	if !strings.Contains(out.String(), "b: triggered /usr/share/b mytrigger\n") {
		t.Errorf("second installation:\n%s", out.String())
	}
	want := []Interest{{Name: "mytrigger", Package: "b", NoAwait: true}, {Name: "/usr/share/b", Package: "b"}}
	if got := s.Interests(); !reflect.DeepEqual(got, want) {
		t.Errorf("interests %+v", got)
	}
}

// TestUnknown: commands of the image that are not shell scripts and not in the table are
// reported per package and script; commands without effect are not.
func TestUnknown(t *testing.T) {
	f := memFS("usr/", "usr/bin/", "usr/bin/tool=\x7fELF", "usr/bin/script.sh=#!/bin/sh\necho from script\n")
	f.SetMeta("usr/bin/tool", Node{Mode: 0o755})
	f.SetMeta("usr/bin/script.sh", Node{Mode: 0o755})
	p := pkg("p", "tool a\nscript.sh\ndeb-systemd-helper enable x.service\npy3compile -p p\nnot-installed || true\ntool b\n", "preinst", "tool")
	s, log := install(t, f, Options{}, p)
	r := s.Report()
	want := []Unknown{{Package: "p", Script: "postinst", Command: "tool"}, {Package: "p", Script: "preinst", Command: "tool"}}
	if !reflect.DeepEqual(r.Unknown, want) || !strings.Contains(log, "from script") || !strings.Contains(log, "not-installed: not found") {
		t.Errorf("unknown %+v\n%s", r.Unknown, log)
	}
	if got := r.Summary(); !reflect.DeepEqual(got, []string{"p: postinst: tool", "p: preinst: tool"}) {
		t.Errorf("summary %q", got)
	}
}

func TestConfigureOrder(t *testing.T) {
	mk := func(name, depends, provides string) *Package {
		p := pkg(name, "")
		p.Paragraph.Set("Depends", depends)
		p.Paragraph.Set("Provides", provides)
		return p
	}
	ps := []*Package{mk("a", "z", ""), mk("b", "virtual", ""), mk("z", "", ""), mk("y", "", "virtual"), mk("c1", "c2", ""), mk("c2", "c1", "")}
	var got []string
	for _, p := range configureOrder(ps, nil) {
		got = append(got, p.Name)
	}
	if strings.Join(got, " ") != "y b z a c1 c2" {
		t.Errorf("order %v", got)
	}
}
