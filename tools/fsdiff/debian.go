package fsdiff

import (
	"bytes"
	"strconv"
)

// Categories of allowed differences between a Debian image and its oracle (a debootstrap +
// apt-get chroot of the same packages, see tools/fidelity).
const (
	// Logs: files that record what happened while the packages were installed.
	Logs Category = "logs"
	// Caches: files derived from others, which the tool that reads them rebuilds when they are
	// missing (apt's binary caches and package indexes, debconf's database, ldconfig's
	// auxiliary cache, Python byte-code).
	Caches Category = "caches"
	// Timestamps: the date or time at which a generated file was written.
	Timestamps Category = "timestamps in generated files"
	// MachineSpecific: what describes or belongs to the machine the oracle was built on: its
	// host name and resolver, its mirror, its generated private key.
	MachineSpecific Category = "machine-specific"
	// Backups: the previous version of a file, kept by the tool that rewrote it.
	Backups Category = "backups"
	// Locks: empty lock files that dpkg, apt and the shadow tools create when they run.
	Locks Category = "lock files"
	// Runtime: what the container runtime provides when the image runs (/dev), or what only
	// exists because something was mounted in the oracle's chroot.
	Runtime Category = "runtime"
	// InstallMethod: traces of how the oracle was installed (debootstrap, then apt-get on
	// .deb files) rather than of what the packages' scripts do.
	InstallMethod Category = "install method"
	// ImagePolicy: deliberate choices of the image definitions (images/defs.bzl) and of the
	// layer writer that differ from a default Debian installation.
	ImagePolicy Category = "image policy"
	// Limitations: what the layer writer does differently from dpkg for want of a change
	// elsewhere in the repository; each says which.
	Limitations Category = "known limitations"
)

// Debian is the allow-list for a Debian image compared with its oracle. Each rule names the
// aspects it allows, so that, say, a log file may be missing while the directory it lives in
// must still exist with the right mode and owner.
func Debian() Policy {
	return Policy{
		Normalizers: []Normalizer{
			// Field 3 of shadow(5) is the day of the last password change: useradd and
			// update-passwd write the day they ran. 0 is not a date (it forces a password
			// change) and empty disables aging, so only positive days are ignored.
			{Path: "etc/shadow", Category: Timestamps, Reason: "etc/shadow: day of the last password change", Apply: blankShadowDate},
			// dpkg copies a control field's first line with its trailing blanks (bookworm's
			// libgdbm6 and libgdbm-compat4 end their Description with a space); tools/deb822
			// trims them when it parses the control file and tools/debfile keeps no raw copy.
			{Path: "var/lib/dpkg/status", Category: Limitations, Reason: "dpkg status: trailing blanks of control field values (tools/deb822 trims them when parsing)", Apply: trimTrailingBlanks},
			// debootstrap installs the base system from the archive's Packages index, whose
			// override Priority dpkg records; a package installed from its .deb records the
			// Priority of its control file.
			{Path: "var/lib/dpkg/status", Category: InstallMethod, Reason: "dpkg status: Priority from the archive's overrides (debootstrap) or the .deb", Apply: dropPriority},
		},
		Rules: append(append(logCacheRules(), machineRules()...), policyRules()...),
	}
}

