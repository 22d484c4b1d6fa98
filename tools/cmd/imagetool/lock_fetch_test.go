package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestLockDownloaderConfigBlocks: block and allow apply, as in Bazel, to every URL that
// lock fetches, also to URLs that no rewrite matched.
func TestLockDownloaderConfigBlocks(t *testing.T) {
	w := newLockWorkspace(t)
	// Canonical URLs that are the fixture servers themselves, under another host name: no
	// rewrite is needed to reach them.
	local := func(host string) string { return "http://localhost:" + strings.Split(host, ":")[1] }
	debianLocal, securityLocal := local(w.debianHost)+"/debian", local(w.securityHost)+"/debian-security"
	mirrorDebian := "rewrite snapshot.invalid/archive/debian/[0-9]+T[0-9]+Z/(.*) http://" + w.debianHost + "/debian/$1\n"
	for _, tc := range []struct {
		name, debianURL, securityURL, config string
		// want is the last line of stderr; "" means success.
		want string
	}{
		{
			name:      "block * and allow the mirror: a source that no rule rewrites is blocked",
			debianURL: "https://snapshot.invalid/archive/debian/20240102T000000Z", securityURL: securityLocal,
			config: mirrorDebian + "block *\nallow 127.0.0.1\nall_blocked_message ask for a mirror of it\n",
			want:   "imagetool lock: source debian-security: every URL for " + securityLocal + " is blocked by the downloader config: ask for a mirror of it (needed by small)",
		},
		{
			name:      "block a host, no rewrite at all",
			debianURL: debianLocal, securityURL: securityLocal,
			config: "block localhost\n",
			want:   "imagetool lock: source debian: every URL for " + debianLocal + " is blocked by the downloader config (needed by small)",
		},
		{
			name:      "a rewrite that does not keep the repository's paths",
			debianURL: "https://snapshot.invalid/archive/debian/20240102T000000Z", securityURL: securityLocal,
			config: "rewrite snapshot.invalid/archive/debian/[0-9]+T[0-9]+Z/(.*) http://" + w.debianHost + "/debian/$1?token=x\n",
			want: "imagetool lock: source debian: the downloader config rewrites https://snapshot.invalid/archive/debian/20240102T000000Z/dists/bookworm/InRelease to http://" +
				w.debianHost + "/debian/dists/bookworm/InRelease?token=x, which does not end in /dists/bookworm/InRelease (rewrite the repository root, not single files) (needed by small)",
		},
		{
			name:      "block *, allow the hosts of the sources",
			debianURL: debianLocal, securityURL: securityLocal,
			config: "block *\nallow localhost\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.writeSources(t, tc.debianURL, tc.securityURL)
			writeTestFile(t, w.path("dl.cfg"), tc.config)
			r := w.lock(t)
			if tc.want == "" {
				if r.code != 0 {
					t.Fatalf("exit %d\n%s", r.code, r.stderr)
				}
				w.assertFiles(t, inputFiles, "")
				return
			}
			if r.code != 1 || r.lastLine() != tc.want {
				t.Errorf("exit %d, last line %q\nwant exit 1, %q", r.code, r.lastLine(), tc.want)
			}
			if r.firstLine() != "locking 1 set(s): small" {
				t.Errorf("first line %q", r.firstLine())
			}
			w.assertFiles(t, without(inputFiles, "images/apt.lock.json"), "")
		})
	}
}

