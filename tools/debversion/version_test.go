package debversion

import (
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// dpkgCompare asks dpkg whether "a op b" holds (op is lt, eq or gt).
func dpkgCompare(t testing.TB, a, op, b string) bool {
	t.Helper()
	err := exec.Command("dpkg", "--compare-versions", a, op, b).Run()
	if err == nil {
		return true
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	}
	t.Fatalf("dpkg --compare-versions %q %s %q: %v", a, op, b, err)
	return false
}

// needDpkg skips (loudly) when dpkg is missing, or fails under CI=true where
// the oracle must be present.
func needDpkg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("dpkg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dpkg is required as the test oracle under CI: %v", err)
		}
		t.Skipf("SKIPPING dpkg oracle check: dpkg not found (%v)", err)
	}
}

func opName(c int) string {
	switch {
	case c < 0:
		return "lt"
	case c > 0:
		return "gt"
	}
	return "eq"
}

// comparePairs lists version pairs with the expected sign of Compare(a, b).
var comparePairs = []struct {
	a, b string
	want int
}{
	// trivial and numeric
	{"1", "1", 0}, {"1", "2", -1}, {"2", "1", 1}, {"10", "9", 1}, {"1.10", "1.9", 1},
	{"1.0", "1.0", 0}, {"1.0", "1.00", 0}, {"1.01", "1.1", 0}, {"1.001", "1.1", 0},
	{"0", "00", 0}, {"1.0", "1.0.0", -1}, {"1.0.1", "1.0", 1}, {"1.2.3", "1.2.10", -1},
	{"007", "7", 0}, {"1.09", "1.9", 0}, {"1.9", "1.10", -1}, {"123456789012345678901234567890", "123456789012345678901234567891", -1},
	{"99999999999999999999", "100000000000000000000", -1}, {"2.0", "10.0", -1},
	// epochs
	{"1:1.0", "1.0", 1}, {"0:1.0", "1.0", 0}, {"1:0.1", "2.0", 1}, {"2:1.0", "10:0.1", -1},
	{"1:1.0-1", "1:1.0-1", 0}, {"00:1.0", "1.0", 0}, {"1:1.0", "01:1.0", 0}, {"3:1", "2:9", 1},
	{"1:2.30-1", "2.30-1", 1}, {"10:1", "9:1", 1},
	// tilde
	{"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1}, {"1.0~~", "1.0~", -1}, {"1.0~~a", "1.0~", -1},
	{"1.0~", "1.0", -1}, {"1.0~beta", "1.0~alpha", 1}, {"1.0~~", "1.0~~", 0}, {"", "~", -1}, {"", "0", -1}, {"", "", 0},
	{"1~", "1", -1}, {"1~1", "1~", 1}, {"1.0~rc1-1", "1.0-1", -1}, {"1.0-1~bpo1", "1.0-1", -1},
	{"1.0-1~bpo11+1", "1.0-1~bpo12+1", -1}, {"1.0-1~bpo12+1", "1.0-1", -1}, {"1.0-1~bpo12+1", "1.0-0", 1},
	{"2.0~beta1", "1.9", 1}, {"1.0~a", "1.0~b", -1}, {"1.0~", "1.0~a", -1}, {"1.0a~", "1.0a", -1},
	{"1.0~~~", "1.0~~", -1}, {"0~", "0", -1}, {"1.0-1~", "1.0-1", -1}, {"1.0-~", "1.0-0", -1},
	// letters, plus, dot
	{"1.0a", "1.0", 1}, {"1.0a", "1.0b", -1}, {"1.0a", "1.0.", -1}, {"1.0+", "1.0.", -1},
	{"1.0+a", "1.0.a", -1}, {"1.0+1", "1.0", 1}, {"1.0+1", "1.0.1", -1}, {"1.0a", "1.0+", -1},
	{"1.0A", "1.0a", -1}, {"1.0Z", "1.0a", -1}, {"1.0z", "1.0+", -1}, {"1a", "1.", -1},
	{"1.0+dfsg", "1.0", 1}, {"1.0+dfsg1", "1.0+dfsg", 1}, {"1.0+dfsg-1", "1.0-1", 1},
	{"1.0+b1", "1.0", 1}, {"2.36-9+deb12u4", "2.36-9+deb12u10", -1}, {"2.36-9+deb12u4", "2.36-9", 1},
	{"1.0.a", "1.0a", 1}, {"1.0ab", "1.0b", -1}, {"1.0aa", "1.0a", 1}, {"a", "b", -1},
	{"1.0-a", "1.0-1", 1}, {"1.0-a", "1.0-b", -1}, {"1.0-1a", "1.0-1", 1}, {"1.0-1.1", "1.0-1", 1},
	{"1.0-1+b1", "1.0-1", 1}, {"1.0-1+b1", "1.0-1.1", -1}, {"1.0-1+deb12u1", "1.0-1+b1", 1},
	// revisions
	{"1.0-1", "1.0-2", -1}, {"1.0-10", "1.0-9", 1}, {"1.0-0", "1.0", 0}, {"1.0-1", "1.0", 1},
	{"1.0-0.1", "1.0", 1}, {"1.0-1-1", "1.0-1", 1}, {"1.0-1-1", "1.0-2", 1}, {"1-2-3", "1-2-4", -1},
	{"1.0-1", "1.0.1-1", -1}, {"1.0-00", "1.0-0", 0}, {"1.0-1ubuntu1", "1.0-1", 1},
	{"1.0-1ubuntu1", "1.0-2", -1}, {"1.0-1build1", "1.0-1ubuntu1", -1},
	// pgdg
	{"16.13-1.pgdg120+1", "16.1-1.pgdg120+1", 1}, {"16.1-1.pgdg120+1", "16.1-2.pgdg120+1", -1},
	{"16.13-1.pgdg120+1", "16.1-2.pgdg120+1", 1}, {"16.1-1.pgdg120+1", "16.1-1", 1},
	{"16.1-1.pgdg120+1", "16.1-1.pgdg110+1", 1}, {"16.1-1.pgdg120+1", "16.1-1.pgdg120+2", -1},
	{"16.2-1.pgdg120+1", "16.10-1.pgdg120+1", -1}, {"17~beta1-1.pgdg120+1", "17.0-1.pgdg120+1", -1},
	{"17~rc1-1.pgdg120+1", "17~beta3-1.pgdg120+1", 1}, {"17.0-1.pgdg120+1", "17-1.pgdg120+1", 1},
	{"15.6-1.pgdg120+1", "15.6-0+deb12u1", 1}, {"15.6-0+deb12u1", "15.5-0+deb12u1", 1},
	{"15.8-0+deb12u1", "15.8-1.pgdg120+1", -1}, {"16.13-1.pgdg120+1", "16.13-1.pgdg120+1", 0},
	{"12.2.2-1.pgdg120+1", "12.2.1-1.pgdg120+1", 1}, {"1:5.2.0-1.pgdg120+1", "5.2.1-1.pgdg120+1", 1},
	{"248-1.pgdg120+1", "252-1.pgdg120+1", -1}, {"3.3.6-1.pgdg120+1", "3.3.6-1", 1},
	{"2.2.1+dfsg-1.pgdg120+1", "2.2.1+dfsg-1", 1}, {"12.1.pgdg120+1", "12.1", 1},
	// real Debian bookworm versions
	{"2.36-9+deb12u9", "2.36-9+deb12u10", -1}, {"3.0.15-1~deb12u1", "3.0.14-1~deb12u2", 1},
	{"3.0.15-1~deb12u1", "3.0.15-1", -1}, {"252.36-1~deb12u1", "252.33-1~deb12u1", 1},
	{"1:2.38.1-5+deb12u3", "2.38.1-5+deb12u3", 1}, {"2.7.18-1~deb12u1", "2.7.18", 1},
	{"1.2.13.dfsg-1", "1.2.13-1", 1}, {"1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1", 0},
	{"12.2.0-14+deb12u1", "12.2.0-14", 1}, {"2.40-2", "2.40.1-1", -1}, {"5.2.15-2+b7", "5.2.15-2+b2", 1},
	{"1.34+dfsg-1.2+deb12u1", "1.34+dfsg-1.2", 1}, {"6.4-4", "6.4+20230625-2", -1},
	{"9.2p1-2+deb12u3", "9.2p1-2", 1}, {"1:9.2p1-2", "9.9p9-9", 1}, {"7.88.1-10+deb12u8", "7.88.1-10+deb12u12", -1},
	{"2022.2-1", "2023.1", -1}, {"0.12.0-1", "0.9.0-1", 1}, {"1.1.1w-0+deb11u1", "1.1.1n-0+deb11u5", 1},
	{"4.19.0-1+b1", "4.19.0-1.1", -1}, {"2:8.2.3995-1", "2:9.0.1378-2", -1}, {"1:9.0.1378-2", "2:8.2.3995-1", -1},
	{"3.6+nmu1", "3.6", 1}, {"3.6+nmu1", "3.6-1", 1}, {"20230311", "20230311+deb12u1", -1},
	{"0.23.22-1", "0.23.3-1", 1}, {"1.0.8-5", "1.0.8-5+b1", -1}, {"1:4.13.1-3", "1:4.13.1-3+deb12u1", -1},
	{"2.9.14+dfsg-1.3~deb12u1", "2.9.14+dfsg-1.3", -1}, {"2.9.14+dfsg-1.3~deb12u1", "2.9.14+dfsg-1.2", 1},
	{"1.20.1+ds1-2", "1.20.1-2", 1}, {"1.5.4+dfsg2-1", "1.5.4+dfsg10-1", -1},
	// characters other than letters and digits
	{"1.0.", "1.0", 1}, {"1.0+", "1.0", 1}, {"1.0-", "1.0", 0}, {"1..0", "1.0", 1}, {"1:1:1", "1:1", 1}, {"1.0~0", "1.0~", 0}, {"1.0~0", "1.0~a", -1},
}

func TestCompareTable(t *testing.T) {
	for _, c := range comparePairs {
		got := Compare(c.a, c.b)
		if sign(got) != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if rev := Compare(c.b, c.a); sign(rev) != -c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.b, c.a, rev, -c.want)
		}
	}
}

