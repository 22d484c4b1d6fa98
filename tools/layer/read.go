package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/ci-images/ci-images/tools/atomicfile"
	"github.com/ci-images/ci-images/tools/ctxio"
	"github.com/ci-images/ci-images/tools/debfile"
	"github.com/ci-images/ci-images/tools/debversion"
)

// pkgInfo is a package with its deb metadata and recorded paths.
type pkgInfo struct {
	deb      *debfile.Deb
	file     string
	replaces map[string]bool   // names in the Replaces field
	list     []string          // paths as dpkg records them ("/.", "/bin", ...)
	confMD5  map[string]string // conffile path -> md5 hex of its content
	entries  []*entry

	installed bool            // from Options.Installed
	moved     []string        // output paths of installed files moved away by a new diversion
	replaced  map[string]bool // list paths taken over by another package (Replaces)
	warnings  []string        // about the data tar, see checkSymlink
}

// openPackages opens the installed packages and the new ones (control members only), on
// workers goroutines. The result has an element per path (nil where opening failed), to be
// closed by closePackages.
func openPackages(ctx context.Context, installed, debs []string, workers int) ([]*pkgInfo, error) {
	paths := append(append([]string(nil), installed...), debs...)
	pkgs := make([]*pkgInfo, len(paths))
	err := parallel(ctx, len(paths), workers, func(i, _ int) error {
		p, err := openPackage(paths[i])
		if p != nil {
			p.installed = i < len(installed)
		}
		pkgs[i] = p
		return err
	})
	return pkgs, err
}

func closePackages(pkgs []*pkgInfo) {
	for _, p := range pkgs {
		if p != nil {
			p.deb.Close()
		}
	}
}

// openPackage opens a .deb and reads its control members.
func openPackage(file string) (*pkgInfo, error) {
	d, err := debfile.OpenFile(file)
	if err != nil {
		return nil, err
	}
	p := &pkgInfo{deb: d, file: file, replaces: map[string]bool{}, confMD5: map[string]string{}, replaced: map[string]bool{}}
	rels, err := debversion.ParseRelations(d.Field("Replaces"))
	if err != nil {
		return p, fmt.Errorf("%s: Replaces: %w", d.Name, err)
	}
	for _, alts := range rels {
		for _, r := range alts {
			p.replaces[r.Name] = true
		}
	}
	return p, nil
}

// sortPackages puts the packages in a deterministic order, independent of the input order:
// by name, architecture and version. A package given twice is an error.
func sortPackages(pkgs []*pkgInfo) error {
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
	for i := 1; i < len(pkgs); i++ {
		p, q := pkgs[i], pkgs[i-1]
		if q.deb.Package == p.deb.Package && q.deb.Architecture == p.deb.Architecture {
			return fmt.Errorf("package %s:%s given twice (%s and %s)", p.deb.Package, p.deb.Architecture, q.describe(), p.describe())
		}
	}
	return nil
}

// newPackages describes the packages that are not installed.
func newPackages(pkgs []*pkgInfo) []Package {
	var out []Package
	for _, p := range pkgs {
		if !p.installed {
			out = append(out, Package{Name: p.deb.Package, Version: p.deb.Version, Architecture: p.deb.Architecture})
		}
	}
	return out
}

func (p *pkgInfo) describe() string {
	if p.installed {
		return p.file + ", installed"
	}
	return p.file
}

// parallel runs f(i, worker) for i in [0, n) on the given number of workers and joins the
// errors. Once ctx is done no new job starts, and the error is the context's cause.
func parallel(ctx context.Context, n, workers int, f func(i, worker int) error) error {
	var wg sync.WaitGroup
	jobs := make(chan int)
	errs := make([]error, n)
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() == nil {
					errs[i] = f(i, wi)
				}
			}
		}(wi)
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return errors.Join(errs...)
}

// spoolFile holds the bodies read by one worker.
type spoolFile struct {
	f  *os.File
	w  *bufio.Writer
	n  int64
	mu sync.Mutex
}

type spools []*spoolFile

// newSpools creates one spool file per worker in dir, without a name (atomicfile.TempFile):
// the space is freed when close closes them (also after an error) or when the process ends,
// however it ends.
func newSpools(workers int, dir string) (spools, error) {
	s := make(spools, 0, workers)
	for range workers {
		f, err := atomicfile.TempFile(dir, "layer-spool-*")
		if err != nil {
			return s, fmt.Errorf("spool: %w", err)
		}
		s = append(s, &spoolFile{f: f, w: bufio.NewWriterSize(f, 1<<20)})
	}
	return s, nil
}

func (s spools) close() {
	for _, sp := range s {
		sp.f.Close()
	}
}

type readConfig struct {
	merged bool
	divs   map[string]*diversion // by cleaned diverted path
}

