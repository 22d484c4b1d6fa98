// Package layer turns a set of Debian binary packages into one reproducible
// filesystem layer (a tar stream), as if the packages had been installed by
// dpkg on a merged-/usr Debian system, without running any maintainer
// script.
//
// What the layer contains:
//
//   - the data.tar entries of every package, with paths normalised (no "./"
//     prefix in the output names, directories with a trailing "/"), sorted
//     byte-wise by path (so every parent directory precedes its children),
//     missing parent directories created (0755 root:root);
//   - modification times clamped to Options.Epoch (min(mtime, epoch));
//     generated entries get exactly Epoch; no atime/ctime are written;
//   - modes, uid/gid and uname/gname exactly as in the packages (uname and
//     gname are kept: they are informative only, tools use the numeric ids);
//   - tar headers in PAX format (USTAR when nothing needs an extension,
//     which is what Go's archive/tar does for FormatPAX): the choice depends
//     only on the entries;
//   - with Options.MergedUsr, paths under /bin, /sbin, /lib, /lib32, /lib64
//     and /libx32 are rewritten to /usr/..., and the top-level names are
//     symlinks to usr/<dir> (as Debian bookworm's usrmerge leaves them);
//   - the dpkg database (var/lib/dpkg/status, info/*.list, *.md5sums,
//     *.conffiles, maintainer scripts and other control members), see
//     dpkgdb.go;
//   - the declarative effects of maintainer scripts listed in Effects:
//     users and groups, update-alternatives links, directories with modes,
//     the CA bundle, and extra files given by the caller.
//
// For a FROM graph of layers, Options.Installed names the packages of the
// lower layers (recorded in the database and used by the effects, their
// files not written) and Options.NoPackageData writes a database-only layer
// above data-only layers.
//
// Bodies of regular files are spooled to temporary files while the packages
// are read (in parallel), then copied into the output in sorted order, so
// memory use does not grow with the size of the packages. Files that are
// not written (Installed, NoPackageData) are only hashed, except the few
// the effects read.
package layer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ci-images/ci-images/tools/debfile"
)

// Input is one .deb. Path names the package file (it is opened when
// ReaderAt is nil, and used in error messages).
type Input struct {
	Path     string
	ReaderAt io.ReaderAt
	Size     int64
}

// Options controls Write.
type Options struct {
	// Epoch is SOURCE_DATE_EPOCH: entry mtimes are clamped to it and
	// generated entries get it. The zero value means the Unix epoch.
	Epoch time.Time
	// MergedUsr rewrites /bin, /sbin, /lib* into /usr and emits the
	// top-level compatibility symlinks.
	MergedUsr bool
	// NoDpkgDatabase omits var/lib/dpkg (for layers that are not meant to
	// be inspected with dpkg).
	NoDpkgDatabase bool
	// Installed are packages already present in the lower layers (the
	// base image). They are recorded in the dpkg database (status and
	// info/*, so the database of this layer describes the whole stack)
	// and take part in the effects (alternatives, users from base-passwd,
	// the CA bundle, diversions) and in conflict checks, but their data
	// files are not written into this layer (except files moved by a
	// diversion of a new package, see diversions.go, and the parent
	// directories of new entries, written with the installed metadata).
	// Effect outputs that the installed packages alone determine (e.g.
	// etc/passwd from base-passwd) are written again, with the same
	// content when the effects are the same. A package may not be both
	// installed and new (upgrades are not supported).
	Installed []Input
	// NoPackageData writes no data file of any package: only the dpkg
	// database and the effects (and the merged-/usr symlinks). With it,
	// a small top "database" layer can sit above data-only layers written
	// with NoDpkgDatabase and no Effects; give it every package of the
	// stack (as debs or Installed).
	NoPackageData bool
	// Effects are the declarative maintainer-script effects.
	Effects Effects
	// Compression of the output: "" or "none" (plain tar), "gzip", "zstd".
	Compression string
	// Concurrency is the number of packages read in parallel (default
	// GOMAXPROCS).
	Concurrency int
	// TempDir holds the spool files (default os.TempDir()).
	TempDir string
	// XZCommand optionally names an xz program used to decompress
	// data.tar.xz (see debfile.Deb.XZCommand); the output is the same.
	XZCommand string
}

// Package describes one package written into the layer.
type Package struct {
	Name, Version, Architecture, MultiArch string
	File                                   string // Input.Path
}

