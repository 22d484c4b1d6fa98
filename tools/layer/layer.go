// Package layer turns a set of Debian binary packages into one reproducible filesystem layer
// (a compressed tar stream), as if the packages had been installed by dpkg on a merged-/usr
// Debian system, without running any maintainer script.
//
// What the layer contains:
//
//   - the data.tar entries of every package, with paths normalised (no "./" prefix in the
//     output names, directories with a trailing "/"), sorted byte-wise by path (so every parent
//     directory precedes its children), missing parent directories created (0755 root:root);
//     see tree.go and tar.go;
//   - modification times clamped to Options.SourceDateEpoch (min(mtime, epoch)); generated
//     entries get exactly the epoch; no atime/ctime are written;
//   - modes, uid/gid and uname/gname exactly as in the packages (uname and gname are kept: they
//     are informative only, tools use the numeric ids);
//   - tar headers in PAX format (USTAR when nothing needs an extension, which is what Go's
//     archive/tar does for FormatPAX): the choice depends only on the entries;
//   - with Config.MergedUsr, paths under /bin, /sbin, /lib, /lib32, /lib64 and /libx32 are
//     rewritten to /usr/..., and the top-level names are symlinks to usr/<dir> (as Debian
//     bookworm's usrmerge leaves them); see mergedusr.go;
//   - the dpkg database (var/lib/dpkg/status, info/*.list, *.md5sums, *.conffiles, maintainer
//     scripts and other control members), see dpkgdb.go;
//   - what the maintainer scripts make, without running any program of the packages: the
//     scripts run in tools/maintscript's shell interpreter, whose commands are emulated in Go
//     (users, update-alternatives links, dpkg-divert diversions, the CA bundle and its hash
//     links, ld.so.cache, the PAM configuration, ...), and the image's own accounts and
//     directories of Config.Effects (effects.go, scriptfs.go).
//
// For a FROM graph of layers, Options.Installed names the packages of the lower layers: they
// are recorded in the database and used by the effects, their files not written.
//
// The output is compressed by Config.Compression (compress.go) and Write returns the layer's
// diff_id, the sha256 of the uncompressed tar, computed on the way.
//
// Bodies of regular files are spooled to temporary files while the packages are read (in
// parallel), then copied into the output in sorted order, so memory use does not grow with the
// size of the packages. Files that are not written (Installed) are only hashed, except the few
// the effects read. The spool files are unlinked as soon as they are created: a killed
// process leaves nothing behind. WriteContext stops within one buffer when its context is
// done (imagetool cancels it on SIGINT and SIGTERM).
//
// # Paths and symbolic links
//
// What dpkg does decides the rule (checked with dpkg 1.21 and GNU tar 1.34, which dpkg-deb -x
// runs):
//
//   - A member name (or hard link target) with a ".." component is an error naming the
//     package and the path. dpkg's own extractor does not check: `dpkg --root=R -i` of a
//     package holding ./usr/../../escape writes R/../escape, outside its root, while
//     `dpkg-deb -x` refuses it ("Member name contains '..'"). Clamping the name to the root
//     would silently put the file somewhere its package did not say, so it is refused.
//     Leading "/" and "./" are dropped, as both dpkg and tar do.
//   - Symlink targets are written as shipped, as dpkg stores them. An absolute target
//     (/etc/alternatives/x, /proc/self/mounts) is normal in Debian: once the layer is part of
//     an image's root file system it resolves inside that root, so it is no escape.
//   - A relative target that climbs above the root from the link's directory
//     (usr/lib/x -> ../../../etc/y) is kept too, since inside the image the kernel stops at
//     "/" and resolves it to /etc/y, but it is suspicious (a tool following it on an
//     extracted, not chrooted, tree leaves the tree), so Summary.Warnings names the package,
//     the link and where it resolves. Installed packages were warned about in their own layer.
package layer

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/ci-images/ci-images/tools/ctxio"
	"github.com/ci-images/ci-images/tools/maintscript"
)

// Config is what a layer holds besides its packages. It is the JSON schema of the deb_layer
// rule's configuration file (tools/rules/defs.bzl writes it), decoded as it is.
type Config struct {
	// Compression of the output: "gzip" (tools/pgzip), "zstd", or "" or "none" (plain tar).
	Compression string `json:"compression"`
	// MergedUsr rewrites /bin, /sbin, /lib* into /usr and emits the top-level compatibility
	// symlinks.
	MergedUsr bool `json:"merged_usr"`
	// NoDpkgDatabase omits var/lib/dpkg (for layers that are not meant to be inspected with
	// dpkg).
	NoDpkgDatabase bool `json:"no_dpkg_database"`
	Effects
}

