// Package debfile reads Debian binary packages (.deb): the ar container, the
// control paragraph and other control.tar members (maintainer scripts,
// md5sums, conffiles, triggers, ...) and the decompressed data tar.
//
// Control-field parsing here is deliberately minimal (enough for Package,
// Version, Architecture, Multi-Arch and the like); the full deb822 parser
// lives in tools/deb822.
package debfile

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/xi2/xz"
)

// Deb is an opened .deb. The control members are read eagerly (they are
// small); the data tar is read on demand by Data, any number of times.
type Deb struct {
	// Name identifies the package file in error messages (the base name of
	// the file when known).
	Name string

	// Control is the raw control paragraph, as in the package.
	Control string
	// Package, Version, Architecture and MultiArch are parsed from Control.
	Package, Version, Architecture, MultiArch string

	// Members holds every control.tar member other than "control", by base
	// name: "md5sums", "conffiles", "postinst", "triggers", "shlibs", ...
	Members map[string][]byte
	// Modes holds the permission bits of each member of Members.
	Modes map[string]int64

	// DataMember is the ar member name of the data tar ("data.tar.xz").
	DataMember string

	// XZCommand, if set, is an xz program (e.g. "/usr/bin/xz") that Data
	// runs as "xz -dc" to decompress data.tar.xz instead of the pure-Go
	// decoder; it is about 2.5 times faster. The decompressed bytes are the
	// same either way.
	XZCommand string

	r        io.ReaderAt
	dataOff  int64
	dataSize int64
	closer   io.Closer
}

// named is implemented by *os.File.
type named interface{ Name() string }

// Open reads the .deb held in r (size bytes). If r has a Name() method (like
// *os.File), its base name is used in error messages.
func Open(r io.ReaderAt, size int64) (*Deb, error) {
	name := "package.deb"
	if n, ok := r.(named); ok {
		name = filepath.Base(n.Name())
	}
	return OpenNamed(name, r, size)
}

// OpenNamed is Open with an explicit name for error messages.
func OpenNamed(name string, r io.ReaderAt, size int64) (*Deb, error) {
	d := &Deb{Name: name, r: r, Members: map[string][]byte{}, Modes: map[string]int64{}}
	if err := d.read(size); err != nil {
		return nil, err
	}
	return d, nil
}

// OpenFile opens the .deb at path. Close releases the file.
func OpenFile(path string) (*Deb, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open deb: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open deb: %w", err)
	}
	d, err := OpenNamed(filepath.Base(path), f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	d.closer = f
	return d, nil
}

// Close closes the underlying file if the Deb was opened by OpenFile.
func (d *Deb) Close() error {
	if d.closer != nil {
		c := d.closer
		d.closer = nil
		return c.Close()
	}
	return nil
}

func (d *Deb) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{d.Name}, args...)...)
}

type arEntry struct {
	name      string
	off, size int64
}

func (d *Deb) read(size int64) error {
	magic := make([]byte, 8)
	if _, err := d.r.ReadAt(magic, 0); err != nil {
		return d.errorf("reading ar header: %w", err)
	}
	if string(magic) != "!<arch>\n" {
		return d.errorf("not a .deb (ar archive magic missing)")
	}
	var entries []arEntry
	off := int64(8)
	hdr := make([]byte, 60)
	for off < size {
		if _, err := d.r.ReadAt(hdr, off); err != nil {
			return d.errorf("ar member header at offset %d: %w", off, err)
		}
		if string(hdr[58:60]) != "`\n" {
			return d.errorf("corrupt ar member header at offset %d", off)
		}
		name := strings.TrimRight(string(hdr[0:16]), " ")
		name = strings.TrimSuffix(name, "/")
		msize, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || msize < 0 || off+60+msize > size {
			return d.errorf("ar member %q: bad size %q", name, strings.TrimSpace(string(hdr[48:58])))
		}
		entries = append(entries, arEntry{name: name, off: off + 60, size: msize})
		off += 60 + msize + msize%2
	}
	if len(entries) < 3 || entries[0].name != "debian-binary" {
		return d.errorf("not a .deb: first ar member must be debian-binary")
	}
	vb := make([]byte, min(entries[0].size, 16))
	if _, err := d.r.ReadAt(vb, entries[0].off); err != nil {
		return d.errorf("debian-binary: %w", err)
	}
	if !bytes.HasPrefix(vb, []byte("2.")) {
		return d.errorf("debian-binary: unsupported format version %q", strings.TrimSpace(string(vb)))
	}
	var control *arEntry
	for i := range entries[1:] {
		e := &entries[i+1]
		switch {
		case strings.HasPrefix(e.name, "control.tar"):
			if control == nil {
				control = e
			}
		case strings.HasPrefix(e.name, "data.tar"):
			if d.DataMember == "" {
				d.DataMember = e.name
				d.dataOff, d.dataSize = e.off, e.size
			}
		}
	}
	if control == nil {
		return d.errorf("control.tar member missing")
	}
	if d.DataMember == "" {
		return d.errorf("data.tar member missing")
	}
	if _, err := compressionOf(d.DataMember); err != nil {
		return d.errorf("%s: %w", d.DataMember, err)
	}
	if err := d.readControl(control); err != nil {
		return d.errorf("%s: %w", control.name, err)
	}
	return nil
}

