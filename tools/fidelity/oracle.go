package fidelity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Package is one locked .deb.
type Package struct {
	// Key is the lockfile key, name_version_arch.
	Key    string
	SHA256 string
	// File is the .deb on the host (not part of the oracle's inputs: its sha256 is).
	File string `json:"-"`
}

// Phase is one layer of the image: after it, the chroot holds exactly Packages (the packages
// of this layer and of every layer below it).
type Phase struct {
	Set      string
	Packages []Package
}

// Oracle is the recipe of an oracle chroot.
type Oracle struct {
	// Mirror is the Debian mirror's URL, Suite the suite to debootstrap (e.g. bookworm), and
	// DebootstrapVersion the output of `debootstrap --version` (part of the cache key).
	Mirror, Suite, DebootstrapVersion string
	Phases                            []Phase
	// Accounts are created before the last phase.
	Accounts Accounts
	// CacheDir holds the oracles by Key (see CacheDir()).
	CacheDir string
	// Progress, if set, receives one line per step.
	Progress io.Writer
}

// debsDir is where a phase's .deb files are copied inside the chroot.
const debsDir = "/var/cache/fidelity-debs"

// policyRC keeps maintainer scripts from starting services (invoke-rc.d asks it first).
const policyRC = "/usr/sbin/policy-rc.d"

func (o *Oracle) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "oracle: "+format+"\n", args...)
	}
}

// Build returns the path of the oracle's tar.zst, building it unless the cache holds it. The
// build log stays beside it (also when the build fails).
func (o *Oracle) Build() (path string, cached bool, err error) {
	dir := filepath.Join(o.CacheDir, o.Key())
	path = filepath.Join(dir, "oracle.tar.zst")
	if _, err := os.Stat(path); err == nil {
		return path, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("oracle cache: %w", err)
	}
	work, err := os.MkdirTemp(o.CacheDir, "build-")
	if err != nil {
		return "", false, fmt.Errorf("oracle work directory: %w", err)
	}
	defer func() {
		if rmErr := removeTree(work); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	log, err := os.Create(filepath.Join(dir, "build.log"))
	if err != nil {
		return "", false, err
	}
	defer log.Close()
	root := filepath.Join(work, "root")
	if err := o.make(root, log); err != nil {
		return "", false, fmt.Errorf("%w (log: %s)", err, log.Name())
	}
	o.progress("writing %s", path)
	tmp := filepath.Join(work, "oracle.tar.zst")
	if err := writeTarZst(root, tmp); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", false, fmt.Errorf("oracle cache: %w", err)
	}
	return path, false, nil
}

// make builds the chroot at root, logging every command's output to log.
func (o *Oracle) make(root string, log io.Writer) error {
	o.progress("debootstrap --variant=minbase %s (from the machine's mirror)", o.Suite)
	// In a private mount namespace: mounts debootstrap leaves behind on failure die with it.
	if err := run(log, "unshare", "-m", "--propagation", "private", "--",
		"debootstrap", "--variant=minbase", o.Suite, root, o.Mirror); err != nil {
		return fmt.Errorf("debootstrap: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, policyRC), []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return err
	}
	for i, ph := range o.Phases {
		if i == len(o.Phases)-1 && !o.Accounts.Empty() {
			o.progress("creating the image's accounts")
			if err := inChroot(root, log, o.Accounts.Script()); err != nil {
				return fmt.Errorf("creating accounts: %w", err)
			}
		}
		if err := o.install(root, log, ph); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(root, policyRC)); err != nil {
		return err
	}
	return checkInstalled(root, o.Phases[len(o.Phases)-1])
}

// install makes the chroot hold exactly ph.Packages: apt-get install of their files, then
// dpkg --purge of every other package.
func (o *Oracle) install(root string, log io.Writer, ph Phase) error {
	o.progress("apt-get install: set %s (%d packages)", ph.Set, len(ph.Packages))
	dst := filepath.Join(root, debsDir)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, p := range ph.Packages {
		if err := copyFile(p.File, filepath.Join(dst, debName(p.Key))); err != nil {
			return err
		}
	}
	err := inChroot(root, log, "apt-get install -y -q --no-install-recommends --allow-downgrades "+debsDir+"/*.deb")
	if err != nil {
		return fmt.Errorf("set %s: apt-get install: %w", ph.Set, err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	installed, err := installedKeys(root)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, p := range ph.Packages {
		want[packageName(p.Key)] = true
	}
	var extra []string
	for _, k := range installed {
		if n := packageName(k); !want[n] {
			extra = append(extra, n)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	o.progress("dpkg --purge %s", strings.Join(extra, " "))
	if err := inChroot(root, log, "dpkg --purge "+strings.Join(extra, " ")); err != nil {
		return fmt.Errorf("set %s: purging what the set does not hold: %w", ph.Set, err)
	}
	return nil
}

// debName is the file name of a package key (the epoch's colon escaped as in the archive).
func debName(key string) string { return strings.ReplaceAll(key, ":", "%3a") + ".deb" }

// packageName is the name part of a name_version_arch key.
func packageName(key string) string {
	name, _, _ := strings.Cut(key, "_")
	return name
}

// installedKeys lists the packages dpkg knows in root, as name_version_arch keys.
func installedKeys(root string) ([]string, error) {
	var out, errs bytes.Buffer
	if err := inChrootOut(root, &out, &errs, `dpkg-query -W -f '${db:Status-Abbrev}${Package}_${Version}_${Architecture}\n'`); err != nil {
		return nil, fmt.Errorf("dpkg-query: %w: %s", err, errs.String())
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		status, key, ok := strings.Cut(line, " ")
		if !ok || strings.TrimSpace(status) != "ii" {
			return nil, fmt.Errorf("dpkg-query: package not installed cleanly: %q", line)
		}
		keys = append(keys, strings.TrimSpace(key))
	}
	sort.Strings(keys)
	return keys, nil
}

// checkInstalled asserts that dpkg lists exactly the packages of ph.
func checkInstalled(root string, ph Phase) error {
	got, err := installedKeys(root)
	if err != nil {
		return err
	}
	var want []string
	for _, p := range ph.Packages {
		want = append(want, p.Key)
	}
	sort.Strings(want)
	if missing, extra := setDiff(want, got), setDiff(got, want); len(missing)+len(extra) > 0 {
		return fmt.Errorf("the oracle's packages differ from set %s: missing %v, not locked %v", ph.Set, missing, extra)
	}
	return nil
}

// setDiff returns the elements of a that are not in b.
func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// run runs a host command with its output going to log.
func run(log io.Writer, name string, args ...string) error {
	return runOut(log, log, name, args...)
}

// runOut runs a host command, logging the command line to stderr.
func runOut(stdout, stderr io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	fmt.Fprintf(stderr, "+ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s exited with %d", name, exit.ExitCode())
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// inChroot runs script with /bin/sh -e in the chroot at root, in a private mount namespace
// with /proc mounted, a clean environment and umask 022; its output goes to log.
func inChroot(root string, log io.Writer, script string) error {
	return inChrootOut(root, log, log, script)
}

// inChrootOut is inChroot with separate standard output and error.
func inChrootOut(root string, stdout, stderr io.Writer, script string) error {
	const wrapper = `mount -t proc proc "$0/proc"; umask 022; exec chroot "$0" /usr/bin/env -i ` +
		`PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -ec "$1"`
	return runOut(stdout, stderr, "unshare", "-m", "--propagation", "private", "--", "/bin/sh", "-ec", wrapper, root, script)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}
