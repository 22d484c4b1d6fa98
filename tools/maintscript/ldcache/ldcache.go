// Package ldcache writes /etc/ld.so.cache as glibc's ldconfig (2.33 and later) does in its
// default "new" format, magic "glibc-ld.so.cache1.1": a 48-byte header, one 24-byte entry
// per library (flags, soname offset, path offset, an unused word and hwcap 0), the string
// table, and the extension directory with the generator section. The entries are sorted as
// ldconfig's add_to_cache inserts them (sonames in descending _dl_cache_libcmp order, ties
// by descending flags, then in the order added) and the string table is built as
// elf/stringtable.c does (deduplicated, sorted by reversed string, tails shared with the
// preceding string), so the output is byte-identical to ldconfig's for the same libraries.
// glibc-hwcaps subdirectories are not supported.
package ldcache

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// Flags of an entry: the ELF class and ABI (dl-cache.h).
const (
	FlagELFLibc6     = 0x0003
	FlagX8664Lib64   = 0x0300
	FlagAArch64Lib64 = 0x0a00
)

// Entry is one library of the cache: its soname, its path (directory/soname) and flags.
type Entry struct {
	Soname, Path string
	Flags        int32
}

// Libcmp is _dl_cache_libcmp: byte order, except that runs of digits compare numerically
// and a digit sorts after any other character.
func Libcmp(p1, p2 string) int {
	i, j := 0, 0
	for i < len(p1) {
		c1 := p1[i]
		switch {
		case isDigit(c1) && j < len(p2) && isDigit(p2[j]):
			v1, v2 := 0, 0
			for ; i < len(p1) && isDigit(p1[i]); i++ {
				v1 = v1*10 + int(p1[i]-'0')
			}
			for ; j < len(p2) && isDigit(p2[j]); j++ {
				v2 = v2*10 + int(p2[j]-'0')
			}
			if v1 != v2 {
				return v1 - v2
			}
		case isDigit(c1):
			return 1
		case j < len(p2) && isDigit(p2[j]):
			return -1
		case j >= len(p2) || c1 != p2[j]:
			return int(c1) - int(at(p2, j))
		default:
			i++
			j++
		}
	}
	return -int(at(p2, j))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// Sort orders entries as ldconfig's cache list.
func Sort(entries []Entry) {
	sort.SliceStable(entries, func(a, b int) bool {
		e1, e2 := entries[a], entries[b]
		if r := Libcmp(e2.Soname, e1.Soname); r != 0 {
			return r < 0
		}
		return e1.Flags > e2.Flags
	})
}

// stringTable is elf/stringtable.c: the strings, each once, laid out for tail merging.
func stringTable(strs []string) (table []byte, offsets map[string]uint32) {
	uniq := map[string]bool{}
	var list []string
	for _, s := range strs {
		if !uniq[s] {
			uniq[s] = true
			list = append(list, s)
		}
	}
	sort.Slice(list, func(i, j int) bool { return reversedGreater(list[i], list[j]) })
	offsets = map[string]uint32{}
	var off uint32
	for k, s := range list {
		if k > 0 {
			prev := list[k-1]
			if len(prev) >= len(s) && prev[len(prev)-len(s):] == s {
				offsets[s] = offsets[prev] + uint32(len(prev)-len(s))
				continue
			}
			off = uint32(len(table))
		}
		offsets[s] = off
		table = append(append(table, s...), 0)
	}
	return table, offsets
}

// reversedGreater is finalize_compare(a, b) < 0: compared from the last byte backwards,
// the greater byte first; of two strings where one is a suffix of the other, the longer.
func reversedGreater(a, b string) bool {
	for i := 1; i <= len(a) && i <= len(b); i++ {
		if ca, cb := a[len(a)-i], b[len(b)-i]; ca != cb {
			return ca > cb
		}
	}
	return len(a) > len(b)
}

const (
	headerSize     = 48
	entrySize      = 24
	extensionMagic = 0xeaa42174
	// extensionSize is the size of the extension directory with all its tags (two).
	extensionSize = 8 + 2*16
)

// Encode returns the cache file of entries (sorted with Sort first) with the generator
// string of the extension section (e.g. "ldconfig (Debian GLIBC 2.36-9+deb12u14) stable
// release version 2.36").
func Encode(entries []Entry, generator string) []byte {
	var strs []string
	for _, e := range entries {
		strs = append(strs, e.Path, e.Soname)
	}
	table, off := stringTable(strs)
	le := binary.LittleEndian
	strOffset := uint32(headerSize + entrySize*len(entries))
	extOffset := (strOffset + uint32(len(table)) + 3) &^ 3
	var b bytes.Buffer
	b.WriteString("glibc-ld.so.cache1.1")
	for _, v := range []uint32{uint32(len(entries)), uint32(len(table))} {
		b.Write(le.AppendUint32(nil, v))
	}
	b.Write([]byte{2, 0, 0, 0}) // cache_file_new_flags_endian_little
	b.Write(le.AppendUint32(nil, extOffset))
	b.Write(make([]byte, 12))
	for _, e := range entries {
		b.Write(le.AppendUint32(nil, uint32(e.Flags)))
		b.Write(le.AppendUint32(nil, strOffset+off[e.Soname]))
		b.Write(le.AppendUint32(nil, strOffset+off[e.Path]))
		b.Write(make([]byte, 12)) // osversion_unused, hwcap
	}
	b.Write(table)
	b.Write(make([]byte, int(extOffset)-b.Len()))
	genOffset := extOffset + extensionSize - 16 // no hwcaps section
	for _, v := range []uint32{extensionMagic, 1, 0, 0, genOffset, uint32(len(generator))} {
		b.Write(le.AppendUint32(nil, v))
	}
	b.WriteString(generator)
	return b.Bytes()
}
