// Package resolve computes the closure of an install request over apt
// package indexes, the way `apt-get install --no-install-recommends` does
// on a system with an empty dpkg status: it picks a candidate version per
// package name from repository priorities and versions, follows
// Pre-Depends and Depends (and optionally Recommends) through alternatives
// and virtual packages, and checks Conflicts and Breaks among the result.
//
// The input is the packages of tools/aptrepo's indexes (aptrepo.Index), each
// source with its apt priority (aptrepo.Source.Priority); the result holds
// pointers to those same aptrepo.Package values.
//
// # Candidate versions
//
// For each package name the candidate is, like apt's policy, the version
// from the repository with the highest priority (aptrepo.Source.Priority),
// and among those the highest version (so a repository pinned higher wins
// over a higher version elsewhere). Identical versions from several
// repositories are ordered by repository name. A negative priority never
// yields a candidate. A zero priority means the apt default, 500.
//
// A version pin (Request.Version or Options.Pins) replaces the candidate of
// that name with the highest version matching the pin, whatever the
// priorities. A pin matches a version v if it is the exact string v, or v
// without its Debian revision ("1:16.1" for "1:16.1-1.pgdg120+1"), or the
// bare upstream version ("16.1"). Matching is by string equality, so "16.1"
// never matches "16.13-1.pgdg120+1" nor "16.10-1".
//
// # Dependencies
//
// Resolution follows apt's pkgDepCache::MarkInstall on an empty status:
//
//  1. All requested packages are selected first, then their dependencies
//     are followed depth-first, in request order and, per package, in field
//     order: Pre-Depends, Depends, then Recommends (only with
//     Options.Recommends). Unsatisfiable Recommends are ignored.
//  2. An OR group ("a | b") that any member already satisfies through a
//     selected package (or an excluded one, see Options.Exclude) is done:
//     this is how apt prefers an alternative that is already being
//     installed, and why the order of requests matters.
//  3. Otherwise the possible solutions are listed alternative by
//     alternative: for each member, the package of that name if its
//     candidate satisfies the relation, and every package whose candidate
//     Provides the name with a satisfying version (an unversioned Provides
//     never satisfies a versioned relation). Within one member they are
//     ordered like apt's CompareProviders: the real package before
//     providers, Essential before non-essential, then by Debian Priority
//     (required, important, standard, optional, extra; a missing Priority
//     sorts first, as in apt), then by name (apt falls back to its internal
//     package id, which depends on index order; the name is a stable
//     stand-in). That is why "awk" resolves to mawk in bookworm: mawk is
//     Priority: required, the other providers optional.
//  4. The first solution whose own Pre-Depends/Depends all have some
//     solution among selected packages and candidates is selected (apt's
//     IsInstallOkDependenciesSatisfiableByCandidates). If none passes that
//     check, the first solution is selected anyway so that the error names
//     the real missing piece. There is no deeper backtracking.
//  5. Only the candidate is considered for each name: if it does not
//     satisfy a versioned relation (and no provider does), resolution fails
//     naming both, as apt does ("but 2-1 is to be installed").
//
// A requested name that is only virtual resolves to its provider when
// there is exactly one; with several, the request is an error listing them
// (apt: "You should explicitly select one to install").
//
// Architecture: the index keeps packages of the target architecture and
// "all". Relations whose [arch] list excludes the architecture are dropped,
// build profiles are ignored. "name:any" is satisfied only by packages
// (and their Provides) that are Multi-Arch: allowed; "name:native" and
// "name:<arch>" for the target architecture behave like plain "name";
// other architecture qualifiers are never satisfied.
//
// After the closure, Conflicts and Breaks of every selected package are
// checked against the selected packages and what they provide (a package
// never conflicts with itself, so "Provides: x, Conflicts: x" is fine);
// the first clash is an error naming both packages.
package resolve
