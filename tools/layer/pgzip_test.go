package layer

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

func TestParallelGzip(t *testing.T) {
	// Compressible but not trivial data spanning several blocks, plus edge sizes.
	r := rand.New(rand.NewPCG(1, 2))
	var big bytes.Buffer
	for big.Len() < 3*gzipBlockSize+12345 {
		fmt.Fprintf(&big, "line %d %x\n", r.IntN(1000), r.Uint64()&0xffff)
	}
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("a"), gzipBlockSize), big.Bytes()} {
		var outs [][]byte
		for _, workers := range []int{1, 3, 8} {
			for _, chunk := range []int{1 << 20, 4096, 77} {
				var b bytes.Buffer
				z := newParallelGzip(&b, GzipLevel, workers)
				for p := data; len(p) > 0; {
					k := min(chunk, len(p))
					if _, err := z.Write(p[:k]); err != nil {
						t.Fatal(err)
					}
					p = p[k:]
				}
				if err := z.Close(); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, b.Bytes())
			}
		}
		for i := range outs {
			if !bytes.Equal(outs[i], outs[0]) {
				t.Fatalf("len %d: output %d differs from output 0", len(data), i)
			}
		}
		// The standard library decodes it (CRC and size are checked).
		zr, err := gzip.NewReader(bytes.NewReader(outs[0]))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("len %d: gunzip: %v", len(data), err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("len %d: round trip mismatch (got %d bytes)", len(data), len(got))
		}
		if len(data) == len(big.Bytes()) && len(outs[0]) > len(data)/2 {
			t.Errorf("poor compression: %d -> %d", len(data), len(outs[0]))
		}
	}
}
