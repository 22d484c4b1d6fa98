// Package pgzip writes gzip streams in parallel whose bytes depend only on the data: the same
// input gives the same output on any machine, with any number of CPUs, however the writes are
// chunked.
//
// It works the way pigz does: the input is cut into blocks of BlockSize bytes; each block is
// deflated on its own goroutine by klauspost/compress/flate at Level, with the last 32 KiB of
// the previous block as preset dictionary, and ended with a sync flush (the last block with a
// final block instead). The concatenation is one deflate stream inside one gzip member whose
// header has no name, MTIME 0 and OS 255 (unknown).
//
// Measured against github.com/klauspost/pgzip v1.3.0, same level and block size, on the
// 1342 MB uncompressed debian15 layer, 2 cores (bench/gzip/run.sh; bench/gzip/results.txt; the
// machine was shared, load 3.6 to 7.4, so medians of 3 interleaved runs):
//
//	               2 workers: median (best)     1 worker: median (best)
//	tools/pgzip      14.3 s, 94 MB/s (11.7 s)     22.2 s, 60 MB/s (19.6 s)
//	klauspost/pgzip  17.8 s, 75 MB/s (12.8 s)     20.8 s, 65 MB/s (19.3 s)
//
// Both are deterministic (one output over runs, 1 or 2 workers, 1 MiB or 77777-byte writes),
// and both give 432 MB, but not the same bytes: klauspost/pgzip ends the last block with a sync
// flush before the final block. Adopting it would change every layer digest for no gain in
// speed, so this package stays.
//
// Changing BlockSize, Level or the block layout changes every layer digest.
package pgzip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"

	"github.com/klauspost/compress/flate"
)

// BlockSize is the size of the blocks deflated independently.
const BlockSize = 1 << 20

// Level is the deflate level (gzip's default).
const Level = 6

// dictSize is the deflate window: the preset dictionary of a block.
const dictSize = 32 << 10

// header is ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown).
var header = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

var errDeflate = errors.New("pgzip: deflate failed")

// Writer is a gzip writer. Close flushes the stream but does not close the underlying writer.
type Writer struct {
	w        io.Writer
	buf      []byte   // the block being filled
	dict     []byte   // the last dictSize bytes before buf
	crc      uint32   // of everything written
	size     uint32   // ISIZE: length modulo 2^32
	queue    []result // blocks being deflated, in order
	maxQueue int
	wroteHdr bool
	err      error
}

// result receives the deflated bytes of one block (nil on failure).
type result chan []byte

// NewWriter returns a Writer that deflates up to 2*GOMAXPROCS blocks at a time.
func NewWriter(w io.Writer) *Writer { return newWriter(w, runtime.GOMAXPROCS(0)) }

func newWriter(w io.Writer, workers int) *Writer {
	return &Writer{w: w, maxQueue: max(workers, 1) * 2, buf: make([]byte, 0, BlockSize)}
}

// Write buffers p and starts deflating every block it completes.
func (z *Writer) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	n := len(p)
	for len(p) > 0 {
		k := min(BlockSize-len(z.buf), len(p))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == BlockSize {
			z.dispatch(false)
			if z.err != nil {
				return 0, z.err
			}
		}
	}
	return n, nil
}

// dispatch starts deflating the buffered block and writes finished blocks while more than
// maxQueue are pending.
func (z *Writer) dispatch(final bool) {
	data := z.buf
	z.buf = make([]byte, 0, BlockSize)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, data)
	z.size += uint32(len(data))
	dict := z.dict
	z.dict = nextDict(dict, data)
	r := make(result, 1)
	go deflate(r, data, dict, final)
	z.queue = append(z.queue, r)
	for len(z.queue) > z.maxQueue {
		z.drainOne()
	}
}

// nextDict returns the last dictSize bytes of dict followed by data.
func nextDict(dict, data []byte) []byte {
	if len(data) >= dictSize {
		return data[len(data)-dictSize:]
	}
	d := append(append([]byte(nil), dict...), data...)
	if len(d) > dictSize {
		d = d[len(d)-dictSize:]
	}
	return d
}

// deflate compresses one block with a preset dictionary and sends the bytes to r.
func deflate(r result, data, dict []byte, final bool) {
	var out bytes.Buffer
	out.Grow(len(data)/2 + 64)
	fw, err := flate.NewWriterDict(&out, Level, dict)
	if err != nil {
		r <- nil
		return
	}
	fw.Write(data) // writes to a bytes.Buffer do not fail
	if final {
		fw.Close()
	} else {
		fw.Flush()
	}
	r <- out.Bytes()
}

// drainOne writes the oldest pending block (and the header before the first).
func (z *Writer) drainOne() {
	r := z.queue[0]
	z.queue = z.queue[1:]
	out := <-r
	if z.err != nil {
		return
	}
	if out == nil {
		z.err = errDeflate
		return
	}
	if !z.wroteHdr {
		z.wroteHdr = true
		if _, err := z.w.Write(header[:]); err != nil {
			z.err = err
			return
		}
	}
	if _, err := z.w.Write(out); err != nil {
		z.err = err
	}
}

// Close writes the last block and the gzip trailer; it does not close the underlying writer.
func (z *Writer) Close() error {
	if z.err != nil {
		return z.err
	}
	z.dispatch(true)
	for len(z.queue) > 0 {
		z.drainOne()
	}
	if z.err != nil {
		return z.err
	}
	var tr [8]byte
	binary.LittleEndian.PutUint32(tr[:4], z.crc)
	binary.LittleEndian.PutUint32(tr[4:], z.size)
	_, err := z.w.Write(tr[:])
	z.err = errors.New("pgzip: write after Close")
	return err
}