// Summary describes what Write produced.
type Summary struct {
	Packages []Package
	Entries  int   // tar entries written
	Bytes    int64 // bytes of regular file content
	// Warnings lists things that were skipped, e.g. update-alternatives
	// calls that could not be interpreted statically.
	Warnings []string
}

// entry is one filesystem object of the output.
type entry struct {
	path     string // output path, no leading "/" or "./", no trailing "/"; "" is the root
	typ      byte
	mode     int64
	uid, gid int
	uname    string
	gname    string
	mtime    time.Time
	link     string // symlink target, or hardlink target (output path)
	size     int64
	devmajor int64
	devminor int64

	// body location: either in a spool file or in memory.
	spool int // index into spools, -1 when data is used
	off   int64
	data  []byte
	sum   [sha256.Size]byte

	pkg int // index into packages, -1 for generated entries

	src   string // path as shipped (cleaned), for package entries
	lower bool   // present in a lower layer (or NoPackageData): not written
}

// Spool index of a lower-layer body that was hashed but not kept.
const noBody = -2

// pkgInfo is a package with its deb metadata and recorded paths.
type pkgInfo struct {
	deb     *debfile.Deb
	file    string
	list    []string          // paths as dpkg records them ("/.", "/bin", ...)
	confMD5 map[string]string // conffile path -> md5 hex of its content
	entries []*entry
	closer  io.Closer

	installed bool            // from Options.Installed
	moved     []string        // output paths of installed files moved away by a new diversion
	replaced  map[string]bool // list paths taken over by another package (Replaces)
}

type spoolFile struct {
	f  *os.File
	w  *bufio.Writer
	n  int64
	mu sync.Mutex
}

// Write reads the packages and writes one layer to w.
func Write(w io.Writer, debs []Input, opts Options) (Summary, error) {
	var sum Summary
	epoch := opts.Epoch
	if epoch.IsZero() {
		epoch = time.Unix(0, 0)
	}
	epoch = epoch.UTC().Truncate(time.Second)
	opts.Epoch = epoch

	workers := opts.Concurrency
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	all := make([]Input, 0, len(opts.Installed)+len(debs))
	all = append(all, opts.Installed...)
	all = append(all, debs...)
	workers = min(workers, max(len(all), 1))

	pkgs := make([]*pkgInfo, len(all))
	defer func() {
		for _, p := range pkgs {
			if p != nil && p.closer != nil {
				p.closer.Close()
			}
		}
	}()
	// Pass 0: open every package (control members only).
	if err := parallel(len(all), workers, func(i, _ int) error {
		p, err := openPackage(all[i], opts.XZCommand)
		if p != nil {
			p.installed = i < len(opts.Installed)
		}
		pkgs[i] = p
		return err
	}); err != nil {
		return sum, fmt.Errorf("layer: %w", err)
	}

	// Deterministic package order, independent of the input order.
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i].deb, pkgs[j].deb
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.Architecture != b.Architecture {
			return a.Architecture < b.Architecture
		}
		return a.Version < b.Version
	})
	for i, p := range pkgs {
		if i > 0 && pkgs[i-1].deb.Package == p.deb.Package && pkgs[i-1].deb.Architecture == p.deb.Architecture {
			return sum, fmt.Errorf("layer: package %s:%s given twice (%s and %s)", p.deb.Package, p.deb.Architecture, pkgs[i-1].describe(), p.describe())
		}
		if !p.installed {
			sum.Packages = append(sum.Packages, Package{Name: p.deb.Package, Version: p.deb.Version, Architecture: p.deb.Architecture, MultiArch: p.deb.MultiArch, File: p.file})
		}
	}
	divs, warnings := collectDiversions(pkgs, opts.Effects.Diversions, opts.NoPackageData)
	sum.Warnings = append(sum.Warnings, warnings...)

	spools := make([]*spoolFile, workers)
	defer func() {
		for _, s := range spools {
			if s != nil {
				s.f.Close()
				os.Remove(s.f.Name())
			}
		}
	}()
	for i := range spools {
		f, err := os.CreateTemp(opts.TempDir, "layer-spool-*")
		if err != nil {
			return sum, fmt.Errorf("layer: spool: %w", err)
		}
		spools[i] = &spoolFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	}
	// Pass 1: read every data tar (in parallel), spool bodies.
	rc := readConfig{merged: opts.MergedUsr, divs: divs, noData: opts.NoPackageData}
	if err := parallel(len(pkgs), workers, func(i, wi int) error {
		return pkgs[i].readData(i, spools[wi], wi, rc)
	}); err != nil {
		return sum, fmt.Errorf("layer: %w", err)
	}
	for _, s := range spools {
		if err := s.w.Flush(); err != nil {
			return sum, fmt.Errorf("layer: spool: %w", err)
		}
	}

	fs := &tree{entries: map[string]*entry{}, pkgs: pkgs, spools: spools, epoch: epoch, divs: divs}
	for _, p := range pkgs {
		for _, e := range p.entries {
			if err := fs.add(e); err != nil {
				return sum, fmt.Errorf("layer: %w", err)
			}
		}
	}
	sum.Warnings = append(sum.Warnings, fs.movedInstalledWarnings()...)
	if opts.MergedUsr {
		fs.mergedUsrLinks()
	}
	warnings, err := applyEffects(fs, opts.Effects)
	if err != nil {
		return sum, fmt.Errorf("layer: effects: %w", err)
	}
	sum.Warnings = append(sum.Warnings, warnings...)
	if !opts.NoDpkgDatabase {
		if err := writeDpkgDB(fs); err != nil {
			return sum, fmt.Errorf("layer: dpkg database: %w", err)
		}
	}
	fs.addParents()

	cw, err := Compress(w, opts.Compression)
	if err != nil {
		return sum, fmt.Errorf("layer: %w", err)
	}
	bw := bufio.NewWriterSize(cw, 1<<20)
	n, bytes, err := fs.writeTar(bw)
	if err != nil {
		return sum, fmt.Errorf("layer: writing tar: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("layer: writing tar: %w", err)
	}
	if err := cw.Close(); err != nil {
		return sum, fmt.Errorf("layer: compressing: %w", err)
	}
	sum.Entries, sum.Bytes = n, bytes
	return sum, nil
}

