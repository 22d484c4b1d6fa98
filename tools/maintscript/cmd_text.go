package maintscript

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"path"
	"sort"
	"strconv"
	"strings"
)

// textCommands are the coreutils that filter text, and find.
func textCommands() map[string]command {
	return map[string]command{
		"head": {run: runHeadTail(true)}, "tail": {run: runHeadTail(false)}, "cut": {run: runCut},
		"tr": {run: runTr}, "sort": {run: runSort}, "uniq": {run: runUniq}, "wc": {run: runWc},
		"md5sum": {run: runSum(md5.New)}, "sha256sum": {run: runSum(sha256.New)}, "sha512sum": {run: runSum(sha512.New)},
		"seq": {run: runSeq}, "find": {run: runFind},
		"sed": {run: runSed}, "grep": {run: runGrep("")}, "egrep": {run: runGrep("E")}, "fgrep": {run: runGrep("F")},
		"awk": {run: runAwk}, "mawk": {run: runAwk},
	}
}

// lines splits text into lines without their newlines (a final newline ends the last line).
func lines(b []byte) []string {
	s := string(b)
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func writeLines(c *cmdCtx, ls []string) {
	for _, l := range ls {
		fmt.Fprintln(c.stdout, l)
	}
}

// runHeadTail is head and tail with -n N (also the old -N form).
func runHeadTail(head bool) func(c *cmdCtx) int {
	return func(c *cmdCtx) int {
		args := c.args
		n := 10
		var files []string
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "-n" && i+1 < len(args):
				i++
				n, _ = strconv.Atoi(strings.TrimPrefix(args[i], "+"))
			case strings.HasPrefix(a, "-n"):
				n, _ = strconv.Atoi(a[2:])
			case strings.HasPrefix(a, "--lines="):
				n, _ = strconv.Atoi(a[8:])
			case len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9':
				n, _ = strconv.Atoi(a[1:])
			default:
				files = append(files, a)
			}
		}
		b, err := c.input(files)
		if err != nil {
			return c.fail("%s", errorText(err))
		}
		ls := lines(b)
		if head && len(ls) > n {
			ls = ls[:n]
		} else if !head && len(ls) > n {
			ls = ls[len(ls)-n:]
		}
		writeLines(c, ls)
		return 0
	}
}

func runCut(c *cmdCtx) int {
	o := parseOpts(c.args, "dfc", "delimiter", "fields")
	delim, _ := o.get("d", "delimiter")
	if delim == "" {
		delim = "\t"
	}
	spec, ok := o.get("f", "fields")
	if !ok {
		return c.fail("only cut -f is emulated")
	}
	fields := parseRanges(spec)
	b, err := c.input(o.args)
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	for _, l := range lines(b) {
		parts := strings.Split(l, delim[:1])
		if len(parts) == 1 {
			fmt.Fprintln(c.stdout, l)
			continue
		}
		var out []string
		for i, p := range parts {
			if fields(i + 1) {
				out = append(out, p)
			}
		}
		fmt.Fprintln(c.stdout, strings.Join(out, delim[:1]))
	}
	return 0
}

// parseRanges reads cut's list ("1", "1,3", "2-", "-3") into a membership test.
func parseRanges(spec string) func(int) bool {
	type rng struct{ lo, hi int }
	var rs []rng
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		r := rng{1, 1 << 30}
		if v, err := strconv.Atoi(lo); err == nil {
			r.lo = v
		}
		if !isRange {
			r.hi = r.lo
		} else if v, err := strconv.Atoi(hi); err == nil {
			r.hi = v
		}
		rs = append(rs, r)
	}
	return func(i int) bool {
		for _, r := range rs {
			if i >= r.lo && i <= r.hi {
				return true
			}
		}
		return false
	}
}

