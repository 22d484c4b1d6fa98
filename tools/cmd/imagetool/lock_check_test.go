package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// editJSON decodes a JSON document, applies fn and encodes it again, as a person with jq
// would.
func editJSON(t *testing.T, doc string, fn func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func jsonObj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// TestLockCheckSeesContent: `lock --check` verifies the lockfile's content, not only the
// input hashes, and a corrupt lockfile gives a one-line hint, for --check and for re-locking.
func TestLockCheckSeesContent(t *testing.T) {
	w := newLockWorkspace(t)
	good := w.locked(t)
	lockPath := w.path("images/apt.lock.json")
	edited := "imagetool lock: " + lockPath + ": lockfile was edited by hand: re-lock"
	corrupt := func(detail string) string {
		return "imagetool lock: " + lockPath + ": not a valid lockfile (" + detail + "): delete it or restore it from git"
	}
	for _, tc := range []struct {
		name    string
		content func(good string) string
		// check is the first line of stderr of --check (exit 1 unless it starts with
		// "lockfile is up to date"); relock that of a re-lock, "" for a re-lock that succeeds.
		check, relock string
	}{
		{name: "unchanged", content: func(g string) string { return g }, check: "lockfile is up to date (up to date)"},
		{name: "re-indented, same content", content: func(g string) string { return editJSON(t, g, func(map[string]any) {}) }, check: "lockfile is up to date (up to date)"},
		{
			name: "a package's sha256 zeroed",
			content: func(g string) string {
				return editJSON(t, g, func(m map[string]any) {
					for _, p := range jsonObj(m, "packages") {
						p.(map[string]any)["sha256"] = strings.Repeat("0", 64)
						break
					}
				})
			},
			check: edited,
		},
		{
			name: "a set's recorded requests edited",
			content: func(g string) string {
				return editJSON(t, g, func(m map[string]any) {
					s := jsonObj(m, "inputs", "sets", "small")
					s["requests"] = append(s["requests"].([]any), "gdb")
				})
			},
			check: edited,
		},
		{
			name:    "content_sha256 removed",
			content: func(g string) string { return editJSON(t, g, func(m map[string]any) { delete(m, "content_sha256") }) },
			check:   edited + " (no content_sha256: edited, or written by an imagetool older than the field)",
		},
		{name: "truncated", content: func(g string) string { return g[:len(g)/2] }, check: corrupt("unexpected end of the file"), relock: corrupt("unexpected end of the file")},
		{
			name:    "merge conflict markers",
			content: func(g string) string { return "<<<<<<< HEAD\n" + g },
			check:   corrupt("line 1, column 1: invalid character '<' looking for beginning of value"),
			relock:  corrupt("line 1, column 1: invalid character '<' looking for beginning of value"),
		},
		{
			name:    "trailing data",
			content: func(g string) string { return g + "}\n" },
			check:   corrupt("line " + lineAfter(good) + ", column 1: trailing data after the JSON value"),
			relock:  corrupt("line " + lineAfter(good) + ", column 1: trailing data after the JSON value"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := tc.content(good)
			writeTestFile(t, lockPath, content)
			r := w.check(t)
			wantCode := 1
			if strings.HasPrefix(tc.check, "lockfile is up to date") {
				wantCode = 0
			}
			if r.code != wantCode || r.firstLine() != tc.check {
				t.Errorf("check: exit %d, first line %q\nwant exit %d, %q", r.code, r.firstLine(), wantCode, tc.check)
			}
			w.assertFiles(t, inputFiles, content)

			r = w.lock(t)
			switch {
			case tc.relock != "":
				if r.code != 1 || r.firstLine() != tc.relock {
					t.Errorf("re-lock: exit %d, first line %q\nwant exit 1, %q", r.code, r.firstLine(), tc.relock)
				}
				w.assertFiles(t, inputFiles, content)
			case tc.check == edited || strings.HasPrefix(tc.check, edited):
				// The way out that --check names: a re-lock, which keeps nothing of the edited file.
				warn := "warning: " + lockPath + ": " + strings.TrimPrefix(tc.check, "imagetool lock: "+lockPath+": ") + "; nothing is kept from it (sets, release dates)"
				if r.code != 0 || r.firstLine() != warn {
					t.Errorf("re-lock: exit %d, first line %q\nwant exit 0, %q", r.code, r.firstLine(), warn)
				}
				w.assertFiles(t, inputFiles, good)
			default:
				if r.code != 0 {
					t.Errorf("re-lock: exit %d\n%s", r.code, r.stderr)
				}
				w.assertFiles(t, inputFiles, good)
			}
			writeTestFile(t, lockPath, good)
		})
	}
}

// lineAfter is the number of the line after the last line of s (which ends in "\n").
func lineAfter(s string) string { return strconv.Itoa(strings.Count(s, "\n") + 1) }

// TestLockStrictInputs: unknown keys, unknown values and trailing data in packages.json and
// sources.json are errors naming the file and the key or value, for --check and for lock.
func TestLockStrictInputs(t *testing.T) {
	w := newLockWorkspace(t)
	good := w.locked(t)
	sources := readTestFile(t, w.path("images/sources.json"))
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{
			name: "misspelt base_priorities value", file: "images/small/packages.json",
			content: `{"requests": ["openssl"], "base_priorities": ["requird"]}`,
			want:    `images/small/packages.json: base_priorities: "requird" is not a Debian priority (want one of required, important, standard, optional, extra)`,
		},
		{
			name: "misspelt key", file: "images/small/packages.json",
			content: `{"requests": ["openssl"], "excludes": ["perl-base"]}`,
			want:    `images/small/packages.json: unknown key "excludes"`,
		},
		{
			name: "trailing data", file: "images/small/packages.json",
			content: smallPackages + "\n}\n",
			want:    `images/small/packages.json: line 2, column 1: trailing data after the JSON value`,
		},
		{
			name: "two objects (a bad merge)", file: "images/small/packages.json",
			content: smallPackages + smallPackages,
			want:    `images/small/packages.json: line 1, column ` + strconv.Itoa(len(smallPackages)+1) + `: trailing data after the JSON value`,
		},
		{
			name: "misspelt key in a source", file: "images/sources.json",
			content: strings.Replace(sources, `"suite":"bookworm"`, `"suite":"bookworm","priorty":100`, 1),
			want:    `images/sources.json: unknown key "priorty"`,
		},
		{
			name: "unknown architecture", file: "images/sources.json",
			content: strings.Replace(sources, `"arch":"amd64"`, `"arch":"amd46"`, 1),
			want:    `images/sources.json: arch: "amd46" is not a Debian architecture (want one of `,
		},
		{
			name: "a mirror that is not a URL", file: "images/sources.json",
			content: strings.Replace(sources, `"suite":"bookworm"`, `"suite":"bookworm","mirrors":["mirror.example/debian"]`, 1),
			want:    `images/sources.json: source "debian": aptrepo: debian: mirror "mirror.example/debian": want an http(s) URL`,
		},
		{
			name: "trailing data in sources.json", file: "images/sources.json",
			content: sources + "]",
			want:    `images/sources.json: line 1, column ` + strconv.Itoa(len(sources)+1) + `: trailing data after the JSON value`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := readTestFile(t, w.path(tc.file))
			writeTestFile(t, w.path(tc.file), tc.content)
			defer writeTestFile(t, w.path(tc.file), orig)
			for _, r := range []result{w.check(t), w.lock(t)} {
				if r.code != 1 || !strings.HasPrefix(r.firstLine(), "imagetool lock: "+tc.want) {
					t.Errorf("exit %d, first line %q\nwant exit 1, %q", r.code, r.firstLine(), "imagetool lock: "+tc.want)
				}
			}
			w.assertFiles(t, inputFiles, good)
		})
	}
}
