package certhash

import (
	"encoding/asn1"
	"encoding/hex"
	"testing"
)

// TestSubjectHash: a name with a BMPString, odd spacing and case, non-ASCII UTF-8 and a
// multi-valued RDN, whose hash OpenSSL 3.0 (`openssl x509 -subject_hash`) gives as afa07b7b.
func TestSubjectHash(t *testing.T) {
	raw, _ := hex.DecodeString("3057310b300906035504061302444531193017060355040a1e10004d00690058006500440020002000e9" +
		"312d3014060355040b130d2020556e697420202054776f20301506035504030c0ec39c6ec3af636f646520524f4f54")
	h, err := SubjectHash(raw)
	if err != nil || h != 0xafa07b7b {
		t.Errorf("SubjectHash = %08x, %v; want afa07b7b", h, err)
	}
}

// TestCanonical: names that differ only in case, white space or string type hash the same;
// other types and values do not.
func TestCanonical(t *testing.T) {
	name := func(tag int, value string) []byte {
		rdn := []asn1.RawValue{{Tag: asn1.TagSequence, Class: 0, IsCompound: true}}
		oid, _ := asn1.Marshal(asn1.ObjectIdentifier{2, 5, 4, 3})
		v, _ := asn1.Marshal(asn1.RawValue{Tag: tag, Bytes: []byte(value)})
		rdn[0].Bytes = append(oid, v...)
		set, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: mustMarshal(rdn[0])})
		seq, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: set})
		return seq
	}
	hash := func(b []byte) uint32 {
		h, err := SubjectHash(b)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(name(tagUTF8String, "my root ca"))
	for _, same := range [][]byte{name(tagPrintableString, "My Root CA"), name(tagIA5String, "  my\t root   CA "), name(tagT61String, "MY ROOT CA")} {
		if hash(same) != base {
			t.Errorf("%x hashes differently", same)
		}
	}
	for _, other := range [][]byte{name(tagUTF8String, "my root ca2"), name(18, "my root ca")} { // NumericString is not canonicalised
		if hash(other) == base {
			t.Errorf("%x hashes the same", other)
		}
	}
	if _, err := SubjectHash([]byte{0x31, 0}); err == nil {
		t.Error("a SET accepted as a name")
	}
}

func mustMarshal(v asn1.RawValue) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