// mergedDirs returns the top-level directories merged into /usr.
func mergedDirs() []string { return []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} }

// rewriteMergedUsr maps a package path to its place on a merged-/usr system.
// The top-level name itself is rewritten too when it is a directory.
func rewriteMergedUsr(p string, isDir bool) string {
	top, _, _ := strings.Cut(p, "/")
	for _, d := range mergedDirs() {
		if top == d {
			if p == d && !isDir {
				return p // e.g. a package shipping the /bin -> usr/bin symlink itself
			}
			return "usr/" + p
		}
	}
	return p
}

// relocateSymlink keeps a relative symlink target valid after the link was
// moved from oldPath to newPath: if the target resolves to a different
// place from the new directory, it is replaced by the absolute target.
func relocateSymlink(oldPath, newPath, target string) string {
	if oldPath == newPath || strings.HasPrefix(target, "/") {
		return target
	}
	oldAbs := path.Join("/", path.Dir(oldPath), target)
	newAbs := path.Join("/", path.Dir(newPath), target)
	// On the merged system the old location resolves through the
	// top-level symlink, so compare after mapping both.
	if "/"+rewriteMergedUsr(strings.TrimPrefix(oldAbs, "/"), true) == "/"+rewriteMergedUsr(strings.TrimPrefix(newAbs, "/"), true) {
		return target
	}
	return oldAbs
}

