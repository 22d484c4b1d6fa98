// Package lock computes images/apt.lock.json: it reads the inputs (images/sources.json,
// images/*/packages.json, pg_versions.bzl, the keyrings), fetches and verifies the apt
// indexes of the sources the selected sets need (aptrepo, optionally through a Bazel
// downloader config's rewrites), resolves every set like apt (resolve), and writes a
// deterministic lockfile (lockfile) that records canonical URLs only.
//
// Sets not selected keep their previous entries when their set inputs are unchanged; see
// package lockfile for how partially locked files work.
package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
	"github.com/ci-images/ci-images/tools/resolve"
	"github.com/ci-images/ci-images/tools/urlrewrite"
)

// StaleMessage is the one line `--check` prints for a stale lockfile.
const StaleMessage = "lockfile is stale: run tools/bazel run //images:lock"

// Options configure Lock.
type Options struct {
	// Workspace is the repository root.
	Workspace string
	// Sets are glob patterns (path.Match) of the sets to (re-)lock; empty: all.
	Sets []string
	// Recommends follows Recommends like apt's default.
	Recommends bool
	// CacheDir caches verified indexes (aptrepo.Options.CacheDir); "" disables.
	CacheDir string
	// Rewriter rewrites index URLs (Bazel --downloader_config); nil: none.
	Rewriter *urlrewrite.Config
	// HTTPClient; nil: a client with a 10-minute timeout.
	HTTPClient *http.Client
	// Log receives progress and summary lines; nil: discarded.
	Log io.Writer
	// Output is the lockfile path; "" means <Workspace>/images/apt.lock.json.
	Output string
	// Offline uses only CacheDir (aptrepo.Options.Offline): signatures and hashes are
	// still verified. For benchmarks and air-gapped re-locks.
	Offline bool
}

// Summary describes a finished lock.
type Summary struct {
	Locked  []string // sets resolved now
	Kept    []string // sets kept from the previous lockfile
	Dropped []string // previously locked sets dropped because their inputs changed
	Missing []string // defined sets not in the lockfile
	// Packages is the number of packages in the lockfile, DebBytes their total size.
	Packages int
	DebBytes int64
	// IndexBytes is the size of the indexes fetched or read from the cache.
	IndexBytes int64
	Duration   time.Duration
	// Notes are the per-set notes of the sets locked now.
	Notes map[string][]string
}

func (o *Options) output() string {
	if o.Output != "" {
		return o.Output
	}
	return filepath.Join(o.Workspace, LockFile)
}

// Check recomputes the input hashes from the files only (no network) and compares them
// with the lockfile. A missing lockfile is stale.
func Check(workspace, lockPath string) (lockfile.Status, error) {
	in, err := LoadInputs(workspace)
	if err != nil {
		return lockfile.Status{}, err
	}
	if lockPath == "" {
		lockPath = filepath.Join(workspace, LockFile)
	}
	lf, err := lockfile.Read(lockPath)
	if errors.Is(err, os.ErrNotExist) {
		return lockfile.Check(nil, in), nil
	}
	if err != nil {
		return lockfile.Status{}, err
	}
	in.Recommends = lf.Inputs.Recommends
	return lockfile.Check(lf, in), nil
}

// selectSets returns the set names matching patterns (all when empty).
func selectSets(in lockfile.Inputs, patterns []string) ([]string, error) {
	all := in.SetNames()
	if len(patterns) == 0 {
		return all, nil
	}
	chosen := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--sets %q: %w", p, err)
		}
		n := 0
		for _, s := range all {
			if ok, _ := path.Match(p, s); ok {
				chosen[s] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("--sets %q matches no set (defined: %s)", p, strings.Join(all, ", "))
		}
	}
	var out []string
	for _, s := range all {
		if chosen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// progress prints one line per fetched file.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	start  map[string]time.Time
	nbytes int64
}

