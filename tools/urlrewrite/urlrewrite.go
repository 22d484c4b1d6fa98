// Package urlrewrite reads Bazel's downloader config (--downloader_config, called
// --experimental_downloader_config before Bazel 8) and rewrites URLs the way Bazel's
// UrlRewriter does, so that `imagetool lock` fetches indexes through the same corporate
// mirror that Bazel later uses for the .deb files.
//
// The file is line based; blank lines and lines whose first word starts with '#' are
// ignored. Directives:
//
//	rewrite <regex> <replacement>   rewrite URLs (several rules may match: each adds URLs)
//	allow <host>                    keep URLs for host (and its subdomains)
//	block <host>                    drop URLs for host and subdomains ("*": all)
//	all_blocked_message <text>      message shown when every URL was blocked
//
// Semantics, as in Bazel (UrlRewriter.applyRewriteRules):
//   - only http and https URLs are rewritten;
//   - the regex must match the whole URL without its "scheme://" prefix;
//   - the replacement uses Java's syntax: $1..$9 (greedy digits while such a group
//     exists), ${name}, and backslash escapes (\$ is a literal dollar);
//   - rules are applied in file order, and each replacement of each matching rule adds
//     one URL (duplicates removed, first occurrence kept);
//   - a result without "http://" or "https://" gets the original URL's scheme;
//   - when no rule matches, the URL is kept unchanged;
//   - allow and block then filter every resulting URL by host, rewritten or not (the
//     directives apply in the order rewrite, allow, block wherever they stand in the
//     file): a URL is kept if an allow names its host or a parent domain, else dropped if a
//     block does (or is "*"). So "block *" plus "allow mirror" lets only the mirror through.
//
// Go's RE2 syntax is used for the regex; it agrees with Java's for the patterns used in
// practice (no back-references or look-around, which RE2 rejects with an error).
package urlrewrite

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// rule is one rewrite directive; rules with the same pattern are grouped, as Bazel's
// multimap does, under the first occurrence.
type rule struct {
	pattern      string
	re           *regexp.Regexp
	replacements []string
}

// Config is a parsed downloader config. The zero value rewrites nothing.
type Config struct {
	rules        []rule
	allow, block []string
	// AllBlockedMessage is the all_blocked_message text, for the error shown when
	// Rewrite drops every URL ("" if the file has none).
	AllBlockedMessage string
}

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("downloader config: %w", err)
	}
	return Parse(path, bytes.NewReader(data))
}

