package resolve

import (
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/deb822"
)

// pkg is a test package and the priority of its repository.
type pkg struct {
	aptrepo.Package
	repoPrio int
}

// universe builds packages from control-file-like paragraphs. Besides the
// usual fields it understands "Repo" and "Repo-Priority"; Architecture
// defaults to amd64, Version to 1 and Repo to "debian".
func universe(t testing.TB, text string) []pkg {
	t.Helper()
	paras, err := deb822.ParseAllString(text)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]pkg, 0, len(paras))
	for _, para := range paras {
		p := pkg{Package: aptrepo.Package{Architecture: "amd64", Version: "1", Repo: "debian"}}
		for _, f := range para.Fields {
			if err := p.set(f.Name, f.Value); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, p)
	}
	return out
}

// set sets the field called name.
func (p *pkg) set(name, v string) error {
	strs := map[string]*string{
		"Package": &p.Name, "Version": &p.Version, "Architecture": &p.Architecture,
		"Depends": &p.Depends, "Pre-Depends": &p.PreDepends, "Recommends": &p.Recommends,
		"Provides": &p.Provides, "Conflicts": &p.Conflicts, "Breaks": &p.Breaks,
		"Multi-Arch": &p.MultiArch, "Priority": &p.Priority, "Repo": &p.Repo,
	}
	switch {
	case strs[name] != nil:
		*strs[name] = v
	case name == "Essential":
		p.Essential = v == "yes"
	case name == "Repo-Priority":
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		p.repoPrio = n
	default:
		return fmt.Errorf("unknown field %q", name)
	}
	return nil
}

// index indexes pkgs for amd64, one repository per (Repo, priority), in
// the order they first appear.
func index(pkgs []pkg) *Index {
	var repos []*aptrepo.Index
	byKey := map[string]*aptrepo.Index{}
	for _, p := range pkgs {
		k := p.Repo + " " + strconv.Itoa(p.repoPrio)
		r := byKey[k]
		if r == nil {
			r = &aptrepo.Index{Source: aptrepo.Source{Name: p.Repo, Priority: p.repoPrio}}
			byKey[k] = r
			repos = append(repos, r)
		}
		r.Packages = append(r.Packages, p.Package)
	}
	return NewIndex("amd64", repos...)
}

func reqs(names ...string) []Request {
	var rs []Request
	for _, n := range names {
		name, ver, _ := strings.Cut(n, "=")
		rs = append(rs, Request{Name: name, Version: ver})
	}
	return rs
}

func resolveOK(t *testing.T, pkgs []pkg, opts Options, names ...string) *Result {
	t.Helper()
	res, err := index(pkgs).Resolve(reqs(names...), opts)
	if err != nil {
		t.Fatalf("Resolve(%v): %v", names, err)
	}
	return res
}

