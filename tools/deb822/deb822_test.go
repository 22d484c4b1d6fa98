package deb822

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// A slice of a real bookworm Packages index and a dpkg status entry.
const sample = `Package: 0ad
Version: 0.0.26-3
Installed-Size: 28591
Maintainer: Debian Games Team <pkg-games-devel@lists.alioth.debian.org>
Architecture: amd64
Depends: 0ad-data (>= 0.0.26), 0ad-data (<= 0.0.26-3), 0ad-data-common (>= 0.0.26), 0ad-data-common (<= 0.0.26-3), libboost-filesystem1.74.0 (>= 1.74.0), libc6 (>= 2.34)
Pre-Depends: dpkg (>= 1.15.6~)
Description: Real-time strategy game of ancient warfare
Homepage: https://play0ad.com/
Description-md5: d943033bedada21853d2ae54a2578a7b
Tag: game::strategy, interface::graphical, interface::x11, role::program,
 uitoolkit::sdl, uitoolkit::wxwidgets, use::gameplaying,
 x11::application
Section: games
Priority: optional
Filename: pool/main/0/0ad/0ad_0.0.26-3_amd64.deb
Size: 7891488
MD5sum: 4d471183a39a3a11d00cd35bf9f6803d
SHA256: 3a2118df47bf3f04285649f3b3ec0b41b5ea6e1e9b8d2da9be5b6b5c4a6c3c58

# a comment between paragraphs
Package: mawk
Status: install ok installed
Priority: required
Section: interpreters
Installed-Size: 229
Maintainer: Boyuan Yang <byang@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 1.3.4.20200120-3.1
Depends: libc6 (>= 2.34)
Provides: awk
Description: Pattern scanning and text processing language
 Mawk is an interpreter for the AWK Programming Language. The AWK
 language is useful for manipulation of data files, text retrieval
 .
 and processing, and for prototyping and experimenting with algorithms.
Homepage: https://invisible-island.net/mawk/
`

