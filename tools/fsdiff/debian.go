package fsdiff

import "bytes"

// Categories of allowed differences between a Debian image and its oracle (a debootstrap +
// apt-get chroot of the same packages).
const (
	// Logs: files that record what happened while packages were installed.
	Logs Category = "logs"
	// Caches: files derived from others and rebuilt by the tool that reads them when missing.
	Caches Category = "apt/debconf caches"
	// Timestamps: the date or time at which a generated file was written.
	Timestamps Category = "timestamps in generated files"
	// MachineSpecific: what describes the machine the oracle was built on.
	MachineSpecific Category = "machine-specific"
	// Backups: the previous version of a file, kept by the tool that rewrote it.
	Backups Category = "backups"
	// Locks: empty lock files that dpkg and apt create when they run.
	Locks Category = "lock files"
)

// Debian is the allow-list for a Debian image compared with its oracle. Each entry names the
// aspects it allows, so that, say, a log file's content may differ while its directory must
// still exist with the right mode and owner.
func Debian() Policy {
	return Policy{
		Normalizers: []Normalizer{
			// Field 3 of shadow(5) is the day of the last password change: useradd and
			// adduser write the day they ran.
			{Path: "etc/shadow", Category: Timestamps, Reason: "etc/shadow: day of the last password change", Apply: blankShadowDate},
			{Path: "etc/shadow-", Category: Timestamps, Reason: "etc/shadow-: day of the last password change", Apply: blankShadowDate},
		},
		Rules: debianRules(),
	}
}

func debianRules() []Rule {
	gone := []Aspect{Missing, Content}
	return []Rule{
		// dpkg, apt, update-alternatives and debootstrap log every run.
		{Path: "var/log/*.log", Aspects: gone, Category: Logs, Reason: "dpkg.log, alternatives.log, bootstrap.log"},
		{Path: "var/log/apt/*.log", Aspects: gone, Category: Logs, Reason: "apt's history.log and term.log"},
		{Path: "var/log/apt/eipp.log.xz", Aspects: gone, Category: Logs, Reason: "apt's solver log"},
		// apt rebuilds its binary package cache from the lists when it is missing or stale.
		{Path: "var/cache/apt/*.bin", Aspects: gone, Category: Caches, Reason: "apt's pkgcache.bin and srcpkgcache.bin"},
		// debconf's database: the templates and the answers given while installing
		// (noninteractive: the defaults); debconf starts from the templates again without it.
		{Path: "var/cache/debconf/*.dat", Aspects: gone, Category: Caches, Reason: "debconf database"},
		{Path: "var/cache/debconf/*.dat-old", Aspects: gone, Category: Backups, Reason: "debconf database backup"},
		// ldconfig's auxiliary cache only speeds up the next ldconfig run.
		{Path: "var/cache/ldconfig/aux-cache", Aspects: gone, Category: Caches, Reason: "ldconfig's auxiliary cache"},
		// Account databases: shadow's tools keep the previous version as FILE-.
		{Path: "etc/passwd-", Aspects: gone, Category: Backups, Reason: "passwd backup written by useradd"},
		{Path: "etc/group-", Aspects: gone, Category: Backups, Reason: "group backup written by groupadd"},
		{Path: "etc/shadow-", Aspects: gone, Category: Backups, Reason: "shadow backup written by useradd"},
		{Path: "etc/gshadow-", Aspects: gone, Category: Backups, Reason: "gshadow backup written by groupadd"},
		// dpkg keeps the previous status, available, diversions and statoverride files.
		{Path: "var/lib/dpkg/*-old", Aspects: gone, Category: Backups, Reason: "dpkg database backups"},
		// Lock files are created empty by dpkg and apt when they run.
		{Path: "var/lib/dpkg/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg lock"},
		{Path: "var/lib/dpkg/lock-frontend", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg frontend lock"},
		{Path: "var/lib/dpkg/triggers/Lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "dpkg trigger lock"},
		{Path: "var/cache/apt/archives/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "apt archive lock"},
		{Path: "var/lib/apt/lists/lock", Aspects: []Aspect{Missing}, Category: Locks, Reason: "apt lists lock"},
		// debootstrap copies the host's name resolution and host name into the chroot; a
		// container runtime bind-mounts its own over them.
		{Path: "etc/resolv.conf", Aspects: gone, Category: MachineSpecific, Reason: "the build host's resolver"},
		{Path: "etc/hostname", Aspects: gone, Category: MachineSpecific, Reason: "the build host's name"},
		{Path: "etc/hosts", Aspects: gone, Category: MachineSpecific, Reason: "the build host's hosts file"},
	}
}

// blankShadowDate empties field 3 (the last password change) of every shadow(5) line.
func blankShadowDate(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		f := bytes.Split(l, []byte(":"))
		if len(f) > 2 {
			f[2] = nil
			lines[i] = bytes.Join(f, []byte(":"))
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