func cleanName(name string) string {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimPrefix(name, "/")
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// parallel runs f(i, worker) for i in [0, n) on the given number of
// workers and joins the errors.
func parallel(n, workers int, f func(i, worker int) error) error {
	var wg sync.WaitGroup
	jobs := make(chan int)
	errs := make([]error, n)
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			for i := range jobs {
				errs[i] = f(i, wi)
			}
		}(wi)
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// openPackage opens a .deb and reads its control members.
func openPackage(in Input, xzCmd string) (*pkgInfo, error) {
	name := in.Path
	var d *debfile.Deb
	var err error
	if in.ReaderAt != nil {
		d, err = debfile.OpenNamed(path.Base(name), in.ReaderAt, in.Size)
	} else {
		d, err = debfile.OpenFile(name)
	}
	if err != nil {
		return nil, err
	}
	d.XZCommand = xzCmd
	return &pkgInfo{deb: d, file: name, closer: d, confMD5: map[string]string{}, replaced: map[string]bool{}}, nil
}

func (p *pkgInfo) describe() string {
	if p.installed {
		return p.file + ", installed"
	}
	return p.file
}

type readConfig struct {
	merged bool
	divs   map[string]*diversion // by cleaned diverted path
	noData bool
}

// readData reads the data tar of package number idx, spooling the bodies
// of the entries that are written (and of the lower entries the effects
// read); the others are only hashed.
func (p *pkgInfo) readData(idx int, sp *spoolFile, spoolIdx int, rc readConfig) error {
	d := p.deb
	conf := map[string]bool{}
	for _, c := range d.Conffiles() {
		conf[cleanName(c)] = true
	}
	tr, c, err := d.Data()
	if err != nil {
		return err
	}
	defer c.Close()
	orig := map[string]string{} // package path -> output path (for hardlinks)
	buf := make([]byte, 256<<10)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.Name, d.DataMember, err)
		}
		pp := cleanName(h.Name)
		if pp == "" {
			p.list = append(p.list, "/.")
			continue // the root directory is generated
		}
		p.list = append(p.list, "/"+pp)
		isDir := h.Typeflag == tar.TypeDir
		out := pp
		lower := rc.noData || p.installed
		if dv := rc.divs[pp]; dv != nil && !isDir && dv.appliesTo(d.Package) {
			out = cleanName(dv.to)
			if lower && p.installed && !rc.noData && dv.moveInstalled {
				lower = false
				y := pp
				if rc.merged {
					y = rewriteMergedUsr(pp, false)
				}
				p.moved = append(p.moved, y)
			}
		}
		if rc.merged {
			out = rewriteMergedUsr(out, isDir)
		}
		orig[pp] = out
		e := &entry{path: out, src: pp, lower: lower, pkg: idx, typ: h.Typeflag, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, uname: h.Uname, gname: h.Gname, mtime: h.ModTime, spool: -1, devmajor: h.Devmajor, devminor: h.Devminor}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			e.typ = tar.TypeReg
			e.size = h.Size
			hs := sha256.New()
			var mh io.Writer = io.Discard
			m5 := md5.New()
			if conf[pp] {
				mh = m5
			}
			var n int64
			if lower && !effectInput(out) {
				e.spool = noBody
				n, err = io.CopyBuffer(io.MultiWriter(hs, mh), tr, buf)
			} else {
				sp.mu.Lock() // one writer per spool, the lock documents it
				e.spool, e.off = spoolIdx, sp.n
				n, err = io.CopyBuffer(io.MultiWriter(sp.w, hs, mh), tr, buf)
				sp.n += n
				sp.mu.Unlock()
			}
			if err != nil {
				return fmt.Errorf("%s: %s: %s: %w", d.Name, d.DataMember, h.Name, err)
			}
			if n != h.Size {
				return fmt.Errorf("%s: %s: %s: short body", d.Name, d.DataMember, h.Name)
			}
			copy(e.sum[:], hs.Sum(nil))
			if conf[pp] {
				p.confMD5["/"+pp] = hex.EncodeToString(m5.Sum(nil))
			}
		case tar.TypeSymlink:
			e.link = h.Linkname
			if out != pp {
				if rc.merged {
					e.link = relocateSymlink(pp, out, h.Linkname)
				} else if path.Dir(pp) != path.Dir(out) && !strings.HasPrefix(h.Linkname, "/") {
					e.link = path.Join("/", path.Dir(pp), h.Linkname)
				}
			}
		case tar.TypeLink:
			t := cleanName(h.Linkname)
			o, ok := orig[t]
			if !ok {
				return fmt.Errorf("%s: %s: hard link %s to unknown %s", d.Name, d.DataMember, h.Name, h.Linkname)
			}
			e.link = o
		case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		default:
			return fmt.Errorf("%s: %s: %s: unsupported tar entry type %q", d.Name, d.DataMember, h.Name, h.Typeflag)
		}
		p.entries = append(p.entries, e)
	}
	return nil
}

// tree is the merged filesystem being built.
type tree struct {
	entries map[string]*entry
	pkgs    []*pkgInfo
	spools  []*spoolFile
	epoch   time.Time
	divs    map[string]*diversion
}

