// Package certhash computes OpenSSL's subject-name hash (X509_NAME_hash, the name of the
// "HASH.N" links of `openssl rehash` and c_rehash): the first four bytes, little-endian, of
// the SHA-1 of the name's canonical encoding. The canonical encoding (x509_name_canon in
// OpenSSL's crypto/x509/x_name.c) is the concatenation of each relative distinguished
// name's DER SET, without the outer SEQUENCE, where every value of a string type is
// converted to UTF8String, stripped of leading and trailing white space, its inner runs of
// white space collapsed to one space and its ASCII letters lower-cased.
package certhash

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"sort"
	"unicode/utf16"
	"unicode/utf8"
)

// ASN.1 universal tags of the string types OpenSSL canonicalises (ASN1_MASK_CANON).
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagUniversalString = 28
	tagBMPString       = 30
	tagVisibleString   = 26
)

// SubjectHash returns X509_NAME_hash of a DER-encoded name (e.g. x509.Certificate.RawSubject).
func SubjectHash(rawName []byte) (uint32, error) {
	canon, err := Canonical(rawName)
	if err != nil {
		return 0, err
	}
	sum := sha1.Sum(canon)
	return binary.LittleEndian.Uint32(sum[:4]), nil
}

// Canonical returns the canonical encoding of a DER-encoded name.
func Canonical(rawName []byte) ([]byte, error) {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(rawName, &seq); err != nil || len(rest) > 0 || seq.Tag != asn1.TagSequence {
		return nil, fmt.Errorf("certhash: name is not a DER SEQUENCE")
	}
	var out []byte
	for rdns := seq.Bytes; len(rdns) > 0; {
		var set asn1.RawValue
		var err error
		if rdns, err = asn1.Unmarshal(rdns, &set); err != nil || set.Tag != asn1.TagSet {
			return nil, fmt.Errorf("certhash: relative distinguished name is not a SET")
		}
		enc, err := canonicalSet(set.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, enc...)
	}
	return out, nil
}

// canonicalSet re-encodes one RDN: its AttributeTypeAndValues canonicalised, DER-sorted.
func canonicalSet(b []byte) ([]byte, error) {
	var elems [][]byte
	for len(b) > 0 {
		var atv asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &atv); err != nil || atv.Tag != asn1.TagSequence {
			return nil, fmt.Errorf("certhash: attribute is not a SEQUENCE")
		}
		var oid, value asn1.RawValue
		rest, err := asn1.Unmarshal(atv.Bytes, &oid)
		if err == nil {
			rest, err = asn1.Unmarshal(rest, &value)
		}
		if err != nil || len(rest) > 0 || oid.Tag != asn1.TagOID {
			return nil, fmt.Errorf("certhash: malformed attribute")
		}
		v, err := canonicalValue(value)
		if err != nil {
			return nil, err
		}
		elems = append(elems, tlv(asn1.TagSequence, true, append(append([]byte(nil), oid.FullBytes...), v...)))
	}
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	return tlv(asn1.TagSet, true, bytes.Join(elems, nil)), nil
}

// canonicalValue returns the encoding of an attribute value in canonical form.
func canonicalValue(v asn1.RawValue) ([]byte, error) {
	if v.Class != asn1.ClassUniversal {
		return v.FullBytes, nil
	}
	var s []byte
	switch v.Tag {
	case tagUTF8String, tagPrintableString, tagIA5String, tagVisibleString:
		s = v.Bytes
	case tagT61String:
		for _, c := range v.Bytes {
			s = utf8.AppendRune(s, rune(c))
		}
	case tagBMPString:
		if len(v.Bytes)%2 != 0 {
			return nil, fmt.Errorf("certhash: odd BMPString")
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(v.Bytes[2*i:])
		}
		for _, r := range utf16.Decode(u) {
			s = utf8.AppendRune(s, r)
		}
	case tagUniversalString:
		if len(v.Bytes)%4 != 0 {
			return nil, fmt.Errorf("certhash: bad UniversalString")
		}
		for i := 0; i < len(v.Bytes); i += 4 {
			s = utf8.AppendRune(s, rune(binary.BigEndian.Uint32(v.Bytes[i:])))
		}
	default:
		return v.FullBytes, nil
	}
	return tlv(tagUTF8String, false, canonicalString(s)), nil
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// canonicalString trims white space, collapses inner runs of it to one space and lower-cases
// ASCII letters; bytes outside ASCII are kept.
func canonicalString(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x80:
			out = append(out, c)
			i++
		case isSpace(c):
			out = append(out, ' ')
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			i++
		}
	}
	return out
}

// tlv encodes a universal tag, its length in DER and the content.
func tlv(tag int, constructed bool, content []byte) []byte {
	t := byte(tag)
	if constructed {
		t |= 0x20
	}
	out := []byte{t}
	switch n := len(content); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}