// TestCompareTableDpkg checks the expectations of the table against dpkg
// itself, so the table cannot be wrong in the same way as the code.
func TestCompareTableDpkg(t *testing.T) {
	needDpkg(t)
	type job struct {
		a, b string
		want int
	}
	var jobs []job
	for _, c := range comparePairs {
		if strings.HasSuffix(c.a, "-") || strings.HasSuffix(c.b, "-") || strings.HasSuffix(c.a, ":") {
			continue // dpkg rejects these inputs; Compare only does its best
		}
		jobs = append(jobs, job{c.a, c.b, c.want})
	}
	runParallel(t, len(jobs), func(i int) {
		j := jobs[i]
		if !dpkgCompare(t, j.a, opName(j.want), j.b) {
			t.Errorf("dpkg disagrees with the table: %q %s %q is false", j.a, opName(j.want), j.b)
		}
	})
}

// sortVersions is a mix of versions compared all against all with dpkg.
var sortVersions = []string{
	"0", "0~", "0.0", "0.1", "0:0.1", "1", "1.0", "1.0-0", "1.0-1", "1.0-1~bpo12+1", "1.0-1+b1",
	"1.0~rc1", "1.0~rc1-1", "1.0~~", "1.0a", "1.0A", "1.0+", "1.0.", "1.0+dfsg-1", "1.0.1", "1:0",
	"1:1.0", "2:0.1~", "1.00", "10", "9", "1.9", "1.10", "16.1-1.pgdg120+1", "16.1-2.pgdg120+1",
	"16.13-1.pgdg120+1", "16.13-1", "16.1", "16~beta1-1", "2.36-9+deb12u4", "2.36-9+deb12u10",
	"2.36-9", "1.0-a", "1.0-z", "1.0-1.1", "1.0-1-1", "1a", "1b", "1~a", "1.2.3-4ubuntu1",
	"3.0.15-1~deb12u1", "1:2.38.1-5+deb12u3", "9.2p1-2", "6.4+20230625-2", "7.88.1-10+deb12u12",
}

