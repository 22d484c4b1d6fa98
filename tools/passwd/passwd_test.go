package passwd

import (
	"reflect"
	"strings"
	"testing"
)

func ptr(n int64) *int64 { return &n }

func TestUsersRoundTrip(t *testing.T) {
	in := "# comment\nroot:*:0:0:root:/root:/bin/bash\n\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	us, err := ParseUsers([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		{Name: "root", Password: "*", UID: 0, GID: 0, Gecos: "root", Home: "/root", Shell: "/bin/bash"},
		{Name: "nobody", Password: "*", UID: 65534, GID: 65534, Gecos: "nobody", Home: "/nonexistent", Shell: "/usr/sbin/nologin"},
	}
	if !reflect.DeepEqual(us, want) {
		t.Fatalf("got %+v", us)
	}
	if got := string(FormatUsers(us)); got != "root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" {
		t.Errorf("format:\n%s", got)
	}
}

func TestGroupsRoundTrip(t *testing.T) {
	in := "root:*:0:\nsudo:x:27:alice,bob\n"
	gs, err := ParseGroups([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{{Name: "root", Password: "*", GID: 0}, {Name: "sudo", Password: "x", GID: 27, Members: []string{"alice", "bob"}}}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("got %+v", gs)
	}
	if got := string(FormatGroups(gs)); got != in {
		t.Errorf("format:\n%s", got)
	}
}

func TestShadowsRoundTrip(t *testing.T) {
	in := "root:*:19509:0:99999:7:::\nalice:$6$x:19000::::::\n"
	ss, err := ParseShadows([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Shadow{
		{Name: "root", Password: "*", LastChange: ptr(19509), Min: ptr(0), Max: ptr(99999), Warn: ptr(7)},
		{Name: "alice", Password: "$6$x", LastChange: ptr(19000)},
	}
	if !reflect.DeepEqual(ss, want) {
		t.Fatalf("got %+v", ss)
	}
	if got := string(FormatShadows(ss)); got != in {
		t.Errorf("format:\n%s", got)
	}
}

func TestGShadowsRoundTrip(t *testing.T) {
	in := "root:*::\nsudo:*:root:alice,bob\n"
	gs, err := ParseGShadows([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []GShadow{{Name: "root", Password: "*"}, {Name: "sudo", Password: "*", Admins: []string{"root"}, Members: []string{"alice", "bob"}}}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("got %+v", gs)
	}
	if got := string(FormatGShadows(gs)); got != in {
		t.Errorf("format:\n%s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		parse func([]byte) error
		in    string
		want  string
	}{
		{func(b []byte) error { _, err := ParseUsers(b); return err }, "root:*:0:0:root:/root\n", "line 1: 6 fields, want 7"},
		{func(b []byte) error { _, err := ParseUsers(b); return err }, "\nroot:*:x:0:root:/root:/bin/sh\n", `line 2: user root: bad uid/gid "x"/"0"`},
		{func(b []byte) error { _, err := ParseGroups(b); return err }, "root:*:zero:\n", `group root: bad gid "zero"`},
		{func(b []byte) error { _, err := ParseShadows(b); return err }, "root:*:soon:0:99999:7:::\n", "shadow root: field 3"},
		{func(b []byte) error { _, err := ParseGShadows(b); return err }, "root:*:\n", "3 fields, want 4"},
	} {
		if err := tc.parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}
