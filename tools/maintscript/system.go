package maintscript

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ci-images/ci-images/tools/deb822"
)

// Package is a package as its maintainer scripts and the emulated dpkg tools see it.
type Package struct {
	Name, Version, Architecture, MultiArch string
	// Paragraph is the control paragraph (dpkg-query fields).
	Paragraph deb822.Paragraph
	// Members are the control members: preinst, postinst, config, templates, triggers, ...
	Members map[string][]byte
	// Files are the paths of the package as dpkg records them ("/.", "/usr", ...), in
	// archive order (dpkg -L).
	Files []string
}

func (p *Package) field(name string) string { return p.Paragraph.Get(name) }

// Options control how the scripts run.
type Options struct {
	// Epoch is the time the installation happens at (SOURCE_DATE_EPOCH): the date commands
	// see, the day recorded as the last password change (none when it is day 0).
	Epoch time.Time
	// Alternatives and CACertificates enable update-alternatives and
	// update-ca-certificates; when unset, the calls are reported as not reproduced.
	Alternatives, CACertificates bool
	// Log receives the output of the scripts (nil: discarded); with Trace, every command
	// they run too (set -x).
	Log   io.Writer
	Trace bool
}

// System is one installation: the file system, the packages and the state of the emulated
// tools (debconf's database, diversions, statoverrides, triggers). Install runs the scripts
// of one group of packages after another, as apt-get install does for one set.
type System struct {
	fs   *vfs
	opts Options
	cmds map[string]command

	pkgs       map[string]*Package // every package given to NewSystem, by name
	presentSet map[string]bool     // packages of the Install calls so far (unpacked or configured)
	configured []*Package          // in the order of configuration
	done       map[string]bool     // configured packages
	phase      int                 // 1 for the first Install, 2 for the second, ...

	debconf    *debconf
	diversions []Diversion  // in the order they were added
	discovered []Discovered // what DiscoverDiversions returns
	overrides  []StatOverride
	triggers   triggerState
	temps      int // mktemp's counter

	mu       sync.Mutex // guards report and log
	report   Report
	discover bool // only dpkg-divert calls matter (see DiscoverDiversions)
}

// StatOverride is one dpkg-statoverride record.
type StatOverride struct {
	User, Group string
	Mode        int64
	Path        string
}

// NewSystem prepares an installation on f of the packages pkgs (all the packages that will
// be installed, in any order).
func NewSystem(f FS, pkgs []*Package, opts Options) *System {
	s := &System{fs: &vfs{fs: f, epoch: opts.Epoch}, opts: opts, cmds: commands(), pkgs: map[string]*Package{},
		presentSet: map[string]bool{}, done: map[string]bool{}}
	for _, p := range pkgs {
		s.pkgs[p.Name] = p
	}
	s.debconf = newDebconf(pkgs)
	return s
}

// Install installs the packages ps (a subset of the packages given to NewSystem) as one
// apt-get run: every preinst (install), then in dependency order each package's config and
// postinst (configure), then the triggers the packages activated, until none is pending.
// accounts, when not nil, is called once, as soon as the account tools work: after the
// package shipping useradd is configured, or before the first postinst when that package is
// not among ps.
func (s *System) Install(ps []*Package, accounts func()) {
	s.phase++
	ordered := configureOrder(ps, s.pkgs)
	for _, p := range ordered {
		s.presentSet[p.Name] = true
	}
	for _, p := range ordered {
		s.runScript(p, "preinst", "install")
	}
	for _, p := range ordered {
		s.triggers.addInterests(p)
	}
	tools := accountTools(ordered)
	if tools == nil && accounts != nil {
		accounts()
	}
	for _, p := range ordered {
		s.triggers.activateByPackage(p)
		s.configured = append(s.configured, p)
		s.runScript(p, "postinst", "configure", "")
		s.done[p.Name] = true
		if p == tools && accounts != nil {
			accounts()
		}
	}
	s.runTriggers()
}

// accountTools returns the package of ps that ships useradd, if any.
func accountTools(ps []*Package) *Package {
	for _, p := range ps {
		for _, f := range p.Files {
			if f == "/usr/sbin/useradd" || f == "/sbin/useradd" {
				return p
			}
		}
	}
	return nil
}

// present returns the package called name if it is unpacked or configured.
func (s *System) present(name string) *Package {
	if s.presentSet[name] {
		return s.pkgs[name]
	}
	return nil
}

// presentPackages returns the unpacked or configured packages, by name.
func (s *System) presentPackages() []*Package {
	var out []*Package
	for n := range s.presentSet {
		out = append(out, s.pkgs[n])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// status is dpkg's Status field of a present package.
func (s *System) status(p *Package) string {
	if s.done[p.Name] {
		return "install ok installed"
	}
	return "install ok unpacked"
}

// Diversions returns the diversions in the order they were added.
func (s *System) Diversions() []Diversion { return append([]Diversion(nil), s.diversions...) }

// StatOverrides returns the statoverride records in the order they were added.
func (s *System) StatOverrides() []StatOverride {
	return append([]StatOverride(nil), s.overrides...)
}

// Report is what the scripts did that the emulation does not reproduce.
type Report struct {
	// Unknown lists the commands the table does not know, by package and script, sorted.
	Unknown []Unknown
	// Failures are scripts that exited with an error.
	Failures []string
	// Warnings are things that were done differently from dpkg, or skipped.
	Warnings []string
}

// Unknown is a command a script ran that is not reproduced.
type Unknown struct {
	Package, Script, Command string
}

// Report returns what was not reproduced so far.
func (s *System) Report() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{Unknown: append([]Unknown(nil), s.report.Unknown...), Failures: append([]string(nil), s.report.Failures...),
		Warnings: append([]string(nil), s.report.Warnings...)}
	sort.Slice(r.Unknown, func(i, j int) bool {
		a, b := r.Unknown[i], r.Unknown[j]
		return a.Package+"\x00"+a.Script+"\x00"+a.Command < b.Package+"\x00"+b.Script+"\x00"+b.Command
	})
	return r
}

// Summary gives one line per package and script that ran commands the table does not know:
// "pkg: postinst: cmd1, cmd2".
func (r Report) Summary() []string {
	var out []string
	for i := 0; i < len(r.Unknown); {
		j := i
		var cmds []string
		for ; j < len(r.Unknown) && r.Unknown[j].Package == r.Unknown[i].Package && r.Unknown[j].Script == r.Unknown[i].Script; j++ {
			cmds = append(cmds, r.Unknown[j].Command)
		}
		out = append(out, fmt.Sprintf("%s: %s: %s", r.Unknown[i].Package, r.Unknown[i].Script, strings.Join(cmds, ", ")))
		i = j
	}
	return out
}

func (s *System) unknown(pkg, script, cmd string) {
	if s.discover {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := Unknown{Package: pkg, Script: script, Command: cmd}
	for _, x := range s.report.Unknown {
		if x == u {
			return
		}
	}
	s.report.Unknown = append(s.report.Unknown, u)
}

func (s *System) warnf(format string, args ...any) {
	if s.discover {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Warnings = append(s.report.Warnings, fmt.Sprintf(format, args...))
}

func (s *System) failure(msg string) {
	if s.discover {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Failures = append(s.report.Failures, msg)
}

// logf writes to the log.
func (s *System) logf(format string, args ...any) {
	if s.opts.Log == nil || s.discover {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.opts.Log, format, args...)
}
