package fidelity

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/fsdiff"
)

// maxKeptBody bounds the files whose content is kept for line diffs and account parsing.
const maxKeptBody = 4 << 20

// KeepBody says which files' content the comparison keeps: the account databases, dpkg's
// package file lists (to name the package owning a path) and small files under etc/ and
// var/lib/ (for line diffs in the report).
func KeepBody(e *fsdiff.Entry) bool {
	if e.Size > maxKeptBody {
		return false
	}
	p := e.Path
	return strings.HasPrefix(p, "etc/") || strings.HasPrefix(p, "var/lib/") ||
		strings.HasPrefix(p, "usr/share/base-passwd/")
}

// AccountFilesOf returns the account databases of a tree read with KeepBody.
func AccountFilesOf(t fsdiff.Tree) AccountFiles {
	body := func(p string) []byte {
		if e := t[p]; e != nil {
			return e.Body
		}
		return nil
	}
	return AccountFiles{
		Passwd: body("etc/passwd"), Group: body("etc/group"),
		PasswdMaster: body("usr/share/base-passwd/passwd.master"), GroupMaster: body("usr/share/base-passwd/group.master"),
	}
}

// Owners maps paths to the packages whose dpkg file lists (var/lib/dpkg/info/*.list, kept by
// KeepBody) name them. Paths under /bin, /sbin and /lib* are also recorded under usr/ (merged
// /usr).
func Owners(t fsdiff.Tree) map[string][]string {
	out := map[string][]string{}
	for p, e := range t {
		if !fsdiff.Match("var/lib/dpkg/info/*.list", p) {
			continue
		}
		pkg := strings.TrimSuffix(path.Base(p), ".list")
		pkg, _, _ = strings.Cut(pkg, ":")
		for _, line := range strings.Split(string(e.Body), "\n") {
			q := strings.TrimPrefix(line, "/")
			if q == "" || q == "." {
				continue
			}
			out[q] = append(out[q], pkg)
			if top, _, _ := strings.Cut(q, "/"); top == "bin" || top == "sbin" || strings.HasPrefix(top, "lib") {
				out["usr/"+q] = append(out["usr/"+q], pkg)
			}
		}
	}
	for _, pkgs := range out {
		sort.Strings(pkgs)
	}
	return out
}

// ownerNote is " [pkg, ...]" or " [no package]" for p.
func ownerNote(owners map[string][]string, p string) string {
	if pkgs := owners[p]; len(pkgs) > 0 {
		return " [" + strings.Join(dedupe(pkgs), ", ") + "]"
	}
	return " [no package]"
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// FormatReport lists every difference: the summary, the unexplained ones (with the owning
// package and, for text files with kept content, a line diff), then the allowed ones by
// category.
func FormatReport(r *fsdiff.Report, owners map[string][]string) string {
	var b strings.Builder
	b.WriteString(r.Summary())
	fmt.Fprintf(&b, "\n# unexplained (%d)\n", len(r.Unexplained))
	for _, d := range r.Unexplained {
		fmt.Fprintf(&b, "%s%s\n", d, ownerNote(owners, d.Path))
		for _, l := range bodyDiff(d) {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	var cats []string
	for c := range r.Allowed {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		ds := r.Allowed[fsdiff.Category(c)]
		fmt.Fprintf(&b, "\n# allowed: %s (%d)\n", c, len(ds))
		for _, d := range ds {
			fmt.Fprintf(&b, "%s  (%s)\n", d, d.Reason)
		}
	}
	return b.String()
}

// bodyDiff is the line diff of a content difference between kept text files, at most 60
// lines; for a missing or extra kept text file, its first lines.
func bodyDiff(d fsdiff.Diff) []string {
	const max = 60
	var out []string
	switch {
	case d.Has(fsdiff.Content) && d.Want.Body != nil && d.Got.Body != nil && fsdiff.IsText(d.Want.Body) && fsdiff.IsText(d.Got.Body):
		out = fsdiff.LineDiff(d.Want.Body, d.Got.Body)
	case d.Has(fsdiff.Missing) && d.Want.Body != nil && fsdiff.IsText(d.Want.Body):
		out = fsdiff.LineDiff(d.Want.Body, nil)
	case d.Has(fsdiff.Extra) && d.Got.Body != nil && fsdiff.IsText(d.Got.Body):
		out = fsdiff.LineDiff(nil, d.Got.Body)
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("... %d more lines", len(out)-max))
	}
	return out
}
