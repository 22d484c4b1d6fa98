package testrepo

import (
	"testing"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// PGDGLayout is a pair of servers shaped like apt.postgresql.org and
// apt-archive.postgresql.org, signed with the same key.
type PGDGLayout struct {
	// Main serves suite "bookworm-pgdg" with components "main", "16" and
	// "17" for amd64 and arm64 (URL ends in /pub/repos/apt).
	Main *Server
	// Archive serves "bookworm-pgdg-archive" (component "main") with every
	// minor release, including ones Main no longer has.
	Archive *Server
}

// PGDG versions used by the layout.
const (
	PG16Latest = "16.13-1.pgdg120+1"
	PG16Old    = "16.12-1.pgdg120+1"
	PG16First  = "16.1-1.pgdg120+1"
	PG17Latest = "17.9-1.pgdg120+1"
	PG17Old    = "17.8-1.pgdg120+1"
)

func doc(name string) debtest.File {
	return debtest.File{Path: "usr/share/doc/" + name + "/copyright", Body: "Copyright: test data for " + name + "\n"}
}

func pgServer(major, version, arch string) []debtest.Deb {
	src := "postgresql-" + major + " (" + version + ")"
	return []debtest.Deb{
		{
			Package: "postgresql-" + major, Version: version, Architecture: arch, Source: src,
			Section: "database", Priority: "optional",
			Depends:  "libc6 (>= 2.34), libssl3 (>= 3.0.0), postgresql-client-" + major + ", postgresql-common (>= 252~), tzdata",
			Provides: "postgresql-contrib-" + major,
			Files: []debtest.File{
				{Path: "usr/lib/postgresql/" + major + "/bin/postgres", Mode: 0o755, Body: "postgres " + version + "\n"},
				{Path: "usr/lib/postgresql/" + major + "/bin/initdb", Mode: 0o755, Body: "initdb " + version + "\n"},
				doc("postgresql-" + major),
			},
			Description: "The World's Most Advanced Open Source Relational Database",
		},
		{
			Package: "postgresql-client-" + major, Version: version, Architecture: arch, Source: src,
			Section: "database", Priority: "optional",
			Depends:  "libpq5 (>= " + major + "~~), postgresql-client-common (>= 182~), libc6 (>= 2.34)",
			Provides: "postgresql-client",
			Files: []debtest.File{
				{Path: "usr/lib/postgresql/" + major + "/bin/psql", Mode: 0o755, Body: "psql " + version + "\n"},
				doc("postgresql-client-" + major),
			},
			Description: "front-end programs for PostgreSQL " + major,
		},
	}
}

func libpq(version, arch string) debtest.Deb {
	return debtest.Deb{
		Package: "libpq5", Version: version, Architecture: arch, MultiArch: "same",
		Source: "postgresql-" + version[:2] + " (" + version + ")", Section: "libs", Priority: "optional",
		Depends: "libc6 (>= 2.34), libssl3 (>= 3.0.0)",
		Files: []debtest.File{
			{Path: "usr/lib/" + triplet(arch) + "/libpq.so.5." + version[:2], Body: "libpq " + version + "\n"},
			{Path: "usr/lib/" + triplet(arch) + "/libpq.so.5", Link: "libpq.so.5." + version[:2]},
			doc("libpq5"),
		},
		Description: "PostgreSQL C client library",
	}
}

func triplet(arch string) string {
	switch arch {
	case "arm64":
		return "aarch64-linux-gnu"
	default:
		return "x86_64-linux-gnu"
	}
}

func pgCommon() []debtest.Deb {
	return []debtest.Deb{
		{
			Package: "postgresql-common", Version: "259.pgdg120+1", Architecture: "all",
			Section: "database", Priority: "optional",
			Depends:   "adduser, debconf (>= 0.5) | debconf-2.0, lsb-base (>= 3.0-3), postgresql-client-common (= 259.pgdg120+1), ssl-cert, ucf",
			Files:     []debtest.File{{Path: "usr/share/postgresql-common/init.d-functions", Body: "# functions\n"}, doc("postgresql-common")},
			Scripts:   map[string]string{"postinst": "#!/bin/sh\nset -e\nexit 0\n"},
			MultiArch: "foreign", Description: "PostgreSQL database-cluster manager",
		},
		{
			Package: "postgresql-client-common", Version: "259.pgdg120+1", Architecture: "all",
			Section: "database", Priority: "optional", Depends: "netbase, perl", MultiArch: "foreign",
			Files:       []debtest.File{{Path: "usr/bin/pg_wrapper", Mode: 0o755, Body: "#!/usr/bin/perl\n"}, doc("postgresql-client-common")},
			Description: "manager for multiple PostgreSQL client versions",
		},
		{
			Package: "pgdg-keyring", Version: "2018.2", Architecture: "all", Section: "misc", Priority: "optional",
			Files:       []debtest.File{{Path: "usr/share/keyrings/pgdg.gpg", Body: "not a real key\n"}},
			Description: "keyring for apt.postgresql.org",
		},
	}
}

// PGDGSpec returns the specs of the two PGDG servers (without keys).
func PGDGSpec() (main, archive Spec) {
	archs := []string{"amd64", "arm64"}
	var mainPkgs, comp16, comp17, arch []debtest.Deb
	mainPkgs = append(mainPkgs, pgCommon()...)
	arch = append(arch, pgCommon()...)
	for _, a := range archs {
		mainPkgs = append(mainPkgs, pgServer("16", PG16Latest, a)...)
		mainPkgs = append(mainPkgs, pgServer("17", PG17Latest, a)...)
		mainPkgs = append(mainPkgs, libpq(PG17Latest, a))
		comp16 = append(comp16, libpq(PG16Latest, a))
		comp17 = append(comp17, libpq(PG17Latest, a))
		for _, v := range []string{PG16First, PG16Old, PG16Latest} {
			arch = append(arch, pgServer("16", v, a)...)
			arch = append(arch, libpq(v, a))
		}
		for _, v := range []string{PG17Old, PG17Latest} {
			arch = append(arch, pgServer("17", v, a)...)
			arch = append(arch, libpq(v, a))
		}
	}
	main = Spec{
		PathPrefix: "/pub/repos/apt",
		Suites: map[string]Suite{
			"bookworm-pgdg": {
				Origin: "apt.postgresql.org", Label: "PostgreSQL for Debian/Ubuntu repository",
				Architectures: archs,
				Components:    map[string][]debtest.Deb{"main": mainPkgs, "16": comp16, "17": comp17},
				// apt.postgresql.org has no by-hash and publishes plain,
				// .gz and .bz2 (the latter unsupported here) indexes.
				NoByHash:     true,
				Compressions: []string{"", ".gz"},
			},
		},
	}
	archive = Spec{
		PathPrefix: "/pub/repos/apt",
		Suites: map[string]Suite{
			"bookworm-pgdg-archive": {
				Origin: "apt.postgresql.org", Label: "PostgreSQL for Debian/Ubuntu repository (archive)",
				Architectures: archs,
				Components:    map[string][]debtest.Deb{"main": arch},
				NoByHash:      true,
				Compressions:  []string{"", ".gz"},
			},
		},
	}
	return main, archive
}

// PGDG serves the PGDG layout.
func PGDG(t testing.TB) *PGDGLayout {
	t.Helper()
	key := NewKey(t)
	m, a := PGDGSpec()
	m.Key, a.Key = key, key
	return &PGDGLayout{Main: Serve(t, m), Archive: Serve(t, a)}
}

// DebianLayout is a pair of servers shaped like a Debian snapshot of
// a Debian mirror: /debian and /debian-security, signed with one key.
type DebianLayout struct {
	// Debian serves "bookworm" and "bookworm-updates" (component "main",
	// amd64 and arm64) under /debian.
	Debian *Server
	// Security serves "bookworm-security" (Suite: oldstable-security)
	// under /debian-security.
	Security *Server
}

// Debian versions used by the layout.
const (
	Libc6Version         = "2.36-9+deb12u9"
	Libssl3Version       = "3.0.15-1~deb12u1"
	Libssl3SecVersion    = "3.0.16-1~deb12u1"
	TzdataVersion        = "2024a-0+deb12u1"
	TzdataUpdatesVersion = "2025b-0+deb12u1"
)

func lib(name, version, src, arch, depends string) debtest.Deb {
	return debtest.Deb{
		Package: name, Version: version, Architecture: arch, Source: src, MultiArch: "same",
		Section: "libs", Priority: "optional", Depends: depends,
		Files: []debtest.File{
			{Path: "usr/lib/" + triplet(arch) + "/" + name + ".so", Body: name + " " + version + "\n"},
			doc(name),
		},
		Description: name + " library",
	}
}

func bookworm(arch string) []debtest.Deb {
	libc := lib("libc6", Libc6Version, "glibc", arch, "libgcc-s1")
	libc.Priority = "required"
	libc.Breaks = "hurd (<< 1:0.9.git20170910-1), nscd (<< 2.36)"
	libc.Conflicts = "libc6-dev (<< 2.36)"
	libc.Recommends = "libidn2-0 (>= 2.0.5~)"
	libgcc := lib("libgcc-s1", "12.2.0-14", "gcc-12", arch, "gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)")
	libgcc.Provides = "libgcc1 (= 1:12.2.0-14)"
	libtinfo := lib("libtinfo6", "6.4-4", "ncurses", arch, "libc6 (>= 2.34)")
	libtinfo.Priority = "required"
	return []debtest.Deb{
		libc, libgcc, libtinfo,
		{
			Package: "gcc-12-base", Version: "12.2.0-14", Architecture: arch, Source: "gcc-12", MultiArch: "same",
			Section: "libs", Priority: "required", Files: []debtest.File{doc("gcc-12-base")},
		},
		lib("libssl3", Libssl3Version, "openssl", arch, "libc6 (>= 2.34)"),
		{
			Package: "openssl", Version: Libssl3Version, Architecture: arch, Section: "utils", Priority: "optional",
			Depends: "libc6 (>= 2.34), libssl3 (>= 3.0.9)",
			Files:   []debtest.File{{Path: "usr/bin/openssl", Mode: 0o755, Body: "openssl\n"}, doc("openssl")},
		},
		{
			Package: "mawk", Version: "1.3.4.20200120-3.1", Architecture: arch, Section: "interpreters",
			Priority: "required", MultiArch: "foreign", PreDepends: "libc6 (>= 2.34)", Provides: "awk",
			Files: []debtest.File{{Path: "usr/bin/mawk", Mode: 0o755, Body: "mawk\n"}, doc("mawk")},
			Scripts: map[string]string{
				"postinst": "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5\n",
			},
		},
		{
			Package: "bash", Version: "5.2.15-2+b7", Architecture: arch, Source: "bash (5.2.15-2)",
			Section: "shells", Priority: "required", Essential: true, MultiArch: "foreign",
			PreDepends: "libc6 (>= 2.36), libtinfo6 (>= 6)", Depends: "base-files (>= 2.1.12), debianutils (>= 5.6-0.1)",
			Files: []debtest.File{{Path: "bin/bash", Mode: 0o755, Body: "bash\n"}, doc("bash")},
		},
		{
			Package: "base-files", Version: "12.4+deb12u10", Architecture: arch, Section: "admin",
			Priority: "required", Essential: true, MultiArch: "foreign", Provides: "base",
			Files: []debtest.File{{Path: "etc/debian_version", Body: "12.10\n"}},
		},
		{
			Package: "debianutils", Version: "5.7-0.5~deb12u1", Architecture: arch, Section: "utils",
			Priority: "required", Essential: true, MultiArch: "foreign", PreDepends: "libc6 (>= 2.34)",
			Files: []debtest.File{{Path: "usr/bin/which", Mode: 0o755, Body: "which\n"}},
		},
	}
}

func bookwormAll() []debtest.Deb {
	return []debtest.Deb{
		{
			Package: "tzdata", Version: TzdataVersion, Architecture: "all", Section: "localization",
			Priority: "required", MultiArch: "foreign", Depends: "debconf (>= 0.5) | debconf-2.0",
			Provides: "tzdata-bookworm",
			Files:    []debtest.File{{Path: "usr/share/zoneinfo/UTC", Body: "TZif2\n"}},
		},
		{
			Package: "debconf", Version: "1.5.82", Architecture: "all", Section: "admin", Priority: "required",
			MultiArch: "foreign", PreDepends: "perl-base (>= 5.20.1-3~)", Provides: "debconf-2.0",
			Recommends: "apt-utils (>= 0.5.1), debconf-i18n", Conflicts: "apt (<< 0.3.12.1), cdebconf (<< 0.96)",
			Files: []debtest.File{{Path: "usr/share/debconf/confmodule", Body: "# confmodule\n"}},
		},
		{
			Package: "cdebconf", Version: "0.270", Architecture: "all", Section: "utils", Priority: "optional",
			Provides: "debconf-2.0", Files: []debtest.File{doc("cdebconf")},
		},
		{
			Package: "ca-certificates", Version: "20230311", Architecture: "all", Section: "misc",
			Priority: "optional", MultiArch: "foreign",
			Depends: "openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0",
			Files:   []debtest.File{{Path: "usr/share/ca-certificates/mozilla/Test_Root.crt", Body: "-----BEGIN CERTIFICATE-----\n"}},
			Scripts: map[string]string{"postinst": "#!/bin/sh\nset -e\nupdate-ca-certificates\n"},
		},
	}
}

// DebianSpec returns the specs of the two Debian servers (without keys).
func DebianSpec() (debian, security Spec) {
	archs := []string{"amd64", "arm64"}
	main := bookwormAll()
	var sec []debtest.Deb
	for _, a := range archs {
		main = append(main, bookworm(a)...)
		sec = append(sec, lib("libssl3", Libssl3SecVersion, "openssl", a, "libc6 (>= 2.34)"))
		sec = append(sec, debtest.Deb{
			Package: "openssl", Version: Libssl3SecVersion, Architecture: a, Section: "utils", Priority: "optional",
			Depends: "libc6 (>= 2.34), libssl3 (>= 3.0.9)",
			Files:   []debtest.File{{Path: "usr/bin/openssl", Mode: 0o755, Body: "openssl sec\n"}, doc("openssl")},
		})
	}
	updTz := bookwormAll()[0]
	updTz.Version = TzdataUpdatesVersion
	debian = Spec{
		PathPrefix: "/debian",
		Suites: map[string]Suite{
			"bookworm": {
				Origin: "Debian", Label: "Debian", SuiteField: "oldstable", Codename: "bookworm",
				Architectures: archs, Components: map[string][]debtest.Deb{"main": main},
			},
			"bookworm-updates": {
				Origin: "Debian", Label: "Debian", SuiteField: "oldstable-updates", Codename: "bookworm-updates",
				Architectures: archs, Components: map[string][]debtest.Deb{"main": {updTz}},
			},
		},
	}
	security = Spec{
		PathPrefix: "/debian-security",
		Suites: map[string]Suite{
			"bookworm-security": {
				Origin: "Debian", Label: "Debian-Security", SuiteField: "oldstable-security", Codename: "bookworm-security",
				Architectures: archs, Components: map[string][]debtest.Deb{"main": sec},
				Compressions:    []string{"", ".xz"},
				ComponentsField: "updates/main",
			},
		},
	}
	return debian, security
}

// Debian serves the Debian layout.
func Debian(t testing.TB) *DebianLayout {
	t.Helper()
	key := NewKey(t)
	d, s := DebianSpec()
	d.Key, s.Key = key, key
	return &DebianLayout{Debian: Serve(t, d), Security: Serve(t, s)}
}