// runTr is tr SET1 SET2, tr -d SET and tr -cd SET, with ranges, escapes and the classes
// [:space:], [:upper:], [:lower:].
func runTr(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	if len(o.args) == 0 {
		return c.fail("missing operand")
	}
	b, err := c.readStdin()
	if err != nil {
		return c.fail("%v", err)
	}
	set1 := expandSet(o.args[0])
	complement := o.has("c", "C", "complement")
	in1 := func(r rune) bool { return strings.ContainsRune(set1, r) != complement }
	var out strings.Builder
	if o.has("d", "delete") {
		for _, r := range string(b) {
			if !in1(r) {
				out.WriteRune(r)
			}
		}
	} else {
		if len(o.args) < 2 {
			return c.fail("missing operand after '%s'", o.args[0])
		}
		from, to := []rune(set1), []rune(expandSet(o.args[1]))
		for _, r := range string(b) {
			if i := indexRune(from, r); i >= 0 && len(to) > 0 {
				r = to[min(i, len(to)-1)]
			}
			out.WriteRune(r)
		}
	}
	fmt.Fprint(c.stdout, out.String())
	return 0
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// expandSet expands tr's ranges, backslash escapes and character classes.
func expandSet(s string) string {
	for cls, chars := range map[string]string{"[:space:]": " \t\n\v\f\r", "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:digit:]": "0-9", "[:alpha:]": "a-zA-Z"} {
		s = strings.ReplaceAll(s, cls, chars)
	}
	var rs []rune
	src := []rune(s)
	for i := 0; i < len(src); i++ {
		r := src[i]
		if r == '\\' && i+1 < len(src) {
			i++
			r = map[rune]rune{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}[src[i]]
			if r == 0 {
				r = src[i]
			}
		} else if i+2 < len(src) && src[i+1] == '-' {
			for x := r; x <= src[i+2]; x++ {
				rs = append(rs, x)
			}
			i += 2
			continue
		}
		rs = append(rs, r)
	}
	return string(rs)
}

// runSort sorts lines byte-wise (the scripts run with LC_ALL=C or only need a stable
// order), with -u, -r and -n.
func runSort(c *cmdCtx) int {
	o := parseOpts(c.args, "tko", "field-separator", "key", "output")
	b, err := c.input(o.args)
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	ls := lines(b)
	if o.has("n", "numeric-sort") {
		sort.SliceStable(ls, func(i, j int) bool { return leadingNumber(ls[i]) < leadingNumber(ls[j]) })
	} else {
		sort.Strings(ls)
	}
	if o.has("r", "reverse") {
		for i, j := 0, len(ls)-1; i < j; i, j = i+1, j-1 {
			ls[i], ls[j] = ls[j], ls[i]
		}
	}
	if o.has("u", "unique") {
		ls = uniqLines(ls)
	}
	writeLines(c, ls)
	return 0
}

func leadingNumber(s string) float64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || end == 0 && s[end] == '-') {
		end++
	}
	v, _ := strconv.ParseFloat(s[:end], 64)
	return v
}

func uniqLines(ls []string) []string {
	var out []string
	for i, l := range ls {
		if i == 0 || l != ls[i-1] {
			out = append(out, l)
		}
	}
	return out
}

func runUniq(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	b, err := c.input(o.args)
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	ls := lines(b)
	for i := 0; i < len(ls); {
		j := i
		for j < len(ls) && ls[j] == ls[i] {
			j++
		}
		switch {
		case o.has("c", "count"):
			fmt.Fprintf(c.stdout, "%7d %s\n", j-i, ls[i])
		case o.has("d", "repeated") && j-i < 2:
		case o.has("u", "unique") && j-i > 1:
		default:
			fmt.Fprintln(c.stdout, ls[i])
		}
		i = j
	}
	return 0
}

func runWc(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	b, err := c.input(o.args)
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	switch {
	case o.has("l", "lines"):
		fmt.Fprintln(c.stdout, bytes.Count(b, []byte("\n")))
	case o.has("c", "bytes"):
		fmt.Fprintln(c.stdout, len(b))
	default:
		fmt.Fprintln(c.stdout, len(strings.Fields(string(b))))
	}
	return 0
}