func TestCompareAllPairsDpkg(t *testing.T) {
	needDpkg(t)
	type job struct{ a, b string }
	var jobs []job
	for i, a := range sortVersions {
		for _, b := range sortVersions[i+1:] {
			jobs = append(jobs, job{a, b})
		}
	}
	runParallel(t, len(jobs), func(i int) {
		j := jobs[i]
		c := Compare(j.a, j.b)
		if !dpkgCompare(t, j.a, opName(c), j.b) {
			t.Errorf("Compare(%q, %q) = %d, but dpkg says %q %s %q is false", j.a, j.b, c, j.a, opName(c), j.b)
		}
	})
}

// runParallel runs f(0..n-1) on a few goroutines (each f execs dpkg).
func runParallel(t *testing.T, n int, f func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func TestCompareIsTotalOrder(t *testing.T) {
	vs := append([]string(nil), sortVersions...)
	sort.Slice(vs, func(i, j int) bool { return Compare(vs[i], vs[j]) < 0 })
	for i := range vs {
		for j := range vs {
			c := Compare(vs[i], vs[j])
			switch {
			case i < j && c > 0, i > j && c < 0:
				t.Errorf("not sorted: %q vs %q = %d", vs[i], vs[j], c)
			}
			if sign(c) != -sign(Compare(vs[j], vs[i])) {
				t.Errorf("not antisymmetric: %q %q", vs[i], vs[j])
			}
		}
	}
}

func TestCompareIgnoresBlanks(t *testing.T) {
	if c := Compare(" 1.0-1 ", "1.0-1"); c != 0 {
		t.Errorf("blanks: got %d", c)
	}
}

func TestCompareNoAlloc(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		Compare("1:2.36-9+deb12u10", "1:2.36-9+deb12u9")
		Compare("16.13-1.pgdg120+1", "16.1-1.pgdg120+1")
	})
	if n != 0 {
		t.Errorf("Compare allocates %v times per run", n)
	}
}

