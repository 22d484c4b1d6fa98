package debversion

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRelations(t *testing.T) {
	tests := []struct {
		in   string
		want []Alternatives
		str  string // String() of all groups joined by ", "
	}{
		{"", nil, ""},
		{"  \n ", nil, ""},
		{"libc6", []Alternatives{{{Name: "libc6"}}}, "libc6"},
		{
			"libc6 (>= 2.34), a (>= 1) | b:any, c [amd64]",
			[]Alternatives{
				{{Name: "libc6", Op: OpGE, Version: "2.34"}},
				{{Name: "a", Op: OpGE, Version: "1"}, {Name: "b", ArchQual: "any"}},
				{{Name: "c", Archs: []string{"amd64"}}},
			},
			"libc6 (>= 2.34), a (>= 1) | b:any, c [amd64]",
		},
		{
			"foo(<<1.0~rc1),bar (<= 2),baz(=3:1-1) ,qux (>> 0)",
			[]Alternatives{
				{{Name: "foo", Op: OpLT, Version: "1.0~rc1"}},
				{{Name: "bar", Op: OpLE, Version: "2"}},
				{{Name: "baz", Op: OpEQ, Version: "3:1-1"}},
				{{Name: "qux", Op: OpGT, Version: "0"}},
			},
			"foo (<< 1.0~rc1), bar (<= 2), baz (= 3:1-1), qux (>> 0)",
		},
		{
			"old (< 1), older (> 2)",
			[]Alternatives{
				{{Name: "old", Op: OpLE, Version: "1"}},
				{{Name: "older", Op: OpGE, Version: "2"}},
			},
			"old (<= 1), older (>= 2)",
		},
		{
			"python3:native, gcc-12:amd64 ( >= 12 ) [amd64 arm64] <!nocheck> <stage1  cross>",
			[]Alternatives{
				{{Name: "python3", ArchQual: "native"}},
				{{Name: "gcc-12", ArchQual: "amd64", Op: OpGE, Version: "12", Archs: []string{"amd64", "arm64"}, Profiles: "<!nocheck> <stage1 cross>"}},
			},
			"python3:native, gcc-12:amd64 (>= 12) [amd64 arm64] <!nocheck> <stage1 cross>",
		},
		{
			"libfoo [!i386 !armel] | libbar,\n libbaz (>= 1.0-1~bpo12+1),",
			[]Alternatives{
				{{Name: "libfoo", Archs: []string{"!i386", "!armel"}}, {Name: "libbar"}},
				{{Name: "libbaz", Op: OpGE, Version: "1.0-1~bpo12+1"}},
			},
			"libfoo [!i386 !armel] | libbar, libbaz (>= 1.0-1~bpo12+1)",
		},
		{
			"postgresql-16-jit-llvm (= 15), libstdc++6 (>= 12), libx11-6.1",
			[]Alternatives{
				{{Name: "postgresql-16-jit-llvm", Op: OpEQ, Version: "15"}},
				{{Name: "libstdc++6", Op: OpGE, Version: "12"}},
				{{Name: "libx11-6.1"}},
			},
			"postgresql-16-jit-llvm (= 15), libstdc++6 (>= 12), libx11-6.1",
		},
	}
	for _, tt := range tests {
		got, err := ParseRelations(tt.in)
		if err != nil {
			t.Errorf("ParseRelations(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRelations(%q) =\n %#v\nwant\n %#v", tt.in, got, tt.want)
		}
		var parts []string
		for _, g := range got {
			parts = append(parts, g.String())
		}
		if s := strings.Join(parts, ", "); s != tt.str {
			t.Errorf("String of %q = %q, want %q", tt.in, s, tt.str)
		}
		// The formatted form parses back to the same value.
		if tt.str != "" {
			again, err := ParseRelations(tt.str)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip of %q: %v, %#v", tt.str, err, again)
			}
		}
	}
}

func TestParseRelationsErrors(t *testing.T) {
	bad := []string{
		"a,,b", "a |", "| a", ",", "a (>= 1", "a (>=)", "a (1.0)", "a (=> 1)", "a (>>> 1)",
		"a [amd64", "a []", "a [amd64 !i386]", "a <nocheck", "a:", "a b", "a (>= 1) b",
		"-a", "a (>= 1 2)", "a, b)", "a [!]",
	}
	for _, in := range bad {
		_, err := ParseRelations(in)
		if err == nil {
			t.Errorf("ParseRelations(%q): no error", in)
			continue
		}
		if !strings.Contains(err.Error(), `"`+in+`"`) && !strings.Contains(err.Error(), strings.ReplaceAll(in, "\n", `\n`)) {
			t.Errorf("ParseRelations(%q): error does not quote the field: %v", in, err)
		}
	}
}

