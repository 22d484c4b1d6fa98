package urlrewrite

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse("test.cfg", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRewrite(t *testing.T) {
	c := mustParse(t, `
# a comment
   # an indented comment
rewrite snapshot.debian.org/archive/debian/[0-9]+T[0-9]+Z/(.*) mirror.example.com/debian/$1
rewrite snapshot.debian.org/archive/debian-security/[0-9]+T[0-9]+Z/(.*) http://sec.example.com/debian-security/$1
rewrite (snapshot.debian.org/.*) $1
rewrite apt.postgresql.org/pub/repos/apt/(.*) pg1.example.com/$1
rewrite apt.postgresql.org/pub/repos/apt/(.*) pg2.example.com/$1
rewrite (files.example.com)/(?P<rest>.*) $1/x/${rest}\$
rewrite blocked.example.com/(.*) evil.example.net/$1
block example.net
`)
	tests := []struct {
		in   string
		want []string
	}{
		{"https://snapshot.debian.org/archive/debian/20261120T060000Z/pool/main/b/bash/bash_5.2.deb", []string{
			"https://mirror.example.com/debian/pool/main/b/bash/bash_5.2.deb",
			"https://snapshot.debian.org/archive/debian/20261120T060000Z/pool/main/b/bash/bash_5.2.deb",
		}},
		// An explicit scheme in the replacement wins over the original's.
		{"https://snapshot.debian.org/archive/debian-security/20261120T060000Z/dists/bookworm-security/InRelease", []string{
			"http://sec.example.com/debian-security/dists/bookworm-security/InRelease",
			"https://snapshot.debian.org/archive/debian-security/20261120T060000Z/dists/bookworm-security/InRelease",
		}},
		// The pattern must match the whole URL (without scheme): no rule here.
		{"https://www.snapshot.debian.org.example/archive/x", []string{"https://www.snapshot.debian.org.example/archive/x"}},
		{"http://apt.postgresql.org/pub/repos/apt/dists/bookworm-pgdg/InRelease", []string{
			"http://pg1.example.com/dists/bookworm-pgdg/InRelease",
			"http://pg2.example.com/dists/bookworm-pgdg/InRelease",
		}},
		{"https://files.example.com/a/b", []string{"https://files.example.com/x/a/b$"}},
		// Every result blocked: nothing left.
		{"https://blocked.example.com/a", nil},
		// Not http(s): untouched.
		{"file:///snapshot.debian.org/x", []string{"file:///snapshot.debian.org/x"}},
	}
	for _, tt := range tests {
		got := c.Rewrite(tt.in)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Rewrite(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestJavaGroupDigits(t *testing.T) {
	// Java reads "$10" as group 1 followed by "0" when there are fewer than 10 groups.
	c := mustParse(t, "rewrite (a)/(.*) b/$10/$2\n")
	if got := c.Rewrite("http://a/c"); !reflect.DeepEqual(got, []string{"http://b/a0/c"}) {
		t.Errorf("got %q", got)
	}
}

func TestAllowOverridesBlock(t *testing.T) {
	c := mustParse(t, "rewrite (.*) mirror.example.com/$1\nblock *\nallow mirror.example.com\n")
	if got := c.Rewrite("https://x.org/f"); !reflect.DeepEqual(got, []string{"https://mirror.example.com/x.org/f"}) {
		t.Errorf("got %q", got)
	}
}

// TestBazelSemantics states the semantics of Bazel's downloader config (UrlRewriterConfig's
// documentation: "allow hostName" allows the host and its subdomains, "block hostName" blocks
// them, "block *" blocks every host, and the directives apply in the order rewrite, allow,
// block, wherever they stand in the file), with the cases of Bazel's UrlRewriterTest. amend
// is UrlRewriter.amend: every input URL is rewritten, then every resulting URL, rewritten or
// not, is kept if an allow matches its host or else if no block matches it. Only http and
// https URLs are rewritten and filtered.
func TestBazelSemantics(t *testing.T) {
	amend := func(c *Config, urls []string) []string {
		var out []string
		for _, u := range urls {
			out = append(out, c.Rewrite(u)...)
		}
		return out
	}
	for _, tc := range []struct {
		name, config string
		in, want     []string
	}{
		{"an empty config changes nothing", "",
			[]string{"http://example.com"}, []string{"http://example.com"}},
		{"block applies to URLs no rewrite matched, whatever the scheme", "block example.com",
			[]string{"http://example.com", "https://example.com", "http://localhost"}, []string{"http://localhost"}},
		{"rewrite", "rewrite example.com/foo/(.*) mycorp.com/$1/foo",
			[]string{"https://example.com/foo/bar"}, []string{"https://mycorp.com/bar/foo"}},
		{"rewrites can expand to more than one URL", "rewrite example.com/foo/(.*) mycorp.com/$1/somewhere\nrewrite example.com/foo/(.*) mycorp.com/$1/elsewhere",
			[]string{"https://example.com/foo/bar"}, []string{"https://mycorp.com/bar/somewhere", "https://mycorp.com/bar/elsewhere"}},
		{"block all URLs other than specific ones", "block *\nallow example.com",
			[]string{"https://foo.com", "https://example.com/foo/bar", "https://subdomain.example.com/qux"},
			[]string{"https://example.com/foo/bar", "https://subdomain.example.com/qux"}},
		{"comments", "# Block everything\nblock *\n# But allow example.com\nallow example.com",
			[]string{"https://foo.com", "https://example.com"}, []string{"https://example.com"}},
		{"allow applies to subdomains", "block *\nallow example.com",
			[]string{"https://subdomain.example.com"}, []string{"https://subdomain.example.com"}},
		{"block applies to subdomains", "block example.com",
			[]string{"https://subdomain.example.com"}, nil},
		{"a host suffix that is not a subdomain is not blocked", "block example.com",
			[]string{"https://notexample.com/x"}, []string{"https://notexample.com/x"}},
		{"the port is not part of the host", "block 127.0.0.1",
			[]string{"http://127.0.0.1:8080/x", "http://localhost:8080/x"}, []string{"http://localhost:8080/x"}},
		{"empty lines", "\n   \nblock *\n\t  \nallow example.com",
			[]string{"https://subdomain.example.com"}, []string{"https://subdomain.example.com"}},
		{"rewriting is applied before blocking", "block bad.com\nrewrite bad.com/foo/(.*) mycorp.com/$1",
			[]string{"https://www.bad.com", "https://bad.com/foo/bar"}, []string{"https://mycorp.com/bar"}},
		{"rewriting is applied before allowing", "block *\nallow mycorp.com\nrewrite bad.com/foo/(.*) mycorp.com/$1",
			[]string{"https://www.bad.com", "https://bad.com/foo/bar"}, []string{"https://mycorp.com/bar"}},
		{"rewrites may change the scheme",
			"block *\nallow mycorp.com\nallow othercorp.com\nrewrite bad.com/foo/(.*) http://mycorp.com/$1\nrewrite bad.com/bar/(.*) https://othercorp.com/bar/$1",
			[]string{"https://www.bad.com", "https://bad.com/foo/bar", "http://bad.com/bar/xyz"},
			[]string{"http://mycorp.com/bar", "https://othercorp.com/bar/xyz"}},
		{"other schemes are neither rewritten nor blocked", "block *\nrewrite (.*) mirror.example.com/$1",
			[]string{"file:///srv/debian/dists/bookworm/InRelease"}, []string{"file:///srv/debian/dists/bookworm/InRelease"}},
		{"everything but one mirror: a source that no rule rewrites is blocked",
			"block *\nallow mirror.example.com\nrewrite snapshot.debian.org/archive/debian/[0-9]+T[0-9]+Z/(.*) mirror.example.com/debian/$1",
			[]string{"https://snapshot.debian.org/archive/debian/20261120T060000Z/dists/bookworm/InRelease", "https://apt.postgresql.org/pub/repos/apt/dists/bookworm-pgdg/InRelease"},
			[]string{"https://mirror.example.com/debian/dists/bookworm/InRelease"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := amend(mustParse(t, tc.config), tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("amend(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"rewrite onlyone\n",
		"rewrite a b c\n",
		"allow\n",
		"block a b\n",
		"rewrite ([ x\n",
		"rewrite a $\n",
		"rewrite a b\\\n",
		"frobnicate x\n",
		"all_blocked_message\n",
		"all_blocked_message a\nall_blocked_message b\n",
	} {
		if _, err := Parse("cfg", strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): no error", in)
		} else if !strings.HasPrefix(err.Error(), "cfg:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): error %q is not one line naming the file", in, err)
		}
	}
}

// TestMirrorConfigScript runs tools/mirror-config on a sample sources file and checks
// that its output parses and rewrites the lockfile's canonical URLs to the mirror, with
// the canonical URL kept as a fallback.
func TestMirrorConfigScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "mirror-config")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("tools/mirror-config not available (under Bazel the source tree is not visible): %v", err)
	}
	src := filepath.Join(t.TempDir(), "debian.sources")
	if err := os.WriteFile(src, []byte(`Types: deb
URIs: http://mirror.example.com/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.com/debian-security/
Suites: bookworm-security
Components: main
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", script, src).Output()
	if err != nil {
		t.Fatalf("mirror-config: %v", err)
	}
	c, err := Parse("mirror-config output", strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := c.Rewrite("https://snapshot.debian.org/archive/debian/20261120T060000Z/pool/main/b/bash/bash_5.2.15-2+b7_amd64.deb")
	want := []string{
		"http://mirror.example.com/debian/pool/main/b/bash/bash_5.2.15-2+b7_amd64.deb",
		"https://snapshot.debian.org/archive/debian/20261120T060000Z/pool/main/b/bash/bash_5.2.15-2+b7_amd64.deb",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("main: got %q want %q\nconfig:\n%s", got, want, out)
	}
	got = c.Rewrite("https://snapshot.debian.org/archive/debian-security/20261120T060000Z/dists/bookworm-security/InRelease")
	if len(got) != 2 || got[0] != "http://mirror.example.com/debian-security/dists/bookworm-security/InRelease" {
		t.Errorf("security: got %q\nconfig:\n%s", got, out)
	}
}
