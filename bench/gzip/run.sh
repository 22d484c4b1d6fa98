#!/usr/bin/env bash
# bench/gzip/run.sh [TAR]: tools/pgzip against github.com/klauspost/pgzip on one tar: speed with
# 1 and 2 workers, and whether each output is the same across runs, worker counts and write
# sizes, and the same as the other's. Writes bench/gzip/results.txt.
#
# TAR defaults to ~1 GiB of the host's /usr as a tar. The benchmark program is built in a
# scratch module (klauspost/pgzip is not a dependency of the repository).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/bench/gzip/results.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarfile=${1:-}
if [ -z "$tarfile" ]; then
	tarfile=$tmp/usr.tar
	tar -cf - -C / usr 2>/dev/null | head -c $((1 << 30)) >"$tarfile" || true
fi

cat >"$tmp/go.mod" <<EOF
module gzipbench

go 1.26

replace github.com/ci-images/ci-images => $root
EOF
cat >"$tmp/main.go" <<'EOF'
// Command gzipbench compresses one file with tools/pgzip and klauspost/pgzip.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"time"

	kpgzip "github.com/klauspost/pgzip"

	"github.com/ci-images/ci-images/tools/pgzip"
)

type hashCounter struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return c.h.Write(p) }

// run compresses the file with impl on procs CPUs, writing chunk bytes at a time.
func run(path, impl string, procs, chunk int) (sum string, size int64, d time.Duration) {
	runtime.GOMAXPROCS(procs)
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	hc := &hashCounter{h: sha256.New()}
	var zw io.WriteCloser
	switch impl {
	case "tools/pgzip":
		zw = pgzip.NewWriter(hc)
	case "klauspost/pgzip":
		kw, err := kpgzip.NewWriterLevel(hc, pgzip.Level)
		if err != nil {
			panic(err)
		}
		if err := kw.SetConcurrency(pgzip.BlockSize, 2*procs); err != nil {
			panic(err)
		}
		zw = kw
	}
	start := time.Now()
	if _, err := io.CopyBuffer(zw, bufio.NewReaderSize(f, 1<<20), make([]byte, chunk)); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", hc.h.Sum(nil))[:16], hc.n, time.Since(start)
}

func main() {
	path := os.Args[1]
	st, err := os.Stat(path)
	if err != nil {
		panic(err)
	}
	mb := float64(st.Size()) / 1e6
	fmt.Printf("input: %.0f MB\n\n", mb)
	impls := []string{"tools/pgzip", "klauspost/pgzip"}
	sums := map[string]map[string]bool{}
	times := map[string][]float64{}
	for rep := 0; rep < 3; rep++ { // interleaved, so that a busy moment hits both
		for _, impl := range impls {
			for _, procs := range []int{2, 1} {
				sum, size, d := run(path, impl, procs, 1<<20)
				if sums[impl] == nil {
					sums[impl] = map[string]bool{}
				}
				sums[impl][sum] = true
				key := fmt.Sprintf("%-16s %d worker(s)", impl, procs)
				times[key] = append(times[key], d.Seconds())
				fmt.Printf("run %d: %s: %5.1f s, %d MB out, sha256 %s\n", rep+1, key, d.Seconds(), size/1e6, sum)
			}
		}
	}
	for _, impl := range impls { // odd write sizes
		sum, _, _ := run(path, impl, 2, 77777)
		sums[impl][sum] = true
	}
	fmt.Println()
	for _, impl := range impls {
		for _, procs := range []int{2, 1} {
			key := fmt.Sprintf("%-16s %d worker(s)", impl, procs)
			ts := append([]float64(nil), times[key]...)
			sort.Float64s(ts)
			fmt.Printf("%s: median %5.1f s (%5.1f MB/s), best %5.1f s (%5.1f MB/s)\n", key, ts[1], mb/ts[1], ts[0], mb/ts[0])
		}
	}
	fmt.Println()
	for _, impl := range impls {
		fmt.Printf("%s: %d distinct output(s) over 7 runs (1 and 2 workers, 1 MiB and 77777-byte writes)\n", impl, len(sums[impl]))
	}
	same := false
	for s := range sums["tools/pgzip"] {
		same = same || sums["klauspost/pgzip"][s]
	}
	fmt.Printf("tools/pgzip and klauspost/pgzip give the same bytes: %v\n", same)
}
EOF
(cd "$tmp" && go get github.com/klauspost/pgzip@v1.3.0 >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1 && go build -o gzipbench .)
cat "$tarfile" >/dev/null # into the page cache
{
	echo "# bench/gzip/run.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go env GOVERSION), klauspost/pgzip v1.3.0, level 6, 1 MiB blocks"
	if [ -n "${1:-}" ]; then echo "# input: $(basename "$1")"; else echo "# input: ~1 GiB of /usr as a tar"; fi
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	"$tmp/gzipbench" "$tarfile"
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