func TestSatisfiedBy(t *testing.T) {
	tests := []struct {
		rel     string
		version string
		want    bool
	}{
		{"a", "0", true},
		{"a (>= 16.1)", "16.13-1.pgdg120+1", true},
		{"a (>= 16.13)", "16.1-1.pgdg120+1", false},
		{"a (<< 2)", "1.9", true}, {"a (<< 2)", "2", false}, {"a (<< 2)", "2~rc1", true},
		{"a (<= 2)", "2", true}, {"a (<= 2)", "2-0", true}, {"a (<= 2)", "2-1", false},
		{"a (= 1.0-1)", "1.0-1", true}, {"a (= 1.0-1)", "0:1.0-1", true}, {"a (= 1.0-1)", "1.0-1+b1", false},
		{"a (>> 1)", "1", false}, {"a (>> 1)", "1+b1", true}, {"a (>= 1:0)", "9.9", false},
		{"a (< 2)", "2", true}, {"a (> 2)", "2", true},
	}
	for _, tt := range tests {
		rels, err := ParseRelations(tt.rel)
		if err != nil {
			t.Fatal(err)
		}
		if got := rels[0][0].SatisfiedBy(tt.version); got != tt.want {
			t.Errorf("%s satisfied by %s = %v, want %v", tt.rel, tt.version, got, tt.want)
		}
	}
}

func TestAppliesTo(t *testing.T) {
	tests := []struct {
		archs []string
		arch  string
		want  bool
	}{
		{nil, "amd64", true},
		{[]string{"amd64"}, "amd64", true},
		{[]string{"arm64", "i386"}, "amd64", false},
		{[]string{"!i386"}, "amd64", true},
		{[]string{"!amd64", "!i386"}, "amd64", false},
		{[]string{"linux-any"}, "amd64", true},
		{[]string{"any-amd64"}, "amd64", true},
		{[]string{"any-i386"}, "amd64", false},
		{[]string{"kfreebsd-any"}, "amd64", false},
		{[]string{"!kfreebsd-any"}, "amd64", true},
		{[]string{"linux-amd64"}, "amd64", true},
		{[]string{"kfreebsd-amd64"}, "amd64", false},
		{[]string{"any"}, "arm64", true},
	}
	for _, tt := range tests {
		r := Relation{Name: "x", Archs: tt.archs}
		if got := r.AppliesTo(tt.arch); got != tt.want {
			t.Errorf("%v applies to %s = %v, want %v", tt.archs, tt.arch, got, tt.want)
		}
	}
}

func BenchmarkParseRelations(b *testing.B) {
	const field = "libc6 (>= 2.34), libgssapi-krb5-2 (>= 1.17), libicu72 (>= 72.1~rc-1~), libldap-2.5-0 (>= 2.5.4), liblz4-1 (>= 0.0~r130), libpq5 (>= 16~~), libssl3 (>= 3.0.0), libsystemd0, libxml2 (>= 2.7.4), libzstd1 (>= 1.5.2), locales | locales-all, postgresql-client-16, postgresql-common (>= 252~), ssl-cert, tzdata, debconf (>= 0.5) | debconf-2.0"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRelations(field); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseRelations checks that parsing never panics and that formatted
// results parse back to the same value.
func FuzzParseRelations(f *testing.F) {
	f.Add("libc6 (>= 2.34), a (>= 1) | b:any, c [amd64]")
	f.Add("foo [!i386 !armel] <!nocheck> <stage1 cross>, bar (<< 1:2.0~rc1-1+b1)")
	f.Add("a,b,")
	f.Fuzz(func(t *testing.T, field string) {
		got, err := ParseRelations(field)
		if err != nil {
			return
		}
		var parts []string
		for _, g := range got {
			parts = append(parts, g.String())
		}
		again, err := ParseRelations(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("formatted %q of %q does not parse: %v", strings.Join(parts, ", "), field, err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q: %#v != %#v", field, again, got)
		}
	})
}