// movedInstalledWarnings reports installed files moved by a diversion of
// a new package whose original path nothing in this layer covers.
func (t *tree) movedInstalledWarnings() []string {
	var w []string
	for _, p := range t.pkgs {
		for _, y := range p.moved {
			if e, ok := t.entries[y]; !ok || e.lower {
				w = append(w, fmt.Sprintf("%s: /%s was diverted by a new package but stays visible in the lower layer (no new package ships it)", p.deb.Package, y))
			}
		}
	}
	return w
}

// dropped records that e lost its path to another package (Replaces):
// dpkg removes the path from the loser's file list.
func (t *tree) dropped(e *entry) {
	if e.pkg >= 0 && e.src != "" {
		t.pkgs[e.pkg].replaced["/"+e.src] = true
	}
}

func (t *tree) pkgName(i int) string {
	if i < 0 {
		return "(generated)"
	}
	return t.pkgs[i].deb.Package
}

// replaces reports whether package a declares Replaces on package b (by
// name; versions are not checked).
func (t *tree) replaces(a, b int) bool {
	if a < 0 || b < 0 {
		return false
	}
	for _, alt := range strings.Split(t.pkgs[a].deb.Field("Replaces"), ",") {
		for _, dep := range strings.Split(alt, "|") {
			name := strings.TrimSpace(dep)
			if i := strings.IndexAny(name, " (:["); i >= 0 {
				name = name[:i]
			}
			if name == t.pkgs[b].deb.Package {
				return true
			}
		}
	}
	return false
}

func kind(typ byte) string {
	switch typ {
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeReg:
		return "file"
	}
	return "special file"
}

// add puts a package entry into the tree, checking for conflicts.
func (t *tree) add(e *entry) error {
	old, ok := t.entries[e.path]
	if !ok {
		t.entries[e.path] = e
		return nil
	}
	switch {
	case old.typ == tar.TypeDir && e.typ == tar.TypeDir:
		return nil // shared directory: the first package (by name) wins
	case old.typ == tar.TypeReg && e.typ == tar.TypeReg && old.sum == e.sum:
		return nil
	case old.typ == tar.TypeSymlink && e.typ == tar.TypeSymlink && old.link == e.link:
		return nil
	case old.typ == tar.TypeLink && e.typ == tar.TypeLink && old.link == e.link:
		return nil
	}
	if t.replaces(e.pkg, old.pkg) {
		t.dropped(old)
		t.entries[e.path] = e
		return nil
	}
	if t.replaces(old.pkg, e.pkg) {
		t.dropped(e)
		return nil
	}
	what := "different content"
	if old.typ != e.typ {
		what = kind(old.typ) + " vs " + kind(e.typ)
	} else if e.typ == tar.TypeSymlink {
		what = fmt.Sprintf("symlink to %s vs %s", old.link, e.link)
	}
	return fmt.Errorf("conflict: /%s is shipped by both %s and %s (%s)", e.path, t.pkgName(old.pkg), t.pkgName(e.pkg), what)
}

// put adds or replaces a generated entry.
func (t *tree) put(e *entry) {
	e.pkg = -1
	e.spool = -1
	if e.mtime.IsZero() {
		e.mtime = t.epoch
	}
	if e.uname == "" && e.uid == 0 {
		e.uname = "root"
	}
	if e.gname == "" && e.gid == 0 {
		e.gname = "root"
	}
	if e.typ == tar.TypeReg {
		e.size = int64(len(e.data))
		e.sum = sha256.Sum256(e.data)
	}
	t.entries[e.path] = e
}

func (t *tree) putFile(p string, mode int64, data []byte) {
	t.put(&entry{path: p, typ: tar.TypeReg, mode: mode, data: data})
}

func (t *tree) putDir(p string, mode int64) {
	if old, ok := t.entries[p]; ok && old.typ == tar.TypeDir {
		return
	}
	t.put(&entry{path: p, typ: tar.TypeDir, mode: mode})
}

func (t *tree) putSymlink(p, target string) {
	t.put(&entry{path: p, typ: tar.TypeSymlink, mode: 0o777, link: target})
}

// resolve maps an absolute path as a program would see it to the output
// path, following the merged-/usr symlinks.
func (t *tree) resolve(p string) string {
	p = cleanName(p)
	top, _, _ := strings.Cut(p, "/")
	if e, ok := t.entries[top]; ok && e.typ == tar.TypeSymlink && strings.HasPrefix(e.link, "usr/") && p != top {
		return e.link + strings.TrimPrefix(p, top)
	}
	return p
}