func (p *progress) report(ev aptrepo.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := ev.Repo + " " + ev.File
	if !ev.Done {
		p.start[k] = time.Now()
		return
	}
	p.nbytes += ev.Bytes
	if ev.Cached {
		fmt.Fprintf(p.w, "  %-16s %-52s %9s  cached\n", ev.Repo, ev.File, humanBytes(ev.Bytes))
		return
	}
	fmt.Fprintf(p.w, "  %-16s %-52s %9s  %v\n", ev.Repo, ev.File, humanBytes(ev.Bytes), time.Since(p.start[k]).Round(time.Millisecond))
	delete(p.start, k)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// fetched is one source's verified index.
type fetched struct {
	src  lockfile.Source
	pkgs []aptrepo.Package
}

// bases returns the base URLs to fetch src from, in order: the rewrites of its InRelease
// URL with the "dists/<suite>/InRelease" suffix cut off again.
func bases(rw *urlrewrite.Config, src lockfile.Source) []string {
	suffix := "/dists/" + src.Suite + "/InRelease"
	var out []string
	for _, u := range rw.Rewrite(src.URL + suffix) {
		if b, ok := strings.CutSuffix(u, suffix); ok {
			out = append(out, b)
		}
	}
	return out
}

func fetchSource(ctx context.Context, c *aptrepo.Client, rw *urlrewrite.Config, src lockfile.Source) (*fetched, error) {
	urls := bases(rw, src)
	if len(urls) == 0 {
		return nil, fmt.Errorf("source %s: every URL for %s is blocked by the downloader config", src.Name, src.URL)
	}
	var first error
	for _, base := range urls {
		s := aptrepo.Source{
			Name: src.Name, URL: base, Suite: src.Suite, Components: src.Components,
			Architectures: src.Architectures, Keyring: src.Keyring, Priority: src.Priority,
		}
		idx, err := c.Fetch(ctx, s)
		if err == nil {
			return &fetched{src: src, pkgs: idx.Packages}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if first == nil {
			first = err
		}
	}
	what := "cannot fetch"
	var netErr net.Error
	if errors.As(first, &netErr) {
		what = "unreachable"
	}
	if len(urls) > 1 {
		return nil, fmt.Errorf("source %s %s (%s, tried %d URLs): %w", src.Name, what, src.URL, len(urls), first)
	}
	return nil, fmt.Errorf("source %s %s (%s): %w", src.Name, what, src.URL, first)
}

// universe is the resolver's view of a group of sources.
type universe struct {
	ix       *resolve.Index
	names    map[string]bool // real and provided names
	priority map[string][]string
}

func newUniverse(arch string, srcs []*fetched) *universe {
	n := 0
	for _, f := range srcs {
		n += len(f.pkgs)
	}
	pkgs := make([]resolve.Package, 0, n)
	u := &universe{names: map[string]bool{}, priority: map[string][]string{}}
	seenPrio := map[string]bool{}
	for _, f := range srcs {
		for i := range f.pkgs {
			p := &f.pkgs[i]
			if p.Architecture != arch && p.Architecture != "all" {
				continue
			}
			pkgs = append(pkgs, resolve.Package{
				Name: p.Name, Version: p.Version, Architecture: p.Architecture,
				Depends: p.Depends, PreDepends: p.PreDepends, Recommends: p.Recommends,
				Provides: p.Provides, Conflicts: p.Conflicts, Breaks: p.Breaks,
				MultiArch: p.MultiArch, Essential: p.Essential, Priority: p.Priority,
				Repo: f.src.Name, RepoPriority: f.src.Priority, Ref: &refPkg{pkg: p, src: &f.src},
			})
			u.names[p.Name] = true
			for _, prov := range strings.Split(p.Provides, ",") {
				if f := strings.Fields(prov); len(f) > 0 {
					u.names[strings.SplitN(f[0], ":", 2)[0]] = true
				}
			}
			if p.Priority != "" && !seenPrio[p.Priority+" "+p.Name] {
				seenPrio[p.Priority+" "+p.Name] = true
				u.priority[p.Priority] = append(u.priority[p.Priority], p.Name)
			}
		}
	}
	for _, v := range u.priority {
		sort.Strings(v)
	}
	u.ix = resolve.NewIndex(pkgs, arch)
	return u
}

// refPkg is resolve.Package.Ref: the index record and its source.
type refPkg struct {
	pkg *aptrepo.Package
	src *lockfile.Source
}

// setResult is one resolved set.
type setResult struct {
	keys  []string
	pkgs  map[string]lockfile.Package
	notes []string
}

// Requests returns the requests of a set as the resolver gets them: base priorities first
// (sorted by name, minus names requested explicitly), then the requests in order, optional
// requests of unknown names dropped (with a note each).
func (u *universe) requests(s lockfile.SetInputs) ([]resolve.Request, []string, error) {
	var explicit []Request
	named := map[string]bool{}
	for _, raw := range s.Requests {
		r, err := ParseRequest(raw)
		if err != nil {
			return nil, nil, err
		}
		explicit = append(explicit, r)
		named[r.Name] = true
	}
	var reqs []resolve.Request
	var notes []string
	seen := map[string]bool{}
	for _, prio := range s.BasePriorities {
		for _, n := range u.priority[prio] {
			if !named[n] && !seen[n] {
				seen[n] = true
				reqs = append(reqs, resolve.Request{Name: n})
			}
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	for i, r := range explicit {
		if r.Optional && !u.names[r.Name] {
			notes = append(notes, fmt.Sprintf("optional request %s dropped: no package %s in sources %s", s.Requests[i], r.Name, strings.Join(s.Sources, ", ")))
			continue
		}
		reqs = append(reqs, resolve.Request{Name: r.Name, Version: r.Version})
	}
	return reqs, notes, nil
}

// ResolveSet resolves one set against u; arch and recommends as in the inputs.
func (u *universe) resolveSet(name string, s lockfile.SetInputs, arch string, recommends bool) (*setResult, error) {
	reqs, notes, err := u.requests(s)
	if err != nil {
		return nil, fmt.Errorf("set %s (%s): %w", name, s.File, err)
	}
	res, err := u.ix.Resolve(reqs, resolve.Options{Arch: arch, Recommends: recommends, Exclude: s.Exclude})
	if err != nil {
		return nil, fmt.Errorf("set %s (%s): %w", name, s.File, err)
	}
	out := &setResult{pkgs: map[string]lockfile.Package{}, notes: notes}
	for _, p := range res.Packages {
		ref := p.Ref.(*refPkg)
		key := resolve.Key(p)
		urls := []string{ref.src.URL + "/" + ref.pkg.Filename}
		for _, m := range ref.src.Mirrors {
			urls = append(urls, strings.TrimSuffix(m, "/")+"/"+ref.pkg.Filename)
		}
		deps := res.Deps[key]
		if deps == nil {
			deps = []string{}
		}
		out.pkgs[key] = lockfile.Package{
			Name: p.Name, Version: p.Version, Arch: p.Architecture, Repo: p.Repo,
			URLs: urls, SHA256: ref.pkg.SHA256, Size: ref.pkg.Size, Depends: deps,
		}
		out.keys = append(out.keys, key)
	}
	sort.Strings(out.keys)
	return out, nil
}

// merge adds p to pkgs; the same key from two repositories must be the same file.
func merge(pkgs map[string]lockfile.Package, p lockfile.Package) error {
	key := p.Key()
	old, ok := pkgs[key]
	if !ok {
		pkgs[key] = p
		return nil
	}
	if old.SHA256 != p.SHA256 || old.Size != p.Size {
		return fmt.Errorf("package %s: %s and %s serve different files (sha256 %s vs %s)", key, old.Repo, p.Repo, old.SHA256, p.SHA256)
	}
	first, second := old, p
	if p.Repo < old.Repo {
		first, second = p, old
	}
	first.URLs = unionKeepOrder(first.URLs, second.URLs)
	first.Depends = unionKeepOrder(old.Depends, p.Depends)
	sort.Strings(first.Depends)
	pkgs[key] = first
	return nil
}

func unionKeepOrder(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// Lock locks the selected sets and writes the lockfile.
func Lock(ctx context.Context, opt Options) (*Summary, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	in, err := LoadInputs(opt.Workspace)
	if err != nil {
		return nil, err
	}
	in.Recommends = opt.Recommends
	selected, err := selectSets(in, opt.Sets)
	if err != nil {
		return nil, err
	}
	prev, err := lockfile.Read(opt.output())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("previous lockfile: %w", err)
	}

	// The sources the selected sets need, and who needs them.
	needBy := map[string][]string{}
	for _, s := range selected {
		for _, src := range in.Sets[s].Sources {
			needBy[src] = append(needBy[src], s)
		}
	}
	prog := &progress{w: log, start: map[string]time.Time{}}
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	client, err := aptrepo.New(hc, aptrepo.Options{
		CacheDir: opt.CacheDir, Offline: opt.Offline, BaseDir: opt.Workspace, Progress: prog.report,
		UserAgent: "ci-images-lock",
	})
	if err != nil {
		return nil, fmt.Errorf("apt client: %w", err)
	}
	fmt.Fprintf(log, "locking %d set(s): %s\n", len(selected), strings.Join(selected, ", "))
	idx := map[string]*fetched{}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = map[string]error{}
	)
	for _, src := range in.Sources {
		if needBy[src.Name] == nil {
			continue
		}
		wg.Add(1)
		go func(src lockfile.Source) {
			defer wg.Done()
			f, err := fetchSource(ctx, client, opt.Rewriter, src)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[src.Name] = err
				return
			}
			idx[src.Name] = f
		}(src)
	}
	wg.Wait()
	for _, src := range in.Sources { // in sources.json order: the first failure
		if err := errs[src.Name]; err != nil {
			return nil, fmt.Errorf("%w (needed by %s)", err, strings.Join(needBy[src.Name], ", "))
		}
	}

	// Resolve every selected set; sets with the same sources share one index.
	universes := map[string]*universe{}
	results := map[string]*setResult{}
	for _, name := range selected {
		s := in.Sets[name]
		srcNames := append([]string(nil), s.Sources...)
		sort.Strings(srcNames)
		ukey := strings.Join(srcNames, ",")
		u := universes[ukey]
		if u == nil {
			var fs []*fetched
			for _, src := range in.Sources { // sources.json order
				for _, n := range srcNames {
					if n == src.Name {
						fs = append(fs, idx[n])
					}
				}
			}
			u = newUniverse(in.Arch, fs)
			universes[ukey] = u
		}
		r, err := u.resolveSet(name, s, in.Arch, in.Recommends)
		if err != nil {
			return nil, err
		}
		results[name] = r
		for _, n := range r.notes {
			fmt.Fprintf(log, "  note: %s: %s\n", name, n)
		}
	}

	// Assemble: new sets, then unchanged previous sets.
	out := &lockfile.Lockfile{
		Version: lockfile.Version, Inputs: in, InputsSHA256: in.Hash(),
		SetInputsSHA256: map[string]string{}, Packages: map[string]lockfile.Package{},
		Sets: map[string][]string{}, Notes: map[string][]string{},
	}
	sum := &Summary{Locked: selected, Notes: map[string][]string{}}
	for _, name := range selected {
		r := results[name]
		out.Sets[name] = r.keys
		out.SetInputsSHA256[name] = in.SetHash(name)
		if len(r.notes) > 0 {
			out.Notes[name] = r.notes
			sum.Notes[name] = r.notes
		}
		for _, k := range r.keys {
			if err := merge(out.Packages, r.pkgs[k]); err != nil {
				return nil, fmt.Errorf("set %s: %w", name, err)
			}
		}
	}
	if prev != nil {
		for _, name := range prev.Inputs.SetNames() {
			keys, locked := prev.Sets[name]
			if _, now := results[name]; now || !locked {
				continue
			}
			if _, defined := in.Sets[name]; defined && prev.SetInputsSHA256[name] == in.SetHash(name) {
				out.Sets[name] = keys
				out.SetInputsSHA256[name] = prev.SetInputsSHA256[name]
				if n := prev.Notes[name]; len(n) > 0 {
					out.Notes[name] = n
				}
				sum.Kept = append(sum.Kept, name)
				for _, k := range keys {
					if err := merge(out.Packages, prev.Packages[k]); err != nil {
						return nil, fmt.Errorf("set %s (kept): %w", name, err)
					}
				}
				continue
			}
			sum.Dropped = append(sum.Dropped, name)
		}
	}
	// Depends kept from a previous lockfile may name packages no set holds any more.
	for k, p := range out.Packages {
		var deps []string
		for _, d := range p.Depends {
			if _, ok := out.Packages[d]; ok {
				deps = append(deps, d)
			}
		}
		p.Depends = deps
		out.Packages[k] = p
		sum.DebBytes += p.Size
	}
	for _, name := range in.SetNames() {
		if _, ok := out.Sets[name]; !ok {
			sum.Missing = append(sum.Missing, name)
		}
	}
	if err := lockfile.Write(opt.output(), out); err != nil {
		return nil, err
	}
	sum.Packages = len(out.Packages)
	sum.IndexBytes = prog.nbytes
	sum.Duration = time.Since(start)
	fmt.Fprintf(log, "locked %d set(s) (%s), kept %d, %d packages, %s of .debs, %s of indexes, in %v\n",
		len(sum.Locked), strings.Join(sum.Locked, ", "), len(sum.Kept), sum.Packages,
		humanBytes(sum.DebBytes), humanBytes(sum.IndexBytes), sum.Duration.Round(time.Millisecond))
	if len(sum.Dropped) > 0 {
		fmt.Fprintf(log, "dropped (inputs changed, not re-locked): %s\n", strings.Join(sum.Dropped, ", "))
	}
	if len(sum.Missing) > 0 {
		fmt.Fprintf(log, "not locked: %s\n", strings.Join(sum.Missing, ", "))
	}
	return sum, nil
}