// readPackages reads every data tar (in parallel), spooling the bodies.
func readPackages(ctx context.Context, pkgs []*pkgInfo, s spools, rc readConfig) error {
	if err := parallel(ctx, len(pkgs), len(s), func(i, wi int) error {
		return pkgs[i].readData(ctx, i, s[wi], wi, rc)
	}); err != nil {
		return err
	}
	for _, sp := range s {
		if err := sp.w.Flush(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	return nil
}

// dataReader turns the data tar of one package into entries.
type dataReader struct {
	p        *pkgInfo
	idx      int // the package's index
	sp       *spoolFile
	spoolIdx int
	rc       readConfig
	conf     map[string]bool   // cleaned conffile paths
	orig     map[string]string // package path -> output path (for hard links)
	buf      []byte
}

// readData reads the data tar of package number idx, spooling the bodies of the entries that
// are written (and of the installed entries the effects read); the others are only hashed.
func (p *pkgInfo) readData(ctx context.Context, idx int, sp *spoolFile, spoolIdx int, rc readConfig) error {
	d := p.deb
	r := &dataReader{p: p, idx: idx, sp: sp, spoolIdx: spoolIdx, rc: rc, conf: map[string]bool{}, orig: map[string]string{}, buf: make([]byte, 256<<10)}
	for _, c := range d.Conffiles() {
		r.conf[cleanName(c)] = true
	}
	tr, c, err := d.Data()
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.Name, d.DataMember, err)
		}
		if err := r.add(h, ctxio.Reader(ctx, tr)); err != nil {
			return fmt.Errorf("%s: %s: %w", d.Name, d.DataMember, err)
		}
	}
}

// add records one tar entry of the package (body read from tr).
func (r *dataReader) add(h *tar.Header, tr io.Reader) error {
	p := r.p
	if err := checkNames(p.deb.Package, h); err != nil {
		return err
	}
	pp := cleanName(h.Name)
	if pp == "" {
		p.list = append(p.list, "/.")
		return nil // the root directory is generated
	}
	p.list = append(p.list, "/"+pp)
	e := r.place(h, pp)
	r.orig[pp] = e.path
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		if err := r.body(e, h, tr); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	case tar.TypeSymlink:
		if w := checkSymlink(pp, h.Linkname); w != "" && !p.installed {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: %s", p.deb.Package, w))
		}
		e.link = r.symlinkTarget(pp, e.path, h.Linkname)
	case tar.TypeLink:
		o, ok := r.orig[cleanName(h.Linkname)]
		if !ok {
			return fmt.Errorf("hard link %s to unknown %s", h.Name, h.Linkname)
		}
		e.link = o
	case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("%s: unsupported tar entry type %q", h.Name, h.Typeflag)
	}
	p.entries = append(p.entries, e)
	return nil
}

// place returns the entry of shipped path pp at its output path: moved by a diversion, then
// rewritten for merged /usr. An installed file moved by a new package's diversion is written
// into this layer.
func (r *dataReader) place(h *tar.Header, pp string) *entry {
	p := r.p
	isDir := h.Typeflag == tar.TypeDir
	out := pp
	lower := p.installed
	if dv := r.rc.divs[pp]; dv != nil && !isDir && dv.appliesTo(p.deb.Package) {
		out = cleanName(dv.to)
		if p.installed && dv.moveInstalled {
			lower = false
			y := pp
			if r.rc.merged {
				y = rewriteMergedUsr(pp, false)
			}
			p.moved = append(p.moved, y)
		}
	}
	if r.rc.merged {
		out = rewriteMergedUsr(out, isDir)
	}
	return &entry{path: out, src: pp, lower: lower, pkg: r.idx, typ: h.Typeflag, mode: h.Mode & 0o7777,
		uid: h.Uid, gid: h.Gid, uname: h.Uname, gname: h.Gname, mtime: h.ModTime, spool: -1,
		devmajor: h.Devmajor, devminor: h.Devminor}
}

// body reads the content of a regular file: hashed, and spooled unless the file is not
// written and the effects do not read it; conffiles are md5-summed for the database.
func (r *dataReader) body(e *entry, h *tar.Header, tr io.Reader) error {
	e.typ = tar.TypeReg
	e.size = h.Size
	hs := sha256.New()
	var mh io.Writer = io.Discard
	m5 := md5.New()
	if r.conf[e.src] {
		mh = m5
	}
	var n int64
	var err error
	if e.lower && !effectInput(e.path) {
		e.spool = noBody
		n, err = io.CopyBuffer(io.MultiWriter(hs, mh), tr, r.buf)
	} else {
		sp := r.sp
		sp.mu.Lock() // one writer per spool, the lock documents it
		e.spool, e.off = r.spoolIdx, sp.n
		n, err = io.CopyBuffer(io.MultiWriter(sp.w, hs, mh), tr, r.buf)
		sp.n += n
		sp.mu.Unlock()
	}
	if err != nil {
		return err
	}
	if n != h.Size {
		return errors.New("short body")
	}
	copy(e.sum[:], hs.Sum(nil))
	if r.conf[e.src] {
		r.p.confMD5["/"+e.src] = hex.EncodeToString(m5.Sum(nil))
	}
	return nil
}

// symlinkTarget keeps a relative symlink target valid when the link moved from pp to out.
func (r *dataReader) symlinkTarget(pp, out, target string) string {
	switch {
	case out == pp:
		return target
	case r.rc.merged:
		return relocateSymlink(pp, out, target)
	case path.Dir(pp) != path.Dir(out) && !strings.HasPrefix(target, "/"):
		return path.Join("/", path.Dir(pp), target)
	}
	return target
}