func logCacheRules() []Rule {
	gone := []Aspect{Missing, Content}
	return []Rule{
		// dpkg, apt, update-alternatives and debootstrap log every run.
		{Path: "var/log/*.log", Aspects: gone, Category: Logs, Reason: "dpkg.log, alternatives.log, bootstrap.log"},
		{Path: "var/log/apt/*.log", Aspects: gone, Category: Logs, Reason: "apt's history.log and term.log"},
		{Path: "var/log/apt/eipp.log.xz", Aspects: gone, Category: Logs, Reason: "apt's solver log"},
		// apt rebuilds its binary caches from its lists, and its lists with apt-get update.
		{Path: "var/cache/apt/*.bin", Aspects: gone, Category: Caches, Reason: "apt's pkgcache.bin and srcpkgcache.bin"},
		{Path: "var/cache/apt/archives/*.deb", Aspects: []Aspect{Missing}, Category: Caches, Reason: "the .deb files debootstrap downloaded"},
		{Path: "var/lib/apt/lists/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "apt lists lock"},
		{Path: "var/lib/apt/lists/*", Aspects: []Aspect{Missing}, Category: Caches, Reason: "apt's package indexes from the oracle's mirror"},
		// debconf's database: the templates and the answers given while installing
		// (noninteractive: the defaults); debconf starts from the templates again without it.
		{Path: "var/cache/debconf/*.dat", Aspects: gone, Category: Caches, Reason: "debconf database"},
		// ldconfig's auxiliary cache only speeds up the next ldconfig run (etc/ld.so.cache
		// itself is not allowed to differ).
		{Path: "var/cache/ldconfig/aux-cache", Aspects: gone, Category: Caches, Reason: "ldconfig's auxiliary cache"},
		// py3compile in the postinst scripts of Python packages; Python compiles on import.
		{Path: "**/__pycache__", Aspects: []Aspect{Missing}, Category: Caches, Reason: "Python byte-code (py3compile)"},
		{Path: "**/__pycache__/*.pyc", Aspects: []Aspect{Missing}, Category: Caches, Reason: "Python byte-code (py3compile)"},
		// The shadow tools, dpkg, debconf and ucf keep the previous version of what they rewrite.
		{Path: "etc/passwd-", Aspects: gone, Category: Backups, Reason: "passwd backup written by useradd"},
		{Path: "etc/group-", Aspects: gone, Category: Backups, Reason: "group backup written by groupadd"},
		{Path: "etc/shadow-", Aspects: gone, Category: Backups, Reason: "shadow backup written by useradd"},
		{Path: "etc/gshadow-", Aspects: gone, Category: Backups, Reason: "gshadow backup written by groupadd"},
		{Path: "var/lib/dpkg/*-old", Aspects: gone, Category: Backups, Reason: "dpkg database backups"},
		{Path: "var/cache/debconf/*.dat-old", Aspects: gone, Category: Backups, Reason: "debconf database backup"},
		{Path: "var/lib/ucf/hashfile.[0-9]*", Aspects: gone, Category: Backups, Reason: "ucf's rotated hashfile"},
		{Path: "var/lib/ucf/registry.[0-9]*", Aspects: gone, Category: Backups, Reason: "ucf's rotated registry"},
		// Lock files are created empty by dpkg, apt and lckpwdf(3) when they run.
		{Path: "var/lib/dpkg/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg lock"},
		{Path: "var/lib/dpkg/lock-frontend", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg frontend lock"},
		{Path: "var/lib/dpkg/triggers/Lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg trigger lock"},
		{Path: "var/cache/apt/archives/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "apt archive lock"},
		{Path: "etc/.pwd.lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "lckpwdf(3) lock of the shadow tools"},
	}
}

func machineRules() []Rule {
	gone := []Aspect{Missing, Content}
	return []Rule{
		// debootstrap copies the host's name resolution and host name into the chroot; a
		// container runtime bind-mounts its own over them.
		{Path: "etc/resolv.conf", Aspects: gone, Category: MachineSpecific, Reason: "the build host's resolver"},
		{Path: "etc/hostname", Aspects: gone, Category: MachineSpecific, Reason: "the build host's name"},
		{Path: "etc/hosts", Aspects: gone, Category: MachineSpecific, Reason: "the build host's hosts file"},
		// debootstrap's sources.list names the mirror the oracle was built from.
		{Path: "etc/apt/sources.list", Aspects: gone, Category: MachineSpecific, Reason: "the oracle's mirror"},
		// ssl-cert's postinst generates a private key and a self-signed certificate for the
		// host name (make-ssl-cert): one machine's secret, which a shared image must not ship.
		{Path: "etc/ssl/private/ssl-cert-snakeoil.key", Aspects: gone, Category: MachineSpecific, Reason: "ssl-cert's generated private key"},
		{Path: "etc/ssl/certs/ssl-cert-snakeoil.pem", Aspects: gone, Category: MachineSpecific, Reason: "ssl-cert's generated certificate"},
		{Path: "etc/ssl/certs/*.[0-9]", Target: "ssl-cert-snakeoil.pem", Aspects: []Aspect{Missing}, Category: MachineSpecific, Reason: "hash link of ssl-cert's generated certificate"},
		// The container runtime mounts /dev; debootstrap makes device nodes in the chroot.
		{Path: "dev/*", Aspects: []Aspect{Missing}, Category: Runtime, Reason: "device nodes debootstrap made"},
		// libmount's runtime directory, made when /proc was mounted in the chroot.
		{Path: "run/mount", Aspects: []Aspect{Missing}, Category: Runtime, Reason: "libmount's runtime directory"},
		// debootstrap's placeholder fstab and dselect access method, dpkg's record of the
		// archive's packages that debootstrap fills, apt's auto-installed marks of the
		// oracle's apt-get run, and apt's download directory, which apt hands to _apt when
		// it downloads.
		{Path: "etc/fstab", Aspects: gone, Category: InstallMethod, Reason: "debootstrap's placeholder fstab"},
		{Path: "var/lib/dpkg/cmethopt", Aspects: gone, Category: InstallMethod, Reason: "debootstrap's dselect access method"},
		{Path: "var/lib/dpkg/available", Aspects: gone, Category: InstallMethod, Reason: "dpkg's record of the archive's packages (debootstrap)"},
		{Path: "var/lib/apt/extended_states", Aspects: gone, Category: InstallMethod, Reason: "apt's auto-installed marks"},
		{Path: "var/cache/apt/archives/partial", Aspects: []Aspect{Mode, Owner}, Category: InstallMethod, Reason: "apt gives its download directory to _apt when it downloads"},
	}
}

// policyRules are the image definitions' deliberate departures from a default installation.
func policyRules() []Rule {
	missing := []Aspect{Missing}
	const cluster = "the images ship no database cluster (tests run initdb); postgresql-NN's postinst creates main, whose pg_control holds a random system identifier"
	return append([]Rule{
		{Path: "etc/postgresql/[0-9]*", Aspects: missing, Category: ImagePolicy, Reason: cluster},
		{Path: "etc/postgresql/[0-9]*/**", Aspects: missing, Category: ImagePolicy, Reason: cluster},
		{Path: "var/lib/postgresql/[0-9]*", Aspects: missing, Category: ImagePolicy, Reason: cluster},
		{Path: "var/lib/postgresql/[0-9]*/**", Aspects: missing, Category: ImagePolicy, Reason: cluster},
		{Path: "var/log/postgresql/postgresql-*-main.log", Aspects: missing, Category: ImagePolicy, Reason: cluster},
		// pg_updateaptconfig lists the major versions that have clusters.
		{Path: "etc/apt/apt.conf.d/02autoremove-postgresql", Aspects: []Aspect{Content}, Category: ImagePolicy, Reason: "lists the versions with clusters: " + cluster},
		// images/defs.bzl makes the socket directory world-writable (2777, postgresql-common
		// makes 2775), so that tests running as any user can start servers.
		{Path: "run/postgresql", Aspects: []Aspect{Mode}, Category: ImagePolicy, Reason: "socket directory 2777 for tests running as any user"},
	}, serviceRules()...)
}

// serviceRules allow what deb-systemd-helper enable and update-rc.d defaults make: the layer
// writer treats both as having no effect (tools/maintscript).
func serviceRules() []Rule {
	missing := []Aspect{Missing}
	const services = "no init system runs in CI containers; services are never started"
	var rules []Rule
	for _, p := range []string{
		"etc/rc[0-6S].d/[SK][0-9][0-9]*",
		"etc/systemd/system/*.wants", "etc/systemd/system/*.wants/*",
		"var/lib/systemd/deb-systemd-helper-enabled", "var/lib/systemd/deb-systemd-helper-enabled/**",
	} {
		rules = append(rules, Rule{Path: p, Aspects: missing, Category: ImagePolicy, Reason: services})
	}
	return rules
}

// blankShadowDate empties field 3 (the day of the last password change) of every shadow(5)
// line where it is a positive number.
func blankShadowDate(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		f := bytes.Split(l, []byte(":"))
		if len(f) < 3 {
			continue
		}
		if day, err := strconv.Atoi(string(f[2])); err == nil && day > 0 {
			f[2] = nil
			lines[i] = bytes.Join(f, []byte(":"))
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// dropPriority removes the Priority fields of a dpkg status file.
func dropPriority(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	out := lines[:0]
	for _, l := range lines {
		if !bytes.HasPrefix(l, []byte("Priority:")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, nil)
}

// trimTrailingBlanks removes the blanks at the end of every line.
func trimTrailingBlanks(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, " \t")
	}
	return bytes.Join(lines, []byte("\n"))
}