// body returns the content of a regular entry.
func (t *tree) body(e *entry) ([]byte, error) {
	if e.spool == noBody {
		return nil, fmt.Errorf("/%s: body of a file of an installed package was not kept (see effectInput)", e.path)
	}
	if e.spool < 0 {
		return e.data, nil
	}
	b := make([]byte, e.size)
	_, err := t.spools[e.spool].f.ReadAt(b, e.off)
	return b, err
}

// file returns the content of the regular file at absolute path p, if any.
func (t *tree) file(p string) ([]byte, bool, error) {
	e, ok := t.entries[t.resolve(p)]
	if !ok || e.typ != tar.TypeReg {
		return nil, false, nil
	}
	b, err := t.body(e)
	return b, true, err
}

func (t *tree) mergedUsrLinks() {
	t.putDir("usr", 0o755)
	for _, d := range mergedDirs() {
		need := d == "bin" || d == "sbin" || d == "lib"
		if _, ok := t.entries["usr/"+d]; ok {
			need = true
		}
		if !need {
			continue
		}
		if e, ok := t.entries[d]; ok && e.typ == tar.TypeSymlink && e.link == "usr/"+d {
			continue
		}
		t.putDir("usr/"+d, 0o755)
		t.putSymlink(d, "usr/"+d)
	}
}

// addParents creates the missing parent directories of the entries that
// are written; parents present only in a lower layer are written too (with
// their metadata), so that the layer is complete on its own.
func (t *tree) addParents() {
	for p, e := range t.entries {
		if e.lower {
			continue
		}
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if d, ok := t.entries[dir]; ok {
				if !d.lower || d.typ != tar.TypeDir {
					break
				}
				d.lower = false
				continue
			}
			t.put(&entry{path: dir, typ: tar.TypeDir, mode: 0o755})
		}
	}
}

// writeTar writes the sorted entries.
func (t *tree) writeTar(w io.Writer) (int, int64, error) {
	paths := make([]string, 0, len(t.entries))
	for p, e := range t.entries {
		if !e.lower {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)

	// Hard links must point to an earlier entry: make the first path of
	// each group carry the body.
	groups := map[string][]string{}
	for _, p := range paths {
		if e := t.entries[p]; e.typ == tar.TypeLink {
			groups[e.link] = append(groups[e.link], p)
		}
	}
	for target, links := range groups {
		te, ok := t.entries[target]
		if !ok || te.typ != tar.TypeReg || te.lower {
			return 0, 0, fmt.Errorf("hard link %s points to %s which is not a regular file in the layer", links[0], target)
		}
		first := links[0] // links are sorted
		if first < target {
			fe := *te
			fe.path = first
			t.entries[first] = &fe
			t.entries[target] = &entry{path: target, typ: tar.TypeLink, link: first, mode: te.mode, uid: te.uid, gid: te.gid, uname: te.uname, gname: te.gname, mtime: te.mtime, pkg: te.pkg, spool: -1}
			for _, l := range links[1:] {
				t.entries[l].link = first
			}
		}
	}

	tw := tar.NewWriter(w)
	var total int64
	buf := make([]byte, 256<<10)
	for _, p := range paths {
		e := t.entries[p]
		mt := e.mtime.UTC().Truncate(time.Second)
		if mt.After(t.epoch) {
			mt = t.epoch
		}
		h := &tar.Header{
			Typeflag: e.typ, Name: p, Linkname: e.link, Mode: e.mode,
			Uid: e.uid, Gid: e.gid, Uname: e.uname, Gname: e.gname,
			ModTime: mt, Devmajor: e.devmajor, Devminor: e.devminor,
			Format: tar.FormatPAX,
		}
		if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		if e.typ == tar.TypeReg {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p, err)
		}
		if e.typ != tar.TypeReg {
			continue
		}
		var r io.Reader
		if e.spool >= 0 {
			r = io.NewSectionReader(t.spools[e.spool].f, e.off, e.size)
		} else {
			r = bytes.NewReader(e.data)
		}
		n, err := io.CopyBuffer(tw, r, buf)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p, err)
		}
		total += n
	}
	if err := tw.Close(); err != nil {
		return 0, 0, err
	}
	return len(paths), total, nil
}