func without(list []string, x string) []string {
	var out []string
	for _, s := range list {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}

var dateRE = regexp.MustCompile(`(?m)^Date: .*\n`)

// TestLockRefusesOlderRelease: the lockfile records each source's Release date, and a
// re-lock refuses a validly signed but older InRelease (a replay) unless
// --allow-older-release is given.
func TestLockRefusesOlderRelease(t *testing.T) {
	w := newLockWorkspace(t)
	w.locked(t)
	lockPath := w.path("images/apt.lock.json")
	refused := func(offered, recorded string) string {
		return "imagetool lock: source debian: dists/bookworm/InRelease is older than the one locked before (" + offered + ", recorded " + recorded +
			"): a replayed or rolled-back repository? --allow-older-release accepts it (needed by small)"
	}
	// Steps run in order against the same lockfile; date is the Release Date: the fixture
	// server publishes next ("" removes the field).
	for _, step := range []struct {
		name, date string
		args       []string
		// want is the last line of stderr for a refusal ("" means success); recorded is
		// the debian date in the lockfile afterwards.
		want, recorded string
	}{
		{name: "same date", date: "Tue, 02 Jan 2024 03:04:05 UTC", recorded: "2024-01-02T03:04:05Z"},
		{name: "older", date: "Mon, 01 Jan 2024 00:00:00 UTC", want: refused("Date 2024-01-01T00:00:00Z", "2024-01-02T03:04:05Z"), recorded: "2024-01-02T03:04:05Z"},
		{name: "older, allowed", date: "Mon, 01 Jan 2024 00:00:00 UTC", args: []string{"--allow-older-release"}, recorded: "2024-01-01T00:00:00Z"},
		{name: "newer", date: "Wed, 03 Jan 2024 10:00:00 +0000", recorded: "2024-01-03T10:00:00Z"},
		{name: "back to the first one", date: "Tue, 02 Jan 2024 03:04:05 UTC", want: refused("Date 2024-01-02T03:04:05Z", "2024-01-03T10:00:00Z"), recorded: "2024-01-03T10:00:00Z"},
		{name: "no Date", date: "", want: refused("no Date", "2024-01-03T10:00:00Z"), recorded: "2024-01-03T10:00:00Z"},
	} {
		t.Run(step.name, func(t *testing.T) {
			w.repos.Debian.RewriteRelease("bookworm", func(rel string) string {
				if step.date == "" {
					return dateRE.ReplaceAllString(rel, "")
				}
				if !dateRE.MatchString(rel) {
					return "Date: " + step.date + "\n" + rel
				}
				return dateRE.ReplaceAllString(rel, "Date: "+step.date+"\n")
			})
			before := readTestFile(t, lockPath)
			r := w.lock(t, step.args...)
			if step.want == "" {
				if r.code != 0 {
					t.Fatalf("exit %d\n%s", r.code, r.stderr)
				}
				w.assertFiles(t, inputFiles, "")
			} else {
				if r.code != 1 || r.lastLine() != step.want {
					t.Errorf("exit %d, last line %q\nwant exit 1, %q", r.code, r.lastLine(), step.want)
				}
				w.assertFiles(t, inputFiles, before)
			}
			if len(step.args) > 0 && !strings.Contains(r.stderr, "  warning: source debian: dists/bookworm/InRelease is older than the one locked before (Date 2024-01-01T00:00:00Z, recorded 2024-01-02T03:04:05Z): accepted (--allow-older-release)\n") {
				t.Errorf("no warning for the accepted older Release:\n%s", r.stderr)
			}
			lock := readTestFile(t, lockPath)
			if got := recordedDate(t, lock, "debian"); got != step.recorded {
				t.Errorf("recorded date %q, want %s", got, step.recorded)
			}
			// The security suite's Release never changed.
			if got := recordedDate(t, lock, "debian-security"); got != "2024-01-02T03:04:05Z" {
				t.Errorf("debian-security: recorded date %q", got)
			}
		})
	}
}

// recordedDate returns releases.<source>.date of a lockfile, "" if there is none.
func recordedDate(t *testing.T, lock, source string) string {
	t.Helper()
	var lf struct {
		Releases map[string]struct {
			Date string `json:"date"`
		} `json:"releases"`
	}
	if err := json.Unmarshal([]byte(lock), &lf); err != nil {
		t.Fatal(err)
	}
	return lf.Releases[source].Date
}