// runSum is md5sum, sha256sum and sha512sum: "HEX  NAME" per file ("-" for standard input).
func runSum(newHash func() hash.Hash) func(c *cmdCtx) int {
	return func(c *cmdCtx) int {
		o := parseOpts(c.args, "")
		files := o.args
		if len(files) == 0 {
			files = []string{"-"}
		}
		status := 0
		for _, f := range files {
			b, err := c.input([]string{f})
			if err != nil {
				status = c.fail("%s: %s", f, errorText(err))
				continue
			}
			h := newHash()
			h.Write(b)
			fmt.Fprintf(c.stdout, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), f)
		}
		return status
	}
}

func runSeq(c *cmdCtx) int {
	o := parseOpts(c.args, "")
	nums := make([]int, 0, 3)
	for _, a := range o.args {
		n, err := strconv.Atoi(a)
		if err != nil {
			return c.fail("invalid argument '%s'", a)
		}
		nums = append(nums, n)
	}
	first, step, last := 1, 1, 0
	switch len(nums) {
	case 1:
		last = nums[0]
	case 2:
		first, last = nums[0], nums[1]
	case 3:
		first, step, last = nums[0], nums[1], nums[2]
	default:
		return c.fail("missing operand")
	}
	for i := first; step > 0 && i <= last || step < 0 && i >= last; i += step {
		fmt.Fprintln(c.stdout, i)
	}
	return 0
}

// runFind is find PATH... with -type, -name, -maxdepth, -mindepth and -print (the
// default); other expressions are not emulated.
func runFind(c *cmdCtx) int {
	var roots []string
	args := c.args
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		roots, args = append(roots, args[0]), args[1:]
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	match, maxDepth, minDepth, ok := findExpr(args)
	if !ok {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "find "+strings.Join(args, " "))
		return 0
	}
	for _, root := range roots {
		name, n, err := c.fs().stat(c.dir, root, true)
		if err != nil {
			fmt.Fprintf(c.stderr, "find: '%s': No such file or directory\n", root)
			continue
		}
		if minDepth == 0 && match(path.Base(root), n) {
			fmt.Fprintln(c.stdout, root)
		}
		if n.Kind != KindDir {
			continue
		}
		for _, sub := range c.fs().walk(name) {
			rel := strings.TrimPrefix(sub, name+"/")
			if name == "" {
				rel = sub
			}
			depth := strings.Count(rel, "/") + 1
			sn, _ := c.fs().get(sub)
			if depth >= minDepth && (maxDepth < 0 || depth <= maxDepth) && match(path.Base(sub), sn) {
				fmt.Fprintln(c.stdout, path.Join(root, rel))
			}
		}
	}
	return 0
}

// findExpr reads find's expression: a conjunction of -type X and -name PATTERN, with
// -maxdepth, -mindepth and -print.
func findExpr(args []string) (match func(string, Node) bool, maxDepth, minDepth int, ok bool) {
	var tests []func(string, Node) bool
	maxDepth = -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-print" {
			continue
		}
		if i+1 >= len(args) {
			return nil, 0, 0, false
		}
		v := args[i+1]
		i++
		switch a {
		case "-type":
			kind := map[string]Kind{"f": KindFile, "d": KindDir, "l": KindSymlink}[v]
			tests = append(tests, func(_ string, n Node) bool { return n.Kind == kind })
		case "-name":
			tests = append(tests, func(base string, _ Node) bool { ok, _ := path.Match(v, base); return ok })
		case "-maxdepth":
			maxDepth, _ = strconv.Atoi(v)
		case "-mindepth":
			minDepth, _ = strconv.Atoi(v)
		default:
			return nil, 0, 0, false
		}
	}
	return func(base string, n Node) bool {
		for _, t := range tests {
			if !t(base, n) {
				return false
			}
		}
		return true
	}, maxDepth, minDepth, true
}
