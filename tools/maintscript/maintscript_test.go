package maintscript

import (
	"reflect"
	"strings"
	"testing"
)

func TestAlternatives(t *testing.T) {
	script := `#!/bin/sh
set -e
if [ "$1" = configure ]; then
update-alternatives --quiet \
    --install /usr/bin/cc cc /usr/bin/gcc 20 \
    #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz

/usr/bin/update-alternatives --install /usr/bin/c99 c99 /usr/bin/c99-gcc 20 \
    --slave /usr/share/man/man1/c99.1.gz c99.1.gz /usr/share/man/man1/c99-gcc.1.gz \
    --slave /usr/bin/x x "/usr/bin/$X"
update-alternatives --install /usr/bin/thing thing /usr/bin/$VERSION 10 || true
update-alternatives --install /usr/bin/a a /a 1; update-alternatives --install /usr/bin/b b
fi
`
	got, warnings := Alternatives(script, "gcc")
	want := []Install{
		{Link: "/usr/bin/cc", Name: "cc", Path: "/usr/bin/gcc", Priority: 20},
		{Link: "/usr/bin/c99", Name: "c99", Path: "/usr/bin/c99-gcc", Priority: 20,
			Slaves: []Slave{{Link: "/usr/share/man/man1/c99.1.gz", Name: "c99.1.gz", Path: "/usr/share/man/man1/c99-gcc.1.gz"}}},
		{Link: "/usr/bin/a", Name: "a", Path: "/a", Priority: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("installs:\n got %+v\nwant %+v", got, want)
	}
	wantWarnings := []string{"--slave /usr/bin/x x /usr/bin/$X", "--install /usr/bin/thing thing /usr/bin/$VERSION 10", "incomplete update-alternatives --install"}
	if len(warnings) != len(wantWarnings) {
		t.Fatalf("warnings = %q", warnings)
	}
	for i, w := range wantWarnings {
		if !strings.HasPrefix(warnings[i], "gcc: postinst: ") || !strings.Contains(warnings[i], w) {
			t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
		}
	}
}

func TestDiversions(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string // path>to@pkg, ... ("" package: local)
		warn   int
	}{
		{"dpkg-divert /x", "/x>/x.distrib@me", 0},
		{"/usr/bin/dpkg-divert --divert /y --package p --no-rename --add /x", "/x>/y@p", 0},
		{"dpkg-divert --local --divert=/y /x; dpkg-divert --package q --add /z || true", "/x>/y@,/z>/z.distrib@q", 0},
		{"dpkg-divert --package p --local --add /x", "/x>/x.distrib@", 0},
		{"dpkg-divert --local --package p --add /x", "/x>/x.distrib@p", 0},
		{"dpkg-divert --remove /x\ndpkg-divert --list 'x*'\ndpkg-divert --test --add /x", "", 0},
		{"# dpkg-divert --add /x\n  # dpkg-divert --package foo --add --rename \\\n  #   --divert /a /b", "", 0},
		{"dpkg-divert --add relative", "", 1},
		{"dpkg-divert --add /a /b", "", 1},
		{"dpkg-divert --frobnicate /a", "", 1},
		{"dpkg-divert --add /a --divert", "", 1},
		{"dpkg-divert --package $PKG --add /a", "", 1},
		{"if [ \"$1\" = configure ] && [ -z \"$2\" ]; then\n dpkg-divert /a\nfi", "/a>/a.distrib@me", 0},
		{"if [ \"$1\" = \"upgrade\" ]; then\n dpkg-divert /a\nfi\ndpkg-divert /b", "/b>/b.distrib@me", 0},
		{"if [ \"$1\" = upgrade ]; then\n dpkg-divert /a\nelif [ \"$1\" = install ]; then\n dpkg-divert /b\nelse dpkg-divert /c\nfi", "/b>/b.distrib@me,/c>/c.distrib@me", 0},
		{"case \"$1\" in\n configure) dpkg-divert /a ;;\n remove) dpkg-divert /b ;;\n *) dpkg-divert /c ;;\nesac", "/a>/a.distrib@me,/c>/c.distrib@me", 0},
		{"case \"$1\" in\n remove)\n  dpkg-divert /b\n  ;;\nesac\ndpkg-divert /d", "/d>/d.distrib@me", 0},
		{"case \"$2\" in\n remove) dpkg-divert /b ;;\nesac", "/b>/b.distrib@me", 0},
	} {
		ds, w := Diversions(tc.script, "me", "postinst")
		var got []string
		for _, d := range ds {
			got = append(got, d.Path+">"+d.DivertTo+"@"+d.Package)
		}
		if strings.Join(got, ",") != tc.want || len(w) != tc.warn {
			t.Errorf("%q:\ngot  %q, %d warnings %q\nwant %q, %d warnings", tc.script, strings.Join(got, ","), len(w), w, tc.want, tc.warn)
		}
	}
}

func TestDiversionWarningNamesTheCall(t *testing.T) {
	_, w := Diversions("dpkg-divert --add --divert \"$X.real\" /usr/bin/varcall", "pkg", "preinst")
	if len(w) != 1 || w[0] != "pkg: preinst: dpkg-divert --add --divert $X.real /usr/bin/varcall: cannot interpret it statically; skipped" {
		t.Errorf("warnings = %q", w)
	}
}
