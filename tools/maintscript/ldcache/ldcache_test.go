package ldcache

import (
	"encoding/binary"
	"testing"
)

func TestLibcmp(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"libc.so.6", "libc.so.6", 0},
		{"libz.so.10", "libz.so.9", 1}, // numerically
		{"libz.so.1", "libz.so", 1},
		{"libz.so.1a", "libz.so.1b", -1},
		{"lib9", "liba", 1}, // a digit sorts after any other character
		{"liba", "lib9", -1},
	} {
		got := Libcmp(tc.a, tc.b)
		if got > 0 && tc.sign <= 0 || got < 0 && tc.sign >= 0 || got == 0 && tc.sign != 0 {
			t.Errorf("Libcmp(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}

// TestEncode checks the layout: sorted entries, string offsets that share tails, the
// extension directory with the generator.
func TestEncode(t *testing.T) {
	es := []Entry{{Soname: "libz.so.1", Path: "/lib/libz.so.1", Flags: 0x303}, {Soname: "libc.so.6", Path: "/lib/libc.so.6", Flags: 0x303}, {Soname: "libz.so.10", Path: "/lib/libz.so.10", Flags: 0x303}}
	Sort(es)
	if es[0].Soname != "libz.so.10" || es[2].Soname != "libc.so.6" {
		t.Fatalf("order %v", es)
	}
	b := Encode(es, "gen")
	le := binary.LittleEndian
	if string(b[:20]) != "glibc-ld.so.cache1.1" || le.Uint32(b[20:]) != 3 || b[28] != 2 {
		t.Fatalf("header %q", b[:32])
	}
	str := func(off uint32) string {
		end := off
		for b[end] != 0 {
			end++
		}
		return string(b[off:end])
	}
	for i, e := range es {
		p := 48 + 24*i
		key, value := le.Uint32(b[p+4:]), le.Uint32(b[p+8:])
		if str(key) != e.Soname || str(value) != e.Path || key != value+5 {
			t.Errorf("entry %d: %q %q (key at %d, value at %d)", i, str(key), str(value), key, value)
		}
	}
	ext := le.Uint32(b[32:])
	if ext%4 != 0 || le.Uint32(b[ext:]) != extensionMagic || le.Uint32(b[ext+4:]) != 1 {
		t.Fatalf("extension at %d: %x", ext, b[ext:])
	}
	off, size := le.Uint32(b[ext+16:]), le.Uint32(b[ext+20:])
	if string(b[off:off+size]) != "gen" || int(off+size) != len(b) {
		t.Errorf("generator %q at %d", b[off:off+size], off)
	}
}

func TestStringTable(t *testing.T) {
	table, off := stringTable([]string{"/a/libx.so", "libx.so", "/b/liby.so", "/a/libx.so"})
	if string(table) != "/b/liby.so\x00/a/libx.so\x00" || off["libx.so"] != off["/a/libx.so"]+3 {
		t.Errorf("table %q offsets %v", table, off)
	}
}
