// Package maintscript carries out Debian maintainer scripts without running any program of
// the image: the scripts (preinst, config, postinst, and the shell scripts they call) run in
// a POSIX shell interpreter written in Go (mvdan.cc/sh), on a file system the caller
// provides (FS), and every external command they start is looked up in a table of commands
// emulated in Go: coreutils, sed, grep and awk for what scripts need of them, dpkg's tools
// (dpkg-divert, dpkg-statoverride, dpkg-trigger, dpkg-query, update-alternatives), the
// account tools (useradd, groupadd, adduser, pwconv, ...), debconf (its noninteractive
// frontend), and programs whose output the emulation computes itself (pam-auth-update,
// update-ca-certificates and openssl rehash, ldconfig, ucf, update-locale, ...). Commands
// that have no effect on an image's files (services, byte-code caches) are in the table with
// the reason. A command the table does not know runs when it is a shell script of the
// image; anything else is recorded in the Report, per package and script, and does nothing.
//
// A System installs groups of packages as apt-get does (Install): preinst install, then in
// dependency order config and postinst configure, then the triggers activated. Everything is
// deterministic: the scripts see SOURCE_DATE_EPOCH as the time, mktemp names come from a
// counter, and no host file, clock or program is used.
package maintscript
