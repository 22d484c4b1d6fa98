// Command bench/deb822 measures pault.ag/go/debian (control, version, dependency) against
// tools/deb822, tools/debversion and tools/aptrepo's package parsing on one full Packages
// index (run.sh: bookworm main amd64 from the machine's Debian mirror), and reports where
// the two disagree:
//
//	go run . -packages Packages
//
// It is its own Go module so that pault.ag/go/debian is a dependency of the benchmark
// only, never of tools/ (see run.sh).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/ci-images/ci-images/tools/deb822"
)

func main() {
	path := flag.String("packages", "", "an uncompressed Packages index")
	count := flag.Int("count", 5, "rounds of all benchmarks (interleaved, so that ours and pault's see the same load); the fastest round of each is reported")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "usage: go run . -packages FILE")
		os.Exit(2)
	}
	if err := run(*path, max(*count, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench/deb822:", err)
		os.Exit(1)
	}
}

func run(path string, count int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	c, err := loadCorpus(data)
	if err != nil {
		return err
	}
	fmt.Printf("index: %d paragraphs, %.1f MB; %d distinct versions; %d relation fields (Depends, Pre-Depends, Recommends, Suggests, Provides, Conflicts, Breaks, Replaces, Enhances)\n",
		len(c.paras), float64(len(data))/1e6, len(c.versions), len(c.relations))
	fmt.Printf("%s, %d CPUs, GOMAXPROCS %d\n\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("## Speed (testing.Benchmark, fastest of %d interleaved rounds)\n", count)
	bs := benchmarks(data, c)
	best := make([]testing.BenchmarkResult, len(bs))
	for round := 0; round < count; round++ {
		for i, b := range bs {
			if r := testing.Benchmark(b.f); round == 0 || r.NsPerOp() < best[i].NsPerOp() {
				best[i] = r
			}
		}
	}
	for i, b := range bs {
		fmt.Printf("%-58s %s\n", b.name, format(best[i], b.per))
	}
	fmt.Println()
	fmt.Println("## Correctness (differences on the whole index)")
	for _, line := range compare(data, c) {
		fmt.Println(line)
	}
	return compareStatus("/var/lib/dpkg/status")
}

// compareStatus compares the paragraphs of a dpkg status file (multi-line descriptions
// with " ." lines, Conffiles), when the machine has one.
func compareStatus(path string) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ps, err := deb822.ParseAll(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Printf("\n## Correctness on this machine's %s (%d paragraphs)\n", path, len(ps))
	for _, line := range compareParagraphs(data, ps) {
		fmt.Println(line)
	}
	return nil
}

// format prints a result per operation, or per item when per > 1.
func format(r testing.BenchmarkResult, per int) string {
	ns := float64(r.T.Nanoseconds()) / float64(r.N)
	allocs, bytes := float64(r.MemAllocs)/float64(r.N), float64(r.MemBytes)/float64(r.N)
	if per > 1 {
		return fmt.Sprintf("%9.1f ns/item %8.2f allocs/item %9.1f B/item   (%d items/op, %d ops)",
			ns/float64(per), allocs/float64(per), bytes/float64(per), per, r.N)
	}
	return fmt.Sprintf("%9.1f ms/op %10.0f allocs/op %9.1f MB/op   (%d ops)", ns/1e6, allocs, bytes/1e6, r.N)
}
