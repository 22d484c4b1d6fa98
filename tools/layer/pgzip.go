package layer

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"runtime"

	"github.com/klauspost/compress/flate"
)

// Parallel gzip, the way pigz does it: the input is cut into blocks of
// gzipBlockSize bytes; each block is deflated independently (in parallel)
// with the last 32 KiB of the previous block as preset dictionary and
// ended with a sync flush (the last block is ended with a final block).
// The concatenation is one valid deflate stream inside one gzip member.
// The output depends only on the data, gzipBlockSize and GzipLevel, never
// on the number of workers.

const gzipBlockSize = 1 << 20

const dictSize = 32 << 10

type block struct {
	out chan []byte
}

type parallelGzip struct {
	w        io.Writer
	level    int
	buf      []byte
	dict     []byte
	crc      uint32
	size     uint32
	queue    []block
	maxQueue int
	wroteHdr bool
	err      error
}

func newParallelGzip(w io.Writer, level, workers int) *parallelGzip {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &parallelGzip{w: w, level: level, maxQueue: workers * 2, buf: make([]byte, 0, gzipBlockSize)}
}

func (z *parallelGzip) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	n := len(p)
	for len(p) > 0 {
		k := min(gzipBlockSize-len(z.buf), len(p))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == gzipBlockSize {
			z.dispatch(false)
			if z.err != nil {
				return 0, z.err
			}
		}
	}
	return n, nil
}

func (z *parallelGzip) dispatch(final bool) {
	data := z.buf
	z.buf = make([]byte, 0, gzipBlockSize)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, data)
	z.size += uint32(len(data))
	dict := z.dict
	if len(data) >= dictSize {
		z.dict = data[len(data)-dictSize:]
	} else {
		z.dict = append(append([]byte(nil), dict...), data...)
		if len(z.dict) > dictSize {
			z.dict = z.dict[len(z.dict)-dictSize:]
		}
	}
	b := block{out: make(chan []byte, 1)}
	level := z.level
	go func() {
		var out bytes.Buffer
		out.Grow(len(data)/2 + 64)
		fw, err := flate.NewWriterDict(&out, level, dict)
		if err != nil {
			b.out <- nil
			return
		}
		fw.Write(data)
		if final {
			fw.Close()
		} else {
			fw.Flush()
		}
		b.out <- out.Bytes()
	}()
	z.queue = append(z.queue, b)
	for len(z.queue) > z.maxQueue {
		z.drainOne()
	}
}

func (z *parallelGzip) drainOne() {
	b := z.queue[0]
	z.queue = z.queue[1:]
	out := <-b.out
	if z.err != nil {
		return
	}
	if out == nil {
		z.err = io.ErrShortWrite
		return
	}
	if !z.wroteHdr {
		z.wroteHdr = true
		// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown)
		if _, err := z.w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}); err != nil {
			z.err = err
			return
		}
	}
	if _, err := z.w.Write(out); err != nil {
		z.err = err
	}
}

// Close writes the last block and the gzip trailer; it does not close the
// underlying writer.
func (z *parallelGzip) Close() error {
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
	z.err = io.ErrClosedPipe
	return err
}
