package deb822

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
	if !ps[1].Has("provides") || ps[1].Has("Essential") {
		t.Error("Has is wrong")
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
		// The Reader reports the same line.
		r := NewReader(strings.NewReader(tc.in))
		for {
			_, err = r.Next()
			if err != nil {
				break
			}
		}
		if !errors.As(err, &se) || se.Line != tc.line {
			t.Errorf("Reader(%q): %v, want line %d", tc.in, err, tc.line)
		}
	}
}

func TestSetDel(t *testing.T) {
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
	p.Del("a")
	if got := p.String(); got != "b: two\nNew: x\n" {
		t.Errorf("after Set/Del: %q", got)
	}
	if ps[0].Get("A") != "1" {
		t.Error("Del modified the original paragraph's visible fields")
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

func readAll(t testing.TB, r io.Reader) []Paragraph {
	t.Helper()
	rd := NewReader(r)
	var out []Paragraph
	for {
		p, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

func TestReaderMatchesParseAll(t *testing.T) {
	long := "X: " + strings.Repeat("y", 600<<10) + "\n" // longer than the bufio buffer
	for _, in := range []string{sample, sample + "\n\n", "A: 1", "A: 1\n\n\n", long + "\n" + sample} {
		want, err := ParseAll([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, iotest.OneByteReader(strings.NewReader(in)))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Reader and ParseAll differ on %q", clip(in))
		}
		got = readAll(t, strings.NewReader(in))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Reader and ParseAll differ on %q", clip(in))
		}
	}
}

func TestReaderIOError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("A: 1\nB: 2"), iotest.ErrReader(boom)))
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("error is not sticky: %v", err)
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
	if got := readAll(t, bytes.NewReader(data)); !reflect.DeepEqual(got, ps) {
		t.Error("Reader and ParseAll differ on dpkg status")
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

const clearsigned = `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Origin: Debian
Suite: stable
- -dash: escaped
SHA256:
 7bb7d8d3b6a5b0b5a1f2f2c5b6a1d3d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1   123 main/binary-amd64/Packages
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEE
=abcd
-----END PGP SIGNATURE-----
`

func TestParseSigned(t *testing.T) {
	body, err := ParseSigned([]byte(clearsigned))
	if err != nil {
		t.Fatal(err)
	}
	want := "Origin: Debian\nSuite: stable\n-dash: escaped\nSHA256:\n 7bb7d8d3b6a5b0b5a1f2f2c5b6a1d3d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1   123 main/binary-amd64/Packages\n"
	if string(body) != want {
		t.Errorf("body = %q", body)
	}
	p, err := Parse(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Get("sha256"); got != "\n7bb7d8d3b6a5b0b5a1f2f2c5b6a1d3d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1   123 main/binary-amd64/Packages" {
		t.Errorf("SHA256 = %q", got)
	}
	// CRLF armor.
	crlf := strings.ReplaceAll(clearsigned, "\n", "\r\n")
	if body, err := ParseSigned([]byte(crlf)); err != nil || string(body) != want {
		t.Errorf("CRLF: %q, %v", body, err)
	}
	// Unsigned input passes through.
	if body, err := ParseSigned([]byte("A: 1\n")); err != nil || string(body) != "A: 1\n" {
		t.Errorf("unsigned: %q, %v", body, err)
	}
	// Truncated signed input is an error.
	for _, cut := range []string{"-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----", "\n\nOrigin"} {
		i := strings.Index(clearsigned, cut)
		if _, err := ParseSigned([]byte(clearsigned[:i])); err == nil {
			t.Errorf("truncated before %q: no error", cut)
		}
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
	if got := readAll(t, bytes.NewReader(data)); !reflect.DeepEqual(got, ps) {
		t.Error("Reader and ParseAll differ")
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

func BenchmarkReader(b *testing.B) {
	data := fullIndex(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzRoundTrip checks that whatever parses also writes, and that the
// written form parses back to the same paragraphs. Run with
// go test -fuzz=FuzzRoundTrip ./tools/deb822 (not run in CI beyond the
// seed corpus).
func FuzzRoundTrip(f *testing.F) {
	f.Add(sample)
	f.Add(clearsigned)
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
		got := readAll(t, strings.NewReader(in))
		if len(got) != len(ps) || (len(ps) > 0 && !reflect.DeepEqual(got, ps)) {
			t.Fatalf("Reader and ParseAll differ")
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
		_, _ = ParseSigned([]byte(in))
	})
}
