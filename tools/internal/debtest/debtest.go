// Package debtest builds real Debian binary packages (.deb) in pure Go for
// tests. The output is accepted by dpkg-deb and is byte-for-byte
// deterministic for a given input.
//
// A .deb is an ar archive holding, in order, "debian-binary" ("2.0\n"),
// "control.tar.gz" and "data.tar.<ext>".
package debtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// DefaultMtime returns the modification time given to every member and tar
// entry whose File.ModTime (or Deb.Mtime) is zero: 2024-01-02T03:04:05Z. It
// is deliberately "recent" so that tests can observe mtime clamping to an
// older SOURCE_DATE_EPOCH.
func DefaultMtime() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// File is one entry of the data tar.
type File struct {
	Path         string // "usr/bin/foo", "./usr/bin/foo" or "/usr/bin/foo"
	Mode         int64  // permission bits (and setuid etc.); 0 means 0644 (files), 0755 (dirs), 0777 (symlinks)
	Body         string // content of a regular file
	Link         string // symlink target if non-empty
	Hardlink     string // hard link target path (inside the package) if non-empty
	Dir          bool
	Uid, Gid     int
	Uname, Gname string    // default "root"
	ModTime      time.Time // zero: Deb.Mtime, then DefaultMtime()
	// RawName, if set, is the member name written exactly as given instead of Path (not
	// cleaned, no parent directories added), and Hardlink is then written as given too: for
	// tests of malformed or hostile packages ("./usr/../../etc/x").
	RawName string
}

// Deb describes a binary package.
type Deb struct {
	Package, Version, Architecture string // required
	Maintainer                     string // default "Test Maintainer <test@example.invalid>"
	Source                         string
	InstalledSize                  string // default: computed from the files, in KiB

	Depends, PreDepends, Provides, Recommends, Conflicts, Replaces, MultiArch, Section, Priority, Description string
	Breaks                                                                                                    string
	Essential                                                                                                 bool

	Extra   [][2]string       // extra control fields, in order, written before Description
	Files   []File            // data.tar contents, in this order (missing parent directories are added)
	Scripts map[string]string // "postinst", "preinst", "triggers", "conffiles", ... placed in control.tar

	Compression string    // data.tar compression: "xz" (default), "gz", "zst", "none"
	Mtime       time.Time // default mtime for files and archive members; zero means DefaultMtime()
}

// isScript reports whether a control member is executable (0755); every
// other member is 0644.
func isScript(name string) bool {
	switch name {
	case "preinst", "postinst", "prerm", "postrm", "config":
		return true
	}
	return false
}

func normPath(p string) string {
	p = strings.TrimPrefix(p, "./")
	p = strings.TrimPrefix(p, "/")
	p = path.Clean("/" + p)
	if p == "/" {
		return "./"
	}
	return "." + p
}

func (d *Deb) mtime() time.Time {
	if d.Mtime.IsZero() {
		return DefaultMtime()
	}
	return d.Mtime
}

func (d *Deb) installedSize() string {
	if d.InstalledSize != "" {
		return d.InstalledSize
	}
	var total int64
	for _, f := range d.Files {
		if !f.Dir && f.Link == "" && f.Hardlink == "" {
			total += (int64(len(f.Body)) + 1023) / 1024
		} else {
			total++
		}
	}
	return fmt.Sprint(total)
}

// Control returns the control paragraph written into control.tar.gz,
// terminated by a single newline.
func Control(d Deb) string {
	var b strings.Builder
	add := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(k)
		b.WriteString(":")
		lines := strings.Split(strings.TrimRight(v, "\n"), "\n")
		for i, l := range lines {
			switch {
			case i == 0:
				if l != "" {
					b.WriteString(" ")
					b.WriteString(l)
				}
			case strings.TrimSpace(l) == "":
				b.WriteString(" .")
			default:
				b.WriteString(" ")
				b.WriteString(strings.TrimLeft(l, " "))
			}
			b.WriteString("\n")
		}
	}
	maint := d.Maintainer
	if maint == "" {
		maint = "Test Maintainer <test@example.invalid>"
	}
	add("Package", d.Package)
	add("Source", d.Source)
	add("Version", d.Version)
	add("Architecture", d.Architecture)
	if d.Essential {
		add("Essential", "yes")
	}
	add("Maintainer", maint)
	add("Installed-Size", d.installedSize())
	add("Pre-Depends", d.PreDepends)
	add("Depends", d.Depends)
	add("Recommends", d.Recommends)
	add("Conflicts", d.Conflicts)
	add("Breaks", d.Breaks)
	add("Replaces", d.Replaces)
	add("Provides", d.Provides)
	add("Section", d.Section)
	add("Priority", d.Priority)
	add("Multi-Arch", d.MultiArch)
	for _, kv := range d.Extra {
		add(kv[0], kv[1])
	}
	desc := d.Description
	if desc == "" {
		desc = "test package " + d.Package
	}
	add("Description", desc)
	return b.String()
}

