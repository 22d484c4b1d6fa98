package lock

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/lockfile"
)

// assemble builds the new lockfile: the sets locked now, then the previously locked sets
// whose inputs are unchanged, then the depends pruned to the packages that remain, and the
// Release dates of the sources fetched now (indexes) or recorded before.
func assemble(in lockfile.Inputs, selected []string, results map[string]*setResult, prev *lockfile.Lockfile, indexes map[string]*aptrepo.Index) (*lockfile.Lockfile, *Summary, error) {
	out := &lockfile.Lockfile{
		Version: lockfile.Version, Inputs: in, InputsSHA256: in.Hash(),
		SetInputsSHA256: map[string]string{}, Packages: map[string]lockfile.Package{},
		Sets: map[string][]string{}, Notes: map[string][]string{},
		Releases: releases(in, prev, indexes),
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
				return nil, nil, fmt.Errorf("set %s: %w", name, err)
			}
		}
	}
	if prev != nil {
		if err := carryOver(out, sum, prev, results); err != nil {
			return nil, nil, err
		}
	}
	prune(out, sum)
	for _, name := range in.SetNames() {
		if _, ok := out.Sets[name]; !ok {
			sum.Missing = append(sum.Missing, name)
		}
	}
	sum.Packages = len(out.Packages)
	return out, sum, nil
}

// releases returns the Release record of every source of in: the date of the Release
// fetched now, else the one prev recorded for the same URL and suite. Releases without a
// Date are not recorded.
func releases(in lockfile.Inputs, prev *lockfile.Lockfile, indexes map[string]*aptrepo.Index) map[string]lockfile.Release {
	out := map[string]lockfile.Release{}
	for _, src := range in.Sources {
		if idx := indexes[src.Name]; idx != nil {
			if !idx.Release.Date.IsZero() {
				out[src.Name] = lockfile.Release{URL: src.URL, Suite: src.Suite, Date: idx.Release.Date}
			}
			continue
		}
		if prev == nil {
			continue
		}
		if r, ok := prev.Releases[src.Name]; ok && r.URL == src.URL && r.Suite == src.Suite {
			out[src.Name] = r
		}
	}
	return out
}

// carryOver keeps every set of prev that was not locked now and whose set inputs are
// unchanged (Summary.Kept); the other previously locked sets are dropped
// (Summary.Dropped).
func carryOver(out *lockfile.Lockfile, sum *Summary, prev *lockfile.Lockfile, results map[string]*setResult) error {
	for _, name := range prev.Inputs.SetNames() {
		keys, locked := prev.Sets[name]
		if _, now := results[name]; now || !locked {
			continue
		}
		if _, defined := out.Inputs.Sets[name]; !defined || prev.SetInputsSHA256[name] != out.Inputs.SetHash(name) {
			sum.Dropped = append(sum.Dropped, name)
			continue
		}
		out.Sets[name] = keys
		out.SetInputsSHA256[name] = prev.SetInputsSHA256[name]
		if n := prev.Notes[name]; len(n) > 0 {
			out.Notes[name] = n
		}
		sum.Kept = append(sum.Kept, name)
		for _, k := range keys {
			if err := merge(out.Packages, prev.Packages[k]); err != nil {
				return fmt.Errorf("set %s (kept): %w", name, err)
			}
		}
	}
	return nil
}

// prune drops the depends that name no package of out (depends kept from a previous
// lockfile may name packages no set holds any more) and adds up Summary.DebBytes.
func prune(out *lockfile.Lockfile, sum *Summary) {
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

// report prints the summary of a finished lock.
func report(log io.Writer, sum *Summary) {
	fmt.Fprintf(log, "locked %d set(s) (%s), kept %d, %d packages, %s of .debs, %s of indexes, in %v\n",
		len(sum.Locked), strings.Join(sum.Locked, ", "), len(sum.Kept), sum.Packages,
		humanBytes(sum.DebBytes), humanBytes(sum.IndexBytes), sum.Duration.Round(time.Millisecond))
	if len(sum.Dropped) > 0 {
		fmt.Fprintf(log, "dropped (inputs changed, not re-locked): %s\n", strings.Join(sum.Dropped, ", "))
	}
	if len(sum.Missing) > 0 {
		fmt.Fprintf(log, "not locked: %s\n", strings.Join(sum.Missing, ", "))
	}
}