func compressionOf(member string) (string, error) {
	ext := strings.TrimPrefix(member, "data.tar")
	ext = strings.TrimPrefix(ext, "control.tar")
	switch ext {
	case "", ".xz", ".gz", ".zst":
		return ext, nil
	default:
		return "", errors.New("unsupported compression")
	}
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type funcCloser func()

func (f funcCloser) Close() error { f(); return nil }

// decompress returns a reader of the decompressed member and a closer.
func decompress(member string, r io.Reader) (io.Reader, io.Closer, error) {
	ext, err := compressionOf(member)
	if err != nil {
		return nil, nil, err
	}
	switch ext {
	case "":
		return r, multiCloser(nil), nil
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr, nil
	case ".xz":
		// xi2/xz (a port of XZ Embedded) decodes about 5x faster than ulikunitz/xz
		// (measured: 2.3 s vs 11 s for libllvm14's 110 MB data.tar), and xz decoding
		// is what bounds a cold layer build.
		zr, err := xz.NewReader(bufio.NewReaderSize(r, 1<<16), 0)
		if err != nil {
			return nil, nil, err
		}
		return zr, multiCloser(nil), nil
	case ".zst":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false))
		if err != nil {
			return nil, nil, err
		}
		return zr, funcCloser(zr.Close), nil
	}
	return nil, nil, errors.New("unsupported compression")
}

func (d *Deb) readControl(e *arEntry) error {
	zr, c, err := decompress(e.name, io.NewSectionReader(d.r, e.off, e.size))
	if err != nil {
		return err
	}
	defer c.Close()
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		if strings.Contains(name, "/") || name == "" {
			continue
		}
		if h.Size > 64<<20 {
			return fmt.Errorf("%s: member too large (%d bytes)", name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if name == "control" {
			found = true
			d.Control = string(b)
			continue
		}
		d.Members[name] = b
		d.Modes[name] = h.Mode & 0o7777
	}
	if !found {
		return errors.New("control member missing")
	}
	d.Package = d.Field("Package")
	d.Version = d.Field("Version")
	d.Architecture = d.Field("Architecture")
	d.MultiArch = d.Field("Multi-Arch")
	if d.Package == "" || d.Version == "" || d.Architecture == "" {
		return fmt.Errorf("control: Package, Version and Architecture are required")
	}
	return nil
}

// Field returns the value of the named control field (case-insensitive
// name), with leading/trailing white space removed. Continuation lines are
// kept, joined by "\n" with their leading space intact after the first line.
// It returns "" if the field is absent.
func (d *Deb) Field(name string) string {
	return Field(d.Control, name)
}

// Field returns the value of the named field in a single control paragraph.
func Field(paragraph, name string) string {
	lines := strings.Split(paragraph, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" || l[0] == ' ' || l[0] == '\t' || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		val := strings.TrimSpace(v)
		for j := i + 1; j < len(lines) && lines[j] != "" && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++ {
			val += "\n" + strings.TrimRight(lines[j], " \t")
		}
		return strings.TrimSpace(val)
	}
	return ""
}

// MemberNames returns the names of the members other than control, sorted.
func (d *Deb) MemberNames() []string {
	names := make([]string, 0, len(d.Members))
	for n := range d.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Conffiles returns the absolute paths listed in the conffiles member.
// Lines with flags ("/etc/x remove-on-upgrade") yield only the path.
func (d *Deb) Conffiles() []string {
	var out []string
	for _, l := range strings.Split(string(d.Members["conffiles"]), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// MD5Sums returns the md5sums member as a map from path (without leading
// "/" or "./", as written in the file) to hex digest.
func (d *Deb) MD5Sums() map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(string(d.Members["md5sums"]), "\n") {
		sum, p, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		p = strings.TrimLeft(p, " *")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
		out[p] = sum
	}
	return out
}

// Data returns a tar reader over the decompressed data tar. The closer must
// be closed when done. Each call starts from the beginning; calls may run
// concurrently if the underlying io.ReaderAt allows it (os.File does).
func (d *Deb) Data() (*tar.Reader, io.Closer, error) {
	if d.XZCommand != "" && strings.HasSuffix(d.DataMember, ".xz") {
		zr, c, err := externalXZ(d.XZCommand, io.NewSectionReader(d.r, d.dataOff, d.dataSize))
		if err != nil {
			return nil, nil, d.errorf("%s: %w", d.DataMember, err)
		}
		return tar.NewReader(&errReader{r: zr, prefix: d.Name + ": " + d.DataMember}), c, nil
	}
	zr, c, err := decompress(d.DataMember, io.NewSectionReader(d.r, d.dataOff, d.dataSize))
	if err != nil {
		return nil, nil, d.errorf("%s: %w", d.DataMember, err)
	}
	return tar.NewReader(&errReader{r: zr, prefix: d.Name + ": " + d.DataMember}), c, nil
}

// DataRaw returns the compressed data member as a section reader.
func (d *Deb) DataRaw() *io.SectionReader {
	return io.NewSectionReader(d.r, d.dataOff, d.dataSize)
}

// errReader annotates read errors with the deb and member name.
type errReader struct {
	r      io.Reader
	prefix string
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", e.prefix, err)
	}
	return n, err
}

// xzProc is the stdout of an "xz -dc" process. At EOF it waits for the
// process and reports its failure; Close kills it if it is still running.
type xzProc struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr bytes.Buffer
	done   bool
}

func externalXZ(prog string, r io.Reader) (*xzProc, *xzProc, error) {
	p := &xzProc{cmd: exec.Command(prog, "-dc")}
	p.cmd.Stdin = r
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	p.out = out
	if err := p.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", prog, err)
	}
	return p, p, nil
}

func (p *xzProc) Read(b []byte) (int, error) {
	n, err := p.out.Read(b)
	if err == io.EOF && !p.done {
		p.done = true
		if werr := p.cmd.Wait(); werr != nil {
			return n, fmt.Errorf("%s -dc: %w: %s", p.cmd.Path, werr, strings.TrimSpace(p.stderr.String()))
		}
	}
	return n, err
}

func (p *xzProc) Close() error {
	if p.done {
		return nil
	}
	p.done = true
	p.out.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
	return nil
}
