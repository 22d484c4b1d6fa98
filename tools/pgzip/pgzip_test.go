package pgzip

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// lines returns n bytes or more of compressible but not trivial text.
func lines(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "line %d %x\n", r.IntN(1000), r.Uint64()&0xffff)
	}
	return b.Bytes()
}

func compress(t *testing.T, data []byte, workers, chunk int) []byte {
	t.Helper()
	var b bytes.Buffer
	z := newWriter(&b, workers)
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
	return b.Bytes()
}

// The output depends on the data only (not on workers or write sizes) and gunzips to it.
func TestDeterministicRoundTrip(t *testing.T) {
	big := lines(3*BlockSize + 12345)
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("a"), BlockSize), big} {
		want := compress(t, data, 1, 1<<20)
		for _, workers := range []int{1, 3, 8} {
			for _, chunk := range []int{1 << 20, 4096, 77} {
				if got := compress(t, data, workers, chunk); !bytes.Equal(got, want) {
					t.Fatalf("len %d, %d workers, %d-byte writes: output differs", len(data), workers, chunk)
				}
			}
		}
		zr, err := gzip.NewReader(bytes.NewReader(want))
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
		if zr.Name != "" || !zr.ModTime.IsZero() || zr.OS != 255 {
			t.Errorf("len %d: header name %q mtime %v os %d", len(data), zr.Name, zr.ModTime, zr.OS)
		}
		if len(data) == len(big) && len(want) > len(data)/2 {
			t.Errorf("poor compression: %d -> %d", len(data), len(want))
		}
	}
}

// The bytes are part of every layer digest: they must not change by accident. The digests were
// recorded with tools/layer/pgzip.go before it moved here.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{nil, "ac73670af3abed54ac6fb4695131f4099be9fbe39d6076c5d0264a6bbdae9d83"},
		{[]byte("x"), "2c21a5295a607a0544b67ae037a444d886269f486ca500d5ff567b7a56f88f7c"},
		{lines(3*BlockSize + 12345), "7f7242d22485e8d455699a3c49f7e01dc99bc38585911337e1d453bc32069ad7"},
	} {
		sum := sha256.Sum256(compress(t, tc.data, 2, 1<<16))
		if got := hex.EncodeToString(sum[:]); got != tc.want {
			t.Errorf("len %d: sha256 %s, want %s", len(tc.data), got, tc.want)
		}
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, io.ErrClosedPipe
	}
	f.after--
	return len(p), nil
}

// A failing underlying writer is reported, by Close at the latest.
func TestWriteError(t *testing.T) {
	z := newWriter(&failWriter{after: 1}, 1)
	data := lines(5 * BlockSize)
	_, werr := z.Write(data)
	if cerr := z.Close(); werr == nil && cerr == nil {
		t.Fatal("no error from a failing writer")
	}
}