// Build returns the bytes of the .deb. An md5sums control member is
// generated for the regular files unless Scripts["md5sums"] is given.
func Build(d Deb) ([]byte, error) {
	if d.Package == "" || d.Version == "" || d.Architecture == "" {
		return nil, fmt.Errorf("debtest: Package, Version and Architecture are required (got %q %q %q)", d.Package, d.Version, d.Architecture)
	}
	mt := d.mtime()
	data, ext, md5sums, err := buildData(d, mt)
	if err != nil {
		return nil, fmt.Errorf("debtest: %s data.tar: %w", d.Package, err)
	}
	control, err := buildControl(d, mt, md5sums)
	if err != nil {
		return nil, fmt.Errorf("debtest: %s control.tar.gz: %w", d.Package, err)
	}
	var out bytes.Buffer
	out.WriteString("!<arch>\n")
	arMember(&out, "debian-binary", mt, []byte("2.0\n"))
	arMember(&out, "control.tar.gz", mt, control)
	arMember(&out, "data.tar"+ext, mt, data)
	return out.Bytes(), nil
}

func arMember(w *bytes.Buffer, name string, mt time.Time, body []byte) {
	fmt.Fprintf(w, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, mt.Unix(), 0, 0, 0o100644, len(body))
	w.Write(body)
	if len(body)%2 == 1 {
		w.WriteByte('\n')
	}
}

func gz(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func buildControl(d Deb, mt time.Time, md5sums string) ([]byte, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	hdr := func(name string, mode int64, size int) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: int64(size), ModTime: mt, Uname: "root", Gname: "root", Typeflag: tar.TypeReg, Format: tar.FormatGNU}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "./", Mode: 0o755, ModTime: mt, Uname: "root", Gname: "root", Typeflag: tar.TypeDir, Format: tar.FormatGNU}); err != nil {
		return nil, err
	}
	members := map[string]string{"control": Control(d)}
	if md5sums != "" {
		members["md5sums"] = md5sums
	}
	for k, v := range d.Scripts {
		members[k] = v
	}
	names := make([]string, 0, len(members))
	for k := range members {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := int64(0o644)
		if isScript(n) {
			mode = 0o755
		}
		body := members[n]
		if err := tw.WriteHeader(hdr("./"+n, mode, len(body))); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return gz(raw.Bytes())
}

// dataTar writes the entries of data.tar and collects the md5sums lines of
// its regular files.
type dataTar struct {
	tw   *tar.Writer
	mt   time.Time
	seen map[string]bool // member names written so far
	sums strings.Builder
}

func (w *dataTar) writeDir(name string) error {
	w.seen[name] = true
	return w.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, ModTime: w.mt, Uname: "root", Gname: "root", Typeflag: tar.TypeDir, Format: tar.FormatGNU})
}

// ensureParents writes the missing parent directories of member p,
// outermost first.
func (w *dataTar) ensureParents(p string) error {
	if p == "./" {
		return nil
	}
	parent := path.Dir(strings.TrimPrefix(strings.TrimSuffix(p, "/"), "./"))
	pn := "./"
	if parent != "." {
		pn = "./" + parent + "/"
	}
	if w.seen[pn] {
		return nil
	}
	if err := w.ensureParents(pn); err != nil {
		return err
	}
	return w.writeDir(pn)
}