func resolveErr(t *testing.T, pkgs []pkg, opts Options, names ...string) string {
	t.Helper()
	res, err := index(pkgs).Resolve(reqs(names...), opts)
	if err == nil {
		t.Fatalf("Resolve(%v): no error, got %v", names, keys(res))
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	return err.Error()
}

func keys(res *Result) []string {
	var ks []string
	for _, p := range res.Packages {
		ks = append(ks, p.Key())
	}
	return ks
}

func wantKeys(t *testing.T, res *Result, want ...string) {
	t.Helper()
	if got := keys(res); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

const pgUniverse = `
Package: postgresql-16
Version: 16.13-1.pgdg120+1
Depends: postgresql-client-16, libpq5 (>= 16.1)
Repo: pgdg

Package: postgresql-16
Version: 16.1-1.pgdg120+1
Depends: postgresql-client-16, libpq5 (>= 16.1)
Repo: pgdg-archive

Package: postgresql-16
Version: 16.1-2.pgdg120+1
Depends: postgresql-client-16, libpq5 (>= 16.1)
Repo: pgdg-archive

Package: postgresql-16
Version: 16.10-1.pgdg120+1
Depends: postgresql-client-16, libpq5 (>= 16.1)
Repo: pgdg-archive

Package: postgresql-client-16
Version: 16.13-1.pgdg120+1
Depends: libpq5 (>= 16.13)
Repo: pgdg

Package: postgresql-client-16
Version: 16.1-2.pgdg120+1
Depends: libpq5 (>= 16.1)
Repo: pgdg-archive

Package: libpq5
Version: 17.9-1.pgdg120+1
Repo: pgdg

Package: libpq5
Version: 15.14-0+deb12u1

Package: libpq5
Version: 16.1-2.pgdg120+1
Repo: pgdg-archive
`

func TestPinUpstreamIsNotAPrefix(t *testing.T) {
	pkgs := universe(t, pgUniverse)
	// "16.1" matches 16.1-1 and 16.1-2 (the highest wins), never 16.13 or 16.10:
	// a prefix grep (the Citus Makefile bug) would pick 16.13 or 16.10.
	res := resolveOK(t, pkgs, Options{}, "postgresql-16=16.1")
	wantKeys(t, res,
		"libpq5_17.9-1.pgdg120+1_amd64",
		"postgresql-16_16.1-2.pgdg120+1_amd64",
		"postgresql-client-16_16.13-1.pgdg120+1_amd64")
	for _, p := range res.Packages {
		if p.Name == "postgresql-16" && strings.HasPrefix(p.Version, "16.1") && p.Version != "16.1-2.pgdg120+1" {
			t.Errorf("prefix match picked %s", p.Version)
		}
	}
	res = resolveOK(t, pkgs, Options{}, "postgresql-16=16.1-1.pgdg120+1")
	if k := keys(res)[1]; k != "postgresql-16_16.1-1.pgdg120+1_amd64" {
		t.Errorf("exact pin: got %s", k)
	}
	res = resolveOK(t, pkgs, Options{}, "postgresql-16=16.13")
	if k := keys(res)[1]; k != "postgresql-16_16.13-1.pgdg120+1_amd64" {
		t.Errorf("16.13 pin: got %s", k)
	}
	res = resolveOK(t, pkgs, Options{}, "postgresql-16=16.10")
	if k := keys(res)[1]; k != "postgresql-16_16.10-1.pgdg120+1_amd64" {
		t.Errorf("16.10 pin: got %s", k)
	}
	// A pin for the whole family through Options.Pins.
	res = resolveOK(t, pkgs, Options{Pins: map[string]string{"postgresql-client-16": "16.1", "libpq5": "16.1"}}, "postgresql-16=16.1")
	wantKeys(t, res,
		"libpq5_16.1-2.pgdg120+1_amd64",
		"postgresql-16_16.1-2.pgdg120+1_amd64",
		"postgresql-client-16_16.1-2.pgdg120+1_amd64")
}

func TestPinMatches(t *testing.T) {
	tests := []struct {
		v, pin string
		want   bool
	}{
		{"16.1-1.pgdg120+1", "16.1", true},
		{"16.1-1.pgdg120+1", "16.1-1.pgdg120+1", true},
		{"16.13-1.pgdg120+1", "16.1", false},
		{"16.1-1.pgdg120+1", "16", false},
		{"16.1-1.pgdg120+1", "16.1-1", false},
		{"1:16.1-1", "16.1", true},
		{"1:16.1-1", "1:16.1", true},
		{"1:16.1-1", "1:16.1-1", true},
		{"1:16.1", "16.1", true},
		{"16.1", "16.1", true},
		{"16.1", "16", false},
		{"2.0-rc1-1", "2.0-rc1", true},
		{"2.0-rc1-1", "2.0", false},
	}
	for _, tt := range tests {
		if got := pinMatches(tt.v, tt.pin); got != tt.want {
			t.Errorf("pinMatches(%q, %q) = %v, want %v", tt.v, tt.pin, got, tt.want)
		}
	}
}

func TestUnsatisfiablePin(t *testing.T) {
	pkgs := universe(t, pgUniverse)
	got := resolveErr(t, pkgs, Options{}, "postgresql-16=16.99")
	want := "postgresql-16=16.99: no such version (available: 16.13-1.pgdg120+1, 16.10-1.pgdg120+1, 16.1-2.pgdg120+1, 16.1-1.pgdg120+1)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = resolveErr(t, pkgs, Options{Pins: map[string]string{"libpq5": "14"}}, "postgresql-16")
	if !strings.Contains(got, "libpq5=14: no such version") {
		t.Errorf("got %s", got)
	}
	got = resolveErr(t, pkgs, Options{Pins: map[string]string{"libpq6": "14"}}, "postgresql-16")
	if !strings.Contains(got, `unknown package "libpq6"`) {
		t.Errorf("got %s", got)
	}
	got = resolveErr(t, pkgs, Options{Pins: map[string]string{"postgresql-16": "16.13"}}, "postgresql-16=16.1")
	if !strings.Contains(got, "Options.Pins selects 16.13-1.pgdg120+1") {
		t.Errorf("got %s", got)
	}
	got = resolveErr(t, pkgs, Options{}, "postgresql-16=16.1", "postgresql-16=16.13")
	if !strings.Contains(got, "requested twice") && !strings.Contains(got, "Options.Pins") {
		t.Errorf("got %s", got)
	}
}

func TestUnknownPackage(t *testing.T) {
	pkgs := universe(t, pgUniverse)
	if got, want := resolveErr(t, pkgs, Options{}, "libpq5", "nosuchpkg"), `unknown package "nosuchpkg" (requested)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	pkgs = universe(t, `
Package: bar
Depends: nosuchlib (>= 1) | alsomissing`)
	got := resolveErr(t, pkgs, Options{}, "bar")
	want := `nosuchlib (>= 1) | alsomissing needed by bar_1_amd64: no package or provider named "nosuchlib"; no package or provider named "alsomissing"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCandidateDoesNotSatisfy(t *testing.T) {
	pkgs := universe(t, `
Package: bar
Depends: libfoo (>= 3)

Package: libfoo
Version: 2-1

Package: libfoo
Version: 3-1
Repo: old
Repo-Priority: 100`)
	got := resolveErr(t, pkgs, Options{}, "bar")
	want := "libfoo (>= 3) needed by bar_1_amd64: candidate libfoo 2-1 does not satisfy"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A pin makes the non-candidate version usable.
	res := resolveOK(t, pkgs, Options{Pins: map[string]string{"libfoo": "3"}}, "bar")
	wantKeys(t, res, "bar_1_amd64", "libfoo_3-1_amd64")
}

func TestRepoPriorityBeatsVersion(t *testing.T) {
	text := `
Package: libpq5
Version: 17.9-1.pgdg120+1
Repo: pgdg
Repo-Priority: %d

Package: libpq5
Version: 15.14-0+deb12u1
Repo: debian
Repo-Priority: %d`
	pkgs := universe(t, fmt.Sprintf(text, 500, 500))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5"), "libpq5_17.9-1.pgdg120+1_amd64")
	pkgs = universe(t, fmt.Sprintf(text, 100, 500))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5"), "libpq5_15.14-0+deb12u1_amd64")
	pkgs = universe(t, fmt.Sprintf(text, 500, 990))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5"), "libpq5_15.14-0+deb12u1_amd64")
	// 0 means the default 500.
	pkgs = universe(t, fmt.Sprintf(text, 0, 400))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5"), "libpq5_17.9-1.pgdg120+1_amd64")
	// Negative priorities never give a candidate...
	pkgs = universe(t, fmt.Sprintf(text, -1, 400))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5"), "libpq5_15.14-0+deb12u1_amd64")
	pkgs = universe(t, fmt.Sprintf(text, -1, -1))
	if got := resolveErr(t, pkgs, Options{}, "libpq5"); !strings.Contains(got, "no installation candidate") {
		t.Errorf("got %s", got)
	}
	// ...but an explicit version request still works, as with apt-get install p=v.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "libpq5=17.9"), "libpq5_17.9-1.pgdg120+1_amd64")
}

const awkUniverse = `
Package: mawk
Version: 1.3.4.20200120-3.1
Priority: required
Provides: awk

Package: gawk
Version: 1:5.2.1-2
Priority: optional
Provides: awk

Package: original-awk
Version: 2012-12-20-10
Priority: optional
Provides: awk

Package: busybox
Version: 1:1.35.0-4
Priority: optional

Package: needs-awk
Depends: awk`

func TestVirtualPicksRequiredProvider(t *testing.T) {
	pkgs := universe(t, awkUniverse)
	// bookworm: apt-get install of something depending on awk gets mawk,
	// the Priority: required provider.
	res := resolveOK(t, pkgs, Options{}, "needs-awk")
	wantKeys(t, res, "mawk_1.3.4.20200120-3.1_amd64", "needs-awk_1_amd64")
	if got := res.Deps["needs-awk_1_amd64"]; !reflect.DeepEqual(got, []string{"mawk_1.3.4.20200120-3.1_amd64"}) {
		t.Errorf("needs-awk deps %q", got)
	}
	// A provider already selected wins, whatever the request order.
	for _, order := range [][]string{{"gawk", "needs-awk"}, {"needs-awk", "gawk"}} {
		res = resolveOK(t, pkgs, Options{}, order...)
		wantKeys(t, res, "gawk_1:5.2.1-2_amd64", "needs-awk_1_amd64")
	}
	// Requesting the virtual itself with several providers is an error, like apt.
	got := resolveErr(t, pkgs, Options{}, "awk")
	if want := `package "awk" is virtual and provided by gawk, mawk, original-awk: request one of them (requested)`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Essential beats priority; with equal priorities the name decides.
	pkgs = universe(t, strings.ReplaceAll(awkUniverse, "Priority: required", "Priority: optional")+`

Package: zawk
Priority: optional
Essential: yes
Provides: awk`)
	wantKeys(t, resolveOK(t, pkgs, Options{}, "needs-awk"), "needs-awk_1_amd64", "zawk_1_amd64")
	pkgs = universe(t, strings.ReplaceAll(awkUniverse, "Priority: required", "Priority: optional"))
	wantKeys(t, resolveOK(t, pkgs, Options{}, "needs-awk"), "gawk_1:5.2.1-2_amd64", "needs-awk_1_amd64")
}

func TestVirtualSingleProviderRequest(t *testing.T) {
	pkgs := universe(t, `
Package: exim4-daemon-light
Provides: mail-transport-agent
Conflicts: mail-transport-agent`)
	// One provider: selected (apt: "Note, selecting ... instead of ...");
	// conflicting with a virtual it provides itself is fine.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "mail-transport-agent"), "exim4-daemon-light_1_amd64")
	if got := resolveErr(t, pkgs, Options{}, "mail-transport-agent=1"); !strings.Contains(got, "virtual") {
		t.Errorf("got %s", got)
	}
}

func TestVersionedProvides(t *testing.T) {
	pkgs := universe(t, `
Package: app
Depends: foo-abi (>= 2)

Package: app-unversioned
Depends: bar (>= 1)

Package: app-plain
Depends: bar

Package: libfoo2
Provides: foo-abi (= 2.1)

Package: libfoo1
Provides: foo-abi (= 1.0)

Package: barimpl
Provides: bar`)
	wantKeys(t, resolveOK(t, pkgs, Options{}, "app"), "app_1_amd64", "libfoo2_1_amd64")
	// An unversioned Provides never satisfies a versioned relation.
	got := resolveErr(t, pkgs, Options{}, "app-unversioned")
	if want := `bar (>= 1) needed by app-unversioned_1_amd64: no provider satisfies (barimpl 1 provides bar unversioned)`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantKeys(t, resolveOK(t, pkgs, Options{}, "app-plain"), "app-plain_1_amd64", "barimpl_1_amd64")
}

func TestAlternatives(t *testing.T) {
	pkgs := universe(t, `
Package: x
Depends: a | b

Package: y
Depends: missing | b

Package: z
Depends: a (>= 2) | b

Package: w
Depends: broken | b

Package: broken
Depends: nothing-provides-this

Package: v
Depends: c | a

Package: c
Depends: b

Package: a

Package: b`)
	// First alternative.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "x"), "a_1_amd64", "x_1_amd64")
	// An alternative already selected wins (b requested, even after x).
	wantKeys(t, resolveOK(t, pkgs, Options{}, "x", "b"), "b_1_amd64", "x_1_amd64")
	// An alternative selected earlier through another dependency wins too.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "c", "x"), "b_1_amd64", "c_1_amd64", "x_1_amd64")
	// Missing or too-old first alternatives fall through.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "y"), "b_1_amd64", "y_1_amd64")
	wantKeys(t, resolveOK(t, pkgs, Options{}, "z"), "b_1_amd64", "z_1_amd64")
	// An alternative whose own dependencies cannot be met is skipped.
	wantKeys(t, resolveOK(t, pkgs, Options{}, "w"), "b_1_amd64", "w_1_amd64")
	// Depth-first: v takes c, c pulls b; a is never needed.
	res := resolveOK(t, pkgs, Options{}, "v")
	wantKeys(t, res, "b_1_amd64", "c_1_amd64", "v_1_amd64")
	if !reflect.DeepEqual(res.Deps["c_1_amd64"], []string{"b_1_amd64"}) || !reflect.DeepEqual(res.Deps["v_1_amd64"], []string{"c_1_amd64"}) {
		t.Errorf("deps %v", res.Deps)
	}
	// Only broken: the error names the real missing piece.
	got := resolveErr(t, pkgs, Options{}, "broken")
	if want := `nothing-provides-this needed by broken_1_amd64: no package or provider named "nothing-provides-this"`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestArchQualifiers(t *testing.T) {
	pkgs := universe(t, `
Package: tool
Depends: python3:any, perl:any (>= 5), libc6:amd64, data:native, only-i386 [i386], not-here [!amd64], here [amd64 arm64], ignored:i386 [i386]

Package: python3
Multi-Arch: allowed

Package: perl
Version: 5.36.0-7
Multi-Arch: allowed

Package: libc6
Multi-Arch: same

Package: libc6
Version: 9
Architecture: i386

Package: data
Architecture: all
Multi-Arch: foreign

Package: here

Package: needs-any-foreign
Depends: libc6:any

Package: needs-provided-any
Depends: virt:any

Package: provider-allowed
Provides: virt
Multi-Arch: allowed

Package: needs-i386
Depends: libc6:i386`)
	res := resolveOK(t, pkgs, Options{}, "tool")
	wantKeys(t, res, "data_1_all", "here_1_amd64", "libc6_1_amd64", "perl_5.36.0-7_amd64", "python3_1_amd64", "tool_1_amd64")
	got := resolveErr(t, pkgs, Options{}, "needs-any-foreign")
	if want := "libc6:any needed by needs-any-foreign_1_amd64: candidate libc6 1 is not Multi-Arch: allowed"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantKeys(t, resolveOK(t, pkgs, Options{}, "needs-provided-any"), "needs-provided-any_1_amd64", "provider-allowed_1_amd64")
	if got := resolveErr(t, pkgs, Options{}, "needs-i386"); !strings.Contains(got, `architecture "i386"`) {
		t.Errorf("got %s", got)
	}
	if _, err := index(pkgs).Resolve(reqs("tool"), Options{Arch: "arm64"}); err == nil {
		t.Error("architecture mismatch accepted")
	}
}

func TestPreDependsAndCycles(t *testing.T) {
	pkgs := universe(t, `
Package: app
Pre-Depends: init-system-helpers (>= 1.54~)
Depends: libapp

Package: init-system-helpers
Version: 1.65.2
Depends: perl-base

Package: perl-base
Pre-Depends: libc6
Essential: yes

Package: libc6
Version: 2.36-9
Depends: libgcc-s1

Package: libgcc-s1
Depends: libc6 (>= 2.35)

Package: libapp
Depends: app`)
	res := resolveOK(t, pkgs, Options{}, "app")
	wantKeys(t, res, "app_1_amd64", "init-system-helpers_1.65.2_amd64", "libapp_1_amd64", "libc6_2.36-9_amd64", "libgcc-s1_1_amd64", "perl-base_1_amd64")
	wantDeps := map[string][]string{
		"app_1_amd64":                      {"init-system-helpers_1.65.2_amd64", "libapp_1_amd64"},
		"init-system-helpers_1.65.2_amd64": {"perl-base_1_amd64"},
		"libapp_1_amd64":                   {"app_1_amd64"},
		"libc6_2.36-9_amd64":               {"libgcc-s1_1_amd64"},
		"libgcc-s1_1_amd64":                {"libc6_2.36-9_amd64"},
		"perl-base_1_amd64":                {"libc6_2.36-9_amd64"},
	}
	if !reflect.DeepEqual(res.Deps, wantDeps) {
		t.Errorf("deps\n%v\nwant\n%v", res.Deps, wantDeps)
	}
}

func TestConflictsAndBreaks(t *testing.T) {
	pkgs := universe(t, `
Package: a
Conflicts: b (<< 2)

Package: b

Package: c
Breaks: virt

Package: d
Provides: virt

Package: e
Conflicts: b [i386]`)
	got := resolveErr(t, pkgs, Options{}, "a", "b")
	if want := "a_1_amd64 conflicts with b_1_amd64 (Conflicts: b (<< 2))"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = resolveErr(t, pkgs, Options{}, "d", "c")
	if want := "c_1_amd64 breaks d_1_amd64 (Breaks: virt)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantKeys(t, resolveOK(t, pkgs, Options{}, "e", "b"), "b_1_amd64", "e_1_amd64")
}

func TestRecommendsAndExclude(t *testing.T) {
	pkgs := universe(t, `
Package: app
Depends: libc6 (>= 2.36), awk, debconf (>= 0.5) | debconf-2.0
Recommends: extra, missing-recommend

Package: extra

Package: libc6
Version: 2.36-9

Package: mawk
Priority: required
Provides: awk

Package: debconf
Provides: debconf-2.0`)
	wantKeys(t, resolveOK(t, pkgs, Options{}, "app"), "app_1_amd64", "debconf_1_amd64", "libc6_2.36-9_amd64", "mawk_1_amd64")
	wantKeys(t, resolveOK(t, pkgs, Options{Recommends: true}, "app"), "app_1_amd64", "debconf_1_amd64", "extra_1_amd64", "libc6_2.36-9_amd64", "mawk_1_amd64")
	// Excluded packages satisfy relations on their names and on what they provide.
	res := resolveOK(t, pkgs, Options{Exclude: []string{"libc6", "mawk", "debconf", "app"}}, "app")
	if len(res.Packages) != 0 {
		t.Errorf("got %v", keys(res))
	}
	res = resolveOK(t, pkgs, Options{Exclude: []string{"libc6", "mawk", "debconf"}}, "app")
	wantKeys(t, res, "app_1_amd64")
	if d := res.Deps["app_1_amd64"]; len(d) != 0 {
		t.Errorf("deps on excluded packages: %v", d)
	}
}

func TestDeterministicUnderShuffle(t *testing.T) {
	pkgs := universe(t, pgUniverse+"\n\n"+awkUniverse+`

Package: mix
Depends: needs-awk, libpq5 | libpq-virtual, foo-abi (>= 1)

Package: libfoo1
Provides: foo-abi (= 1)

Package: libfoo2
Provides: foo-abi (= 2)

Package: libfoo2
Version: 0.9
Provides: foo-abi (= 3)`)
	want := resolveOK(t, pkgs, Options{}, "mix", "postgresql-16=16.1")
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		shuffled := append([]pkg(nil), pkgs...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := resolveOK(t, shuffled, Options{}, "mix", "postgresql-16=16.1")
		if !reflect.DeepEqual(keys(got), keys(want)) || !reflect.DeepEqual(got.Deps, want.Deps) {
			t.Fatalf("shuffle %d: got %v %v, want %v %v", i, keys(got), got.Deps, keys(want), want.Deps)
		}
	}
	wantKeys(t, want, "libfoo1_1_amd64", "libpq5_17.9-1.pgdg120+1_amd64", "mawk_1.3.4.20200120-3.1_amd64", "mix_1_amd64",
		"needs-awk_1_amd64", "postgresql-16_16.1-2.pgdg120+1_amd64", "postgresql-client-16_16.13-1.pgdg120+1_amd64")
}

func TestBadFields(t *testing.T) {
	pkgs := universe(t, `
Package: app
Depends: lib (>= )

Package: prov
Provides: x (= `)
	if got := resolveErr(t, pkgs, Options{}, "app"); !strings.Contains(got, "app_1_amd64: Depends:") || !strings.Contains(got, `"lib (>= )"`) {
		t.Errorf("got %s", got)
	}
	if got := resolveErr(t, pkgs, Options{}, "prov"); !strings.Contains(got, "prov_1_amd64: Provides:") {
		t.Errorf("got %s", got)
	}
}

func TestConcurrentResolve(t *testing.T) {
	pkgs := generate(5000, 7)
	ix := index(pkgs)
	want, err := ix.Resolve(benchRequests(5000), Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Result)
	for i := 0; i < 4; i++ {
		go func() {
			res, err := ix.Resolve(benchRequests(5000), Options{})
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
	}
	for i := 0; i < 4; i++ {
		if got := <-done; got != nil && !reflect.DeepEqual(keys(got), keys(want)) {
			t.Error("concurrent resolutions differ")
		}
	}
}

// generate builds a synthetic universe shaped like a Debian main index:
// n names, a tenth with a second version in another repo, libraries with
// versioned dependencies on lower-numbered packages, some alternatives and
// virtual packages.
func generate(n int, seed int64) []pkg {
	rng := rand.New(rand.NewSource(seed))
	name := func(i int) string { return fmt.Sprintf("pkg%05d", i) }
	pkgs := make([]pkg, 0, n+n/10)
	for i := 0; i < n; i++ {
		p := pkg{Package: aptrepo.Package{Name: name(i), Version: fmt.Sprintf("%d.%d-%d", 1+i%7, i%13, 1+i%3), Architecture: "amd64", Repo: "debian", Priority: "optional"}}
		if i%9 == 0 {
			p.Architecture = "all"
		}
		if i%50 == 0 {
			p.Provides = fmt.Sprintf("virt%03d, virtv%03d (= 1.%d)", i%200, i%100, i%10)
		}
		if i > 20 {
			var deps []string
			for d := rng.Intn(6); d > 0; d-- {
				j := rng.Intn(i)
				switch rng.Intn(10) {
				case 0:
					deps = append(deps, fmt.Sprintf("%s (>= 1.0) | %s", name(j), name(rng.Intn(i))))
				case 1:
					deps = append(deps, fmt.Sprintf("virt%03d", (j/50*50)%200))
				default:
					deps = append(deps, fmt.Sprintf("%s (>= %d.0)", name(j), 1+j%7))
				}
			}
			p.Depends = strings.Join(deps, ", ")
			if rng.Intn(4) == 0 {
				p.PreDepends = name(rng.Intn(20))
			}
			if rng.Intn(3) == 0 {
				p.Recommends = name(rng.Intn(i))
			}
		}
		pkgs = append(pkgs, p)
		if i%10 == 0 {
			q := p
			q.Version = p.Version + "+deb12u1"
			q.Repo = "debian-security"
			pkgs = append(pkgs, q)
		}
	}
	return pkgs
}

func benchRequests(n int) []Request {
	var rs []Request
	for i := n - 1; i >= 0 && len(rs) < 40; i -= n / 40 {
		rs = append(rs, Request{Name: fmt.Sprintf("pkg%05d", i)})
	}
	return rs
}

func TestGeneratedUniverseResolves(t *testing.T) {
	pkgs := generate(60000, 1)
	res, err := index(pkgs).Resolve(benchRequests(60000), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) < 100 {
		t.Errorf("closure too small: %d", len(res.Packages))
	}
}

func BenchmarkNewIndexAndResolve60k(b *testing.B) {
	pkgs := generate(60000, 1)
	rs := benchRequests(60000)
	b.ResetTimer()
	var n int
	for b.Loop() {
		// Fresh copies so that no lazily parsed state is reused.
		res, err := index(pkgs).Resolve(rs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Packages)
	}
	b.ReportMetric(float64(n), "pkgs")
}

func BenchmarkResolve60k(b *testing.B) {
	pkgs := generate(60000, 1)
	rs := benchRequests(60000)
	ix := index(pkgs)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ix.Resolve(rs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOnlyTheClosure(t *testing.T) {
	// On an empty status apt installs the closure of the request only:
	// Essential and Priority: required packages are not added.
	pkgs := universe(t, `
Package: app
Depends: lib

Package: lib

Package: bash
Essential: yes
Priority: required

Package: dpkg
Essential: yes
Priority: required`)
	wantKeys(t, resolveOK(t, pkgs, Options{}, "app"), "app_1_amd64", "lib_1_amd64")
	if n := index(pkgs).Len(); n != 4 {
		t.Errorf("Len = %d", n)
	}
}

func TestKnownAndWithPriority(t *testing.T) {
	ix := index(universe(t, awkUniverse+`

Package: dash
Priority: required
Provides: sh

Package: dash
Version: 2
Priority: optional
Repo: other

Package: armonly
Architecture: arm64
Priority: required
Provides: armvirt`))
	for name, want := range map[string]bool{"mawk": true, "awk": true, "sh": true, "busybox": true, "armonly": false, "armvirt": false, "nope": false} {
		if got := ix.Known(name); got != want {
			t.Errorf("Known(%q) = %v, want %v", name, got, want)
		}
	}
	if got := ix.WithPriority("required"); !reflect.DeepEqual(got, []string{"dash", "mawk"}) {
		t.Errorf("WithPriority(required) = %q", got)
	}
	if got := ix.WithPriority("optional"); !reflect.DeepEqual(got, []string{"busybox", "dash", "gawk", "original-awk"}) {
		t.Errorf("WithPriority(optional) = %q", got)
	}
	if got := ix.WithPriority("extra"); got != nil {
		t.Errorf("WithPriority(extra) = %q", got)
	}
}
