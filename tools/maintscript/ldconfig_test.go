package maintscript

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ci-images/ci-images/tools/maintscript/ldcache"
)

// elfSharedObject builds a minimal x86-64 ELF shared object with a DT_SONAME (none when
// soname is empty): the sections debug/elf needs to read it, nothing to run.
func elfSharedObject(soname string) []byte {
	le := binary.LittleEndian
	dynstr := append([]byte{0}, append([]byte(soname), 0)...)
	var dynamic []byte
	if soname != "" {
		dynamic = le.AppendUint64(le.AppendUint64(dynamic, 14), 1) // DT_SONAME
	}
	dynamic = le.AppendUint64(le.AppendUint64(dynamic, 0), 0) // DT_NULL
	shstrtab := []byte("\x00.dynstr\x00.dynamic\x00.shstrtab\x00")
	dynstrOff := uint64(64)
	dynamicOff := dynstrOff + uint64(len(dynstr))
	shstrOff := dynamicOff + uint64(len(dynamic))
	shOff := shstrOff + uint64(len(shstrtab))
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, 3)                       // ET_DYN
	b = le.AppendUint16(b, 62)                      // EM_X86_64
	b = le.AppendUint32(b, 1)                       // version
	b = le.AppendUint64(le.AppendUint64(b, 0), 0)   // entry, phoff
	b = le.AppendUint64(b, shOff)                   // shoff
	b = le.AppendUint32(b, 0)                       // flags
	b = le.AppendUint16(le.AppendUint16(b, 64), 56) // ehsize, phentsize
	b = le.AppendUint16(le.AppendUint16(b, 0), 64)  // phnum, shentsize
	b = le.AppendUint16(le.AppendUint16(b, 4), 3)   // shnum, shstrndx
	b = append(append(append(b, dynstr...), dynamic...), shstrtab...)
	section := func(name, typ uint32, off, size uint64, link uint32, entsize uint64) {
		b = le.AppendUint32(le.AppendUint32(b, name), typ)
		b = le.AppendUint64(le.AppendUint64(le.AppendUint64(b, 0), 0), off) // flags, addr, offset
		b = le.AppendUint64(b, size)
		b = le.AppendUint32(le.AppendUint32(b, link), 0)
		b = le.AppendUint64(le.AppendUint64(b, 1), entsize)
	}
	section(0, 0, 0, 0, 0, 0)
	section(1, 3, dynstrOff, uint64(len(dynstr)), 0, 0)    // .dynstr, SHT_STRTAB
	section(9, 6, dynamicOff, uint64(len(dynamic)), 1, 16) // .dynamic, SHT_DYNAMIC
	section(18, 3, shstrOff, uint64(len(shstrtab)), 0, 0)  // .shstrtab
	return b
}

// TestLdconfig: the directories of ld.so.conf (each once, first path wins), the entries per
// soname (files over links, ".so" development links), the soname links ldconfig creates.
func TestLdconfig(t *testing.T) {
	f := memFS("etc/", "etc/ld.so.conf=include /etc/ld.so.conf.d/*.conf\n", "etc/ld.so.conf.d/",
		"etc/ld.so.conf.d/libc.conf=# libc default configuration\n/usr/local/lib\n",
		"etc/ld.so.conf.d/x86_64-linux-gnu.conf=/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
		"usr/", "usr/lib/", "lib->usr/lib", "usr/local/", "usr/local/lib/", "usr/lib/x86_64-linux-gnu/", "var/", "var/cache/",
		"usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3="+string(elfSharedObject("libfoo.so.1")),
		"usr/lib/x86_64-linux-gnu/libfoo.so.1->libfoo.so.1.2.3",
		"usr/lib/x86_64-linux-gnu/libfoo.so->libfoo.so.1",
		"usr/lib/x86_64-linux-gnu/libbaz.so.4.0="+string(elfSharedObject("libbaz.so.4")),
		"usr/lib/x86_64-linux-gnu/libbar.so.2="+string(elfSharedObject("libbar.so.2")),
		"usr/lib/x86_64-linux-gnu/libbar.so->libbar.so.2.0.0",
		"usr/lib/x86_64-linux-gnu/libnosoname.so.3="+string(elfSharedObject("")),
		"usr/lib/x86_64-linux-gnu/libc.so=GROUP ( libc.so.6 )",
		"usr/lib/x86_64-linux-gnu/notalib.so="+string(elfSharedObject("x")),
		"usr/local/lib/liblocal.so.5="+string(elfSharedObject("liblocal.so.5")),
	)
	libc := &Package{Name: "libc-bin", Version: "2.36-9+deb12u14", Architecture: "amd64", Members: map[string][]byte{"postinst": []byte("ldconfig -r /\n")}}
	s, log := install(t, f, Options{}, libc)
	if r := s.Report(); len(r.Failures)+len(r.Unknown) > 0 {
		t.Fatalf("%+v\n%s", r, log)
	}
	if n, _ := f.Get("usr/lib/x86_64-linux-gnu/libbaz.so.4"); n.Kind != KindSymlink || n.Link != "libbaz.so.4.0" {
		t.Errorf("soname link %+v", n)
	}
	const flags = ldcache.FlagX8664Lib64 | ldcache.FlagELFLibc6
	entries := []ldcache.Entry{
		{Soname: "liblocal.so.5", Path: "/usr/local/lib/liblocal.so.5", Flags: flags},
		{Soname: "libnosoname.so.3", Path: "/lib/x86_64-linux-gnu/libnosoname.so.3", Flags: flags},
		{Soname: "libfoo.so.1", Path: "/lib/x86_64-linux-gnu/libfoo.so.1", Flags: flags},
		{Soname: "libfoo.so", Path: "/lib/x86_64-linux-gnu/libfoo.so", Flags: flags},
		{Soname: "libbar.so.2", Path: "/lib/x86_64-linux-gnu/libbar.so.2", Flags: flags},
		{Soname: "libbaz.so.4", Path: "/lib/x86_64-linux-gnu/libbaz.so.4", Flags: flags},
	}
	ldcache.Sort(entries)
	want := ldcache.Encode(entries, "ldconfig (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36")
	if got := file(t, f, "/etc/ld.so.cache"); !bytes.Equal([]byte(got), want) {
		t.Errorf("ld.so.cache:\n%q\nwant\n%q", got, want)
	}
	if n, _ := f.Get("var/cache/ldconfig"); n.Kind != KindDir || n.Mode != 0o700 {
		t.Errorf("var/cache/ldconfig %+v", n)
	}
}