// memberName returns the tar member name of f.
func memberName(f File) string {
	if f.RawName != "" {
		return f.RawName
	}
	name := normPath(f.Path)
	if f.Dir && name != "./" {
		name += "/"
	}
	return name
}

// fileHeader returns the tar header of f written as member name, with the
// defaults for owner, mtime and mode filled in.
func fileHeader(f File, name string, mt time.Time) *tar.Header {
	h := &tar.Header{Name: name, Mode: f.Mode, Uid: f.Uid, Gid: f.Gid, Uname: f.Uname, Gname: f.Gname, ModTime: f.ModTime, Format: tar.FormatGNU}
	if h.ModTime.IsZero() {
		h.ModTime = mt
	}
	if h.Uname == "" {
		h.Uname = "root"
	}
	if h.Gname == "" {
		h.Gname = "root"
	}
	defMode := int64(0o644)
	switch {
	case f.Dir:
		h.Typeflag = tar.TypeDir
		defMode = 0o755
	case f.Link != "":
		h.Typeflag = tar.TypeSymlink
		h.Linkname = f.Link
		defMode = 0o777
	case f.Hardlink != "":
		h.Typeflag = tar.TypeLink
		h.Linkname = normPath(f.Hardlink)
		if f.RawName != "" {
			h.Linkname = f.Hardlink
		}
	default:
		h.Typeflag = tar.TypeReg
		h.Size = int64(len(f.Body))
	}
	if h.Mode == 0 {
		h.Mode = defMode
	}
	return h
}

// add writes f (after its missing parent directories, unless f.RawName is
// set) and records its md5sum if it is a regular file.
func (w *dataTar) add(f File) error {
	name := memberName(f)
	if w.seen[name] {
		if f.Dir {
			return nil // parent already emitted implicitly or explicitly
		}
		return fmt.Errorf("duplicate path %s", name)
	}
	if f.RawName == "" {
		if err := w.ensureParents(name); err != nil {
			return err
		}
	}
	h := fileHeader(f, name, w.mt)
	if h.Typeflag == tar.TypeReg {
		sum := md5.Sum([]byte(f.Body))
		fmt.Fprintf(&w.sums, "%s  %s\n", hex.EncodeToString(sum[:]), strings.TrimPrefix(name, "./"))
	}
	w.seen[name] = true
	if err := w.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if h.Typeflag == tar.TypeReg {
		if _, err := io.WriteString(w.tw, f.Body); err != nil {
			return err
		}
	}
	return nil
}

// compressData compresses the data tar raw as named by Deb.Compression and
// returns it with its file name extension.
func compressData(raw []byte, compression string) ([]byte, string, error) {
	switch compression {
	case "", "xz":
		var b bytes.Buffer
		xw, err := xz.NewWriter(&b)
		if err != nil {
			return nil, "", err
		}
		if _, err := xw.Write(raw); err != nil {
			return nil, "", err
		}
		if err := xw.Close(); err != nil {
			return nil, "", err
		}
		return b.Bytes(), ".xz", nil
	case "gz":
		b, err := gz(raw)
		return b, ".gz", err
	case "zst":
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, "", err
		}
		b := zw.EncodeAll(raw, nil)
		zw.Close()
		return b, ".zst", nil
	case "none":
		return raw, "", nil
	default:
		return nil, "", fmt.Errorf("unknown compression %q", compression)
	}
}

func buildData(d Deb, mt time.Time) (data []byte, ext string, md5sums string, err error) {
	var raw bytes.Buffer
	w := &dataTar{tw: tar.NewWriter(&raw), mt: mt, seen: map[string]bool{}}
	if err := w.writeDir("./"); err != nil {
		return nil, "", "", err
	}
	for _, f := range d.Files {
		if err := w.add(f); err != nil {
			return nil, "", "", err
		}
	}
	if err := w.tw.Close(); err != nil {
		return nil, "", "", err
	}
	md5sums = w.sums.String()
	if _, ok := d.Scripts["md5sums"]; ok {
		md5sums = ""
	}
	data, ext, err = compressData(raw.Bytes(), d.Compression)
	if err != nil {
		return nil, "", "", err
	}
	return data, ext, md5sums, nil
}