// Parse parses a downloader config; name is used in errors ("name:line: ...").
func Parse(name string, r io.Reader) (*Config, error) {
	c := &Config{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		parts := strings.Fields(line)
		if len(parts) == 0 || strings.HasPrefix(parts[0], "#") {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, args...))
		}
		switch parts[0] {
		case "allow", "block":
			if len(parts) != 2 {
				return nil, bad("only the host name is allowed after `%s`: %s", parts[0], line)
			}
			if parts[0] == "allow" {
				c.allow = append(c.allow, parts[1])
			} else {
				c.block = append(c.block, parts[1])
			}
		case "rewrite":
			if len(parts) != 3 {
				return nil, bad("only the matching pattern and rewrite pattern are allowed after `rewrite`: %s", line)
			}
			if err := c.addRule(parts[1], parts[2]); err != nil {
				return nil, bad("%v", err)
			}
		case "all_blocked_message":
			if len(parts) == 1 {
				return nil, bad("all_blocked_message must be followed by a message")
			}
			if c.AllBlockedMessage != "" {
				return nil, bad("at most one all_blocked_message directive is allowed")
			}
			c.AllBlockedMessage = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "all_blocked_message"))
		default:
			return nil, bad("unable to parse: %s", line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (c *Config) addRule(pattern, replacement string) error {
	if _, err := expand(replacement, nil, nil); err != nil {
		return fmt.Errorf("invalid replacement %q: %w", replacement, err)
	}
	for i := range c.rules {
		if c.rules[i].pattern == pattern {
			c.rules[i].replacements = append(c.rules[i].replacements, replacement)
			return nil
		}
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fmt.Errorf("invalid regex in `rewrite`: %w", err)
	}
	c.rules = append(c.rules, rule{pattern: pattern, re: re, replacements: []string{replacement}})
	return nil
}

// Rewrite returns the URLs to try for u, in order: its rewrites, or u itself when no rule
// matches, filtered by allow and block; an empty list when they drop every URL. A URL that
// is not http or https is returned unchanged and unfiltered.
func (c *Config) Rewrite(u string) []string {
	if c == nil {
		return []string{u}
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || (!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https")) {
		return []string{u}
	}
	var out []string
	seen := map[string]bool{}
	matched := false
	for _, r := range c.rules {
		m := r.re.FindStringSubmatchIndex(rest)
		if m == nil {
			continue
		}
		matched = true
		for _, repl := range r.replacements {
			s, err := expand(repl, r.re, func(i int) (string, bool) {
				if 2*i+1 >= len(m) {
					return "", false
				}
				if m[2*i] < 0 {
					return "", true
				}
				return rest[m[2*i]:m[2*i+1]], true
			})
			if err != nil {
				continue // validated at parse time; unknown groups only
			}
			if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				s = scheme + "://" + s
			}
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	if !matched {
		out = []string{u}
	}
	kept := out[:0]
	for _, s := range out {
		if c.hostIn(s, c.allow) || !c.blocked(s) {
			kept = append(kept, s)
		}
	}
	return kept
}

func host(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Hostname()
}

func (c *Config) hostIn(u string, hosts []string) bool {
	h := host(u)
	for _, x := range hosts {
		if h == x || strings.HasSuffix(h, "."+x) {
			return true
		}
	}
	return false
}

func (c *Config) blocked(u string) bool {
	for _, x := range c.block {
		if x == "*" {
			return true
		}
	}
	return c.hostIn(u, c.block)
}

// expand implements java.util.regex.Matcher.appendReplacement's syntax. group returns a
// group's text and whether the group exists; with a nil group only the syntax is checked.
func expand(repl string, re *regexp.Regexp, group func(int) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		switch repl[i] {
		case '\\':
			i++
			if i >= len(repl) {
				return "", fmt.Errorf("character to be escaped is missing")
			}
			b.WriteByte(repl[i])
		case '$':
			s, n, err := groupRef(repl[i+1:], re, group)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
			i += n
		default:
			b.WriteByte(repl[i])
		}
	}
	return b.String(), nil
}

// groupRef expands the group reference at the start of ref (what follows a '$'): a
// number or "{name}". It returns the group's text ("" without group) and the length of
// the reference.
func groupRef(ref string, re *regexp.Regexp, group func(int) (string, bool)) (string, int, error) {
	if ref == "" {
		return "", 0, fmt.Errorf("illegal group reference: group index is missing")
	}
	if ref[0] == '{' {
		end := strings.IndexByte(ref, '}')
		if end < 0 {
			return "", 0, fmt.Errorf("named capturing group is missing trailing '}'")
		}
		if group == nil {
			return "", end + 1, nil
		}
		idx := re.SubexpIndex(ref[1:end])
		if idx < 0 {
			return "", 0, fmt.Errorf("no group with name {%s}", ref[1:end])
		}
		s, _ := group(idx)
		return s, end + 1, nil
	}
	if ref[0] < '0' || ref[0] > '9' {
		return "", 0, fmt.Errorf("illegal group reference")
	}
	n, l := int(ref[0]-'0'), 1
	// Java: take further digits while the larger number is still a group.
	for l < len(ref) && ref[l] >= '0' && ref[l] <= '9' {
		next := n*10 + int(ref[l]-'0')
		if group == nil || next > re.NumSubexp() {
			break
		}
		n = next
		l++
	}
	if group == nil {
		return "", l, nil
	}
	s, ok := group(n)
	if !ok {
		return "", 0, fmt.Errorf("no group %d", n)
	}
	return s, l, nil
}
