package pamauth

import (
	"reflect"
	"testing"
)

const unix = `Name: Unix authentication
Default: yes
Priority: 256
Auth-Type: Primary
Auth:
	[success=end default=ignore]	pam_unix.so nullok try_first_pass
Auth-Initial:
	[success=end default=ignore]	pam_unix.so nullok
Session-Type: Additional
Session:
	required	pam_unix.so
`

const krb = `Name: Kerberos authentication
Default: yes
Priority: 704
Auth-Type: Primary
Auth:
	[success=end default=ignore]	pam_krb5.so minimum_uid=1000 use_first_pass
Auth-Initial:
	[success=end default=ignore]	pam_krb5.so minimum_uid=1000
`

const mkhomedir = `Name: Create home directory on login
Default: no
Priority: 0
Session-Type: Additional
Session-Interactive-Only: yes
Session:
	optional			pam_mkhomedir.so
`

const template = `# header
# here are the per-package modules (the "Primary" block)
$auth_primary
# here's the fallback if no module succeeds
auth	requisite			pam_deny.so
# and here are more per-package modules (the "Additional" block)
$auth_additional
# end of pam-auth-update config
`

func profiles() map[string]Profile {
	return map[string]Profile{"unix": Parse([]byte(unix)), "krb5": Parse([]byte(krb)), "mkhomedir": Parse([]byte(mkhomedir))}
}

func TestParse(t *testing.T) {
	p := Parse([]byte(unix))
	if p.Fields["Auth"] != "[success=end default=ignore]\tpam_unix.so nullok try_first_pass" || p.Fields["Priority"] != "256" ||
		p.Fields["Session-noninteractive"] != "required\tpam_unix.so" || p.Disabled {
		t.Errorf("%#v", p)
	}
	if m := Parse([]byte(mkhomedir)); m.Fields["Session-noninteractive-Type"] != "" {
		t.Errorf("interactive-only profile in the noninteractive stack: %#v", m)
	}
	if Parse([]byte("Auth:\n\trequired pam_tally.so\n")).Disabled != true {
		t.Error("pam_tally profile not disabled")
	}
}

// TestSelectAndConfig: defaults, priorities and the jump counts of the Primary block (the
// first module uses its Initial lines).
func TestSelectAndConfig(t *testing.T) {
	ps := profiles()
	sorted := Sort(ps, []string{"mkhomedir", "unix", "krb5"})
	if !reflect.DeepEqual(sorted, []string{"krb5", "unix", "mkhomedir"}) {
		t.Fatalf("sorted %v", sorted)
	}
	enabled := Select(ps, sorted, nil, nil)
	if !reflect.DeepEqual(enabled, []string{"krb5", "unix"}) {
		t.Fatalf("enabled %v", enabled)
	}
	got, ok := Config([]byte(template), "auth", ps, enabled)
	want := `# header
# here are the per-package modules (the "Primary" block)
auth	[success=2 default=ignore]	pam_krb5.so minimum_uid=1000
auth	[success=1 default=ignore]	pam_unix.so nullok try_first_pass
# here's the fallback if no module succeeds
auth	requisite			pam_deny.so
# and here are more per-package modules (the "Additional" block)
# end of pam-auth-update config
`
	if !ok || string(got) != want {
		t.Errorf("config:\n%s\nwant\n%s", got, want)
	}
	got, _ = Config([]byte(template), "session-noninteractive", ps, append(enabled, "mkhomedir"))
	if want := "# header\n# here are the per-package modules (the \"Primary\" block)\nsession\t[default=1]\t\t\tpam_permit.so\n" +
		"# here's the fallback if no module succeeds\nauth\trequisite\t\t\tpam_deny.so\n# and here are more per-package modules (the \"Additional\" block)\n" +
		"session\trequired\tpam_unix.so \n# end of pam-auth-update config\n"; string(got) != want {
		t.Errorf("noninteractive:\n%q\nwant\n%q", got, want)
	}
	if _, ok := Config([]byte("no markers\n"), "auth", ps, enabled); ok {
		t.Error("template without markers accepted")
	}
	saved := string(Saved("session", ps, []string{"unix", "mkhomedir"}))
	if saved != "Module: null\n[default=1]\t\t\tpam_permit.so\nModule: unix\nrequired\tpam_unix.so\nModule: mkhomedir\noptional\t\t\tpam_mkhomedir.so\n" {
		t.Errorf("saved %q", saved)
	}
	if got := SavedModules([]byte(saved)); !reflect.DeepEqual(got, []string{"unix", "mkhomedir"}) {
		t.Errorf("saved modules %v", got)
	}
	// Seen profiles are not enabled again by default; nothing enabled means all defaults.
	if got := Select(ps, sorted, []string{"unix"}, map[string]bool{"krb5": true}); !reflect.DeepEqual(got, []string{"unix"}) {
		t.Errorf("with krb5 seen: %v", got)
	}
	if got := Select(ps, sorted, nil, map[string]bool{"krb5": true, "unix": true}); !reflect.DeepEqual(got, []string{"krb5", "unix"}) {
		t.Errorf("nothing selected: %v", got)
	}
}