// Options controls Write.
type Options struct {
	Config
	// SourceDateEpoch, in seconds since 1970: entry mtimes are clamped to it and generated
	// entries get it.
	SourceDateEpoch int64
	// Installed are the .deb files of the packages already present in the lower layers (the
	// base image). They are recorded in the dpkg database (status and info/*, so the database
	// of this layer describes the whole stack), their maintainer scripts run again (before the
	// new packages', see effects.go) and they take part in conflict checks, but their data
	// files are not written into this layer (except files moved by a diversion of a new
	// package, see diversions.go, the parent directories of new entries, written with the
	// installed metadata, and entries the scripts change). What their scripts make (e.g.
	// etc/passwd) is written again, with the same content. A package may not be both installed
	// and new (upgrades are not supported).
	Installed []string
	// TempDir holds the spool files (default os.TempDir()). They are unlinked as soon as they
	// are created, so nothing is left there, however the process ends.
	TempDir string
}

// Package describes one package written into the layer.
type Package struct {
	Name, Version, Architecture string
}

// Summary describes what Write produced.
type Summary struct {
	Packages []Package // the new packages (not Installed), sorted by name
	Entries  int       // tar entries written
	Bytes    int64     // bytes of regular file content
	// DiffID is the layer's diff_id: "sha256:<hex>" of the uncompressed tar.
	DiffID string
	// Warnings lists things that were skipped or done differently from dpkg, e.g. the
	// maintainer-script commands that were not reproduced (one line per package and script).
	Warnings []string
	// Scripts is what the maintainer scripts did that was not reproduced (see
	// tools/maintscript).
	Scripts maintscript.Report
}

// Write reads the .deb files at the paths debs and writes one compressed layer to w.
func Write(w io.Writer, debs []string, opts Options) (Summary, error) {
	return WriteContext(context.Background(), w, debs, opts)
}

// WriteContext is Write that stops when ctx is done: the readers of the packages and the
// writer of the layer end within one buffer, and the error is the context's cause.
func WriteContext(ctx context.Context, w io.Writer, debs []string, opts Options) (Summary, error) {
	sum, err := write(ctx, ctxio.Writer(ctx, w), debs, opts)
	if err != nil {
		return sum, fmt.Errorf("layer: %w", err)
	}
	return sum, nil
}

func write(ctx context.Context, w io.Writer, debs []string, opts Options) (Summary, error) {
	var sum Summary
	if err := opts.Check(); err != nil {
		return sum, err
	}
	workers := min(runtime.GOMAXPROCS(0), max(len(opts.Installed)+len(debs), 1))
	pkgs, err := openPackages(ctx, opts.Installed, debs, workers)
	defer closePackages(pkgs)
	if err != nil {
		return sum, err
	}
	if err := sortPackages(pkgs); err != nil {
		return sum, err
	}
	sum.Packages = newPackages(pkgs)
	divs, divList, warnings := collectDiversions(pkgs, opts.Diversions)
	sum.Warnings = append(sum.Warnings, warnings...)

	spools, err := newSpools(workers, opts.TempDir)
	defer spools.close()
	if err != nil {
		return sum, err
	}
	rc := readConfig{merged: opts.MergedUsr, divs: divs}
	if err := readPackages(ctx, pkgs, spools, rc); err != nil {
		return sum, err
	}
	sum.Warnings = append(sum.Warnings, readWarnings(pkgs)...)
	t, err := newTree(pkgs, spools, time.Unix(opts.SourceDateEpoch, 0).UTC(), divs)
	if err != nil {
		return sum, err
	}
	sum.Warnings = append(sum.Warnings, t.movedInstalledWarnings()...)
	res, err := t.finish(opts.Config, divList)
	sum.Warnings = append(sum.Warnings, res.warnings...)
	sum.Scripts = res.report
	if err != nil {
		return sum, err
	}
	sum.Entries, sum.Bytes, sum.DiffID, err = writeCompressed(w, t, opts.Compression)
	return sum, err
}

// finish adds what the packages do not ship: the merged-/usr links, the effects, the dpkg
// database and the missing parent directories.
func (t *tree) finish(c Config, divs []maintscript.Diversion) (scriptResult, error) {
	if c.MergedUsr {
		t.mergedUsrLinks()
	}
	res, err := applyEffects(t, c.Effects, divs)
	if err != nil {
		return res, fmt.Errorf("effects: %w", err)
	}
	if !c.NoDpkgDatabase {
		if err := writeDpkgDB(t, res); err != nil {
			return res, fmt.Errorf("dpkg database: %w", err)
		}
	}
	t.addParents()
	return res, nil
}