func TestParseSample(t *testing.T) {
	ps, err := ParseAll([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("got %d paragraphs, want 2", len(ps))
	}
	if got := ps[0].Get("package"); got != "0ad" {
		t.Errorf("Get(package) = %q", got)
	}
	if got := ps[0].Get("TAG"); got != "game::strategy, interface::graphical, interface::x11, role::program,\nuitoolkit::sdl, uitoolkit::wxwidgets, use::gameplaying,\nx11::application" {
		t.Errorf("Tag = %q", got)
	}
	if got, want := ps[1].Get("Description"), "Pattern scanning and text processing language\nMawk is an interpreter for the AWK Programming Language. The AWK\nlanguage is useful for manipulation of data files, text retrieval\n.\nand processing, and for prototyping and experimenting with algorithms."; got != want {
		t.Errorf("Description = %q, want %q", got, want)
	}
	if v, ok := ps[1].Lookup("provides"); !ok || v != "awk" {
		t.Errorf("Lookup(provides) = %q, %v", v, ok)
	}
	if v, ok := ps[1].Lookup("Essential"); ok || v != "" {
		t.Error("Lookup of absent field")
	}
	if n := len(ps[0].Fields); n != 17 {
		t.Errorf("%d fields in first paragraph, want 17", n)
	}
	// Round trip.
	out, err := Format(ps...)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(sample, "# a comment between paragraphs\n", "", 1)
	if string(out) != want {
		t.Errorf("round trip differs:\n%s", out)
	}
}

func TestSyntaxVariants(t *testing.T) {
	in := "\r\n\n#c\nA:  1  \r\nB:\r\n x \r\n\ty\r\n#inner comment\r\n .\r\nC:3\n \t\n\n\nD: 4\n continued"
	ps, err := ParseAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Paragraph{
		{Fields: []Field{{"A", "1"}, {"B", "\nx\ny\n."}, {"C", "3"}}},
		{Fields: []Field{{"D", "4\ncontinued"}}},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("got %#v\nwant %#v", ps, want)
	}
	out, err := Format(ps...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "A: 1\nB:\n x\n y\n .\nC: 3\n\nD: 4\n continued\n"; string(out) != want {
		t.Errorf("Format = %q, want %q", out, want)
	}
	// Empty input and only comments: no paragraphs.
	for _, s := range []string{"", "\n\n", "# x\n#y", " \t\n"} {
		ps, err := ParseAll([]byte(s))
		if err != nil || len(ps) != 0 {
			t.Errorf("ParseAll(%q) = %v, %v", s, ps, err)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
		msg  string
	}{
		{"A: 1\nno colon here\n", 2, "expected"},
		{"\n\n continuation\n", 3, "continuation line"},
		{"A: 1\n\n continuation\n", 3, "continuation line"},
		{"A: 1\nB C: 2\n", 2, "blank in field name"},
		{"A: 1\n: 2\n", 2, "empty field name"},
		{"A: 1\nB: 2\r\na: 3\n", 3, "duplicate field"},
		{"A: 1\n\nA: 1\nA: 2", 4, "duplicate field"},
	} {
		_, err := ParseAll([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseAll(%q): error %v, want SyntaxError", tc.in, err)
			continue
		}
		if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("ParseAll(%q): %v, want line %d %q", tc.in, err, tc.line, tc.msg)
		}
	}
}

func TestSet(t *testing.T) {
	ps, err := ParseAll([]byte("A: 1\nB: 2\n\nC: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	p.Set("b", "two")
	p.Set("New", "x")
	// Appending must not clobber the next paragraph's fields (they share
	// the parser's arena).
	if ps[1].Get("C") != "3" {
		t.Fatal("Set clobbered a neighbouring paragraph")
	}
	if got := p.String(); got != "A: 1\nb: two\nNew: x\n" {
		t.Errorf("after Set: %q", got)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, p := range []Paragraph{
		{},
		{Fields: []Field{{"", "x"}}},
		{Fields: []Field{{"A:B", "x"}}},
		{Fields: []Field{{"A B", "x"}}},
		{Fields: []Field{{"#A", "x"}}},
	} {
		if err := Write(io.Discard, p); err == nil {
			t.Errorf("Write(%v) succeeded", p)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, Paragraph{Fields: []Field{{"A", "x\n\n y"}}}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "A: x\n .\n  y\n" {
		t.Errorf("got %q", buf.String())
	}
}

// TestDpkgStatus parses this machine's dpkg database, real control data
// with long multi-line descriptions and conffiles.
func TestDpkgStatus(t *testing.T) {
	data, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		t.Skipf("no dpkg status file: %v", err)
	}
	ps, err := ParseAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\nPackage: ")) + 1; len(ps) != n {
		t.Errorf("%d paragraphs, want %d", len(ps), n)
	}
	for i, p := range ps {
		if p.Get("Package") == "" || p.Get("Status") == "" {
			t.Fatalf("paragraph %d lacks Package or Status: %v", i, p)
		}
	}
	out, err := Format(ps...)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, ps) {
		t.Error("dpkg status does not round-trip")
	}
}

// TestWriteStatusStanzas is how a dpkg status writer uses the package: a
// control paragraph's fields picked into a new Paragraph in dpkg's order,
// a Conffiles value built as lines after an empty first line, and one Write
// for all packages.
func TestWriteStatusStanzas(t *testing.T) {
	ctl, err := Parse("Package: x\nVersion: 1\nHomepage: https://x\nDescription: short\n long\n .\n   indented\n")
	if err != nil {
		t.Fatal(err)
	}
	var st Paragraph
	for _, n := range []string{"Package", "Status", "Version", "Conffiles", "Description"} {
		if v, ok := ctl.Lookup(n); ok {
			st.Fields = append(st.Fields, Field{Name: n, Value: v})
		}
		switch n {
		case "Status":
			st.Set(n, "install ok installed")
		case "Conffiles":
			st.Set(n, "\n/etc/x 0123abcd\n/etc/y newconffile remove-on-upgrade")
		}
	}
	st.Fields = append(st.Fields, Field{Name: "Homepage", Value: ctl.Get("Homepage")})
	out, err := Format(st, Paragraph{Fields: []Field{{"Package", "y"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Package: x\nStatus: install ok installed\nVersion: 1\n" +
		"Conffiles:\n /etc/x 0123abcd\n /etc/y newconffile remove-on-upgrade\n" +
		"Description: short\n long\n .\n   indented\nHomepage: https://x\n\nPackage: y\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestParseOne(t *testing.T) {
	if _, err := Parse("A: 1\n\nB: 2\n"); err == nil {
		t.Error("Parse accepted two paragraphs")
	}
	if _, err := Parse("\n# only a comment\n"); err == nil {
		t.Error("Parse accepted no paragraph")
	}
}

// fullIndex returns a full Packages index named by $DEB822_PACKAGES
// (e.g. bookworm main amd64, ~50 MB uncompressed), or skips.
func fullIndex(tb testing.TB) []byte {
	path := os.Getenv("DEB822_PACKAGES")
	if path == "" {
		tb.Skip("set DEB822_PACKAGES to an uncompressed Packages file to run this")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestFullIndex(t *testing.T) {
	data := fullIndex(t)
	ps, err := ParseAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\nPackage: ")) + 1; len(ps) != n {
		t.Errorf("%d paragraphs, want %d", len(ps), n)
	}
}

func BenchmarkParseAll(b *testing.B) {
	data := fullIndex(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAll(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRoundTrip checks that whatever parses also writes, and that the
// written form parses back to the same paragraphs. Run with
// go test -fuzz=FuzzRoundTrip ./tools/deb822 (not run in CI beyond the
// seed corpus).
func FuzzRoundTrip(f *testing.F) {
	f.Add(sample)
	f.Add("A:\n b\n\n\nC: d\r\n .\n")
	f.Add("#x\n\tA: 1\n")
	if data, err := os.ReadFile("/var/lib/dpkg/status"); err == nil && len(data) > 4096 {
		f.Add(string(data[:4096]))
	}
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseAll([]byte(in))
		if err != nil {
			return
		}
		out, err := Format(ps...)
		if err != nil {
			t.Fatalf("parsed input does not write: %v", err)
		}
		again, err := ParseAll(out)
		if err != nil {
			t.Fatalf("written output does not parse: %v\n%q", err, out)
		}
		if len(again) != len(ps) || (len(ps) > 0 && !reflect.DeepEqual(again, ps)) {
			t.Fatalf("round trip differs:\n%q\n%q", ps, again)
		}
	})
}

// TestParseAllocatesForItsInput: one control file must not pin a whole
// Packages-index arena (8192 fields, 256 KiB) for as long as its paragraph
// lives; layer building keeps hundreds of them.
func TestParseAllocatesForItsInput(t *testing.T) {
	ctl := "Package: a\nVersion: 1\nArchitecture: all\nDepends: b, c\nDescription: x\n more\n"
	var before, after runtime.MemStats
	const n = 100
	keep := make([]Paragraph, 0, n)
	runtime.ReadMemStats(&before)
	for range n {
		p, err := Parse(ctl)
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, p)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 8<<10 {
		t.Fatalf("Parse of a %d-byte control file allocates %d bytes, want at most 8 KiB", len(ctl), per)
	}
	runtime.KeepAlive(keep)
}