// policyVersion matches the versions of Debian policy 5.6.12 (the hyphen
// is allowed in the upstream part only when there is a revision); the fuzz
// test asks dpkg only about those.
var policyVersion = regexp.MustCompile(`^([0-9]{1,9}:)?([0-9][A-Za-z0-9.+~]*|[0-9][A-Za-z0-9.+~-]*-[A-Za-z0-9.+~]+)$`)

// FuzzCompare checks Compare against dpkg for valid versions. It execs dpkg
// per input, so it is meant for `go test -fuzz=FuzzCompare` by hand; the
// seed corpus runs as a normal test.
func FuzzCompare(f *testing.F) {
	for _, c := range comparePairs[:20] {
		f.Add(c.a, c.b)
	}
	f.Add("1.0~rc1-1", "1:0.9")
	f.Fuzz(func(t *testing.T, a, b string) {
		c := Compare(a, b)
		if sign(c) != -sign(Compare(b, a)) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if !policyVersion.MatchString(a) || !policyVersion.MatchString(b) {
			return
		}
		if _, err := exec.LookPath("dpkg"); err != nil {
			t.Skip("dpkg not found")
		}
		if !dpkgCompare(t, a, opName(c), b) {
			t.Fatalf("Compare(%q, %q) = %d, dpkg disagrees", a, b, c)
		}
	})
}

var sink int

func BenchmarkCompare(b *testing.B) {
	pairs := [][2]string{
		{"16.13-1.pgdg120+1", "16.1-1.pgdg120+1"},
		{"1:2.36-9+deb12u10", "1:2.36-9+deb12u9"},
		{"2.36-9+deb12u4", "2.36-9+deb12u4"},
		{"1.0~rc1-1", "1.0-1"},
		{"7.88.1-10+deb12u12", "7.88.1-10+deb12u8"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pairs[i%len(pairs)]
		sink += Compare(p[0], p[1])
	}
}
