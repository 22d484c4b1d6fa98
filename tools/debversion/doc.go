// Package debversion implements Debian package version ordering (the
// algorithm of dpkg's verrevcmp) and parsing of dependency fields such as
// Depends, Pre-Depends, Provides, Conflicts and Breaks.
//
// Compare works directly on version strings and allocates nothing, so it can
// be called millions of times while resolving dependencies.
package debversion
