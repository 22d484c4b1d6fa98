package main

import (
	"bufio"
	"bytes"
	"testing"

	"pault.ag/go/debian/control"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"

	"github.com/ci-images/ci-images/tools/aptrepo"
	"github.com/ci-images/ci-images/tools/deb822"
	"github.com/ci-images/ci-images/tools/debversion"
)

// bench is one measurement; per > 1 reports per item of a batch.
type bench struct {
	name string
	per  int
	f    func(b *testing.B)
}

func benchmarks(data []byte, c *corpus) []bench {
	return append(append(parseBenchmarks(data), versionBenchmarks(c)...), relationBenchmarks(c)...)
}

var sink int

// parseBenchmarks parse the whole index: paragraphs only, then typed packages.
func parseBenchmarks(data []byte) []bench {
	text := string(data)
	return []bench{
		{"index, paragraphs: ours deb822.ParseAll([]byte)", 1, func(b *testing.B) {
			for b.Loop() {
				ps, _ := deb822.ParseAll(data)
				sink += len(ps)
			}
		}},
		{"index, paragraphs: ours deb822.ParseAllString (aptrepo)", 1, func(b *testing.B) {
			for b.Loop() {
				ps, _ := deb822.ParseAllString(text)
				sink += len(ps)
			}
		}},
		{"index, paragraphs: pault control.ParagraphReader.All", 1, func(b *testing.B) {
			for b.Loop() {
				r, _ := control.NewParagraphReader(bytes.NewReader(data), nil)
				ps, _ := r.All()
				sink += len(ps)
			}
		}},
		{"index, typed: ours ParseAllString + aptrepo.ParsePackage", 1, func(b *testing.B) {
			for b.Loop() {
				ps, _ := deb822.ParseAllString(text)
				pkgs := make([]aptrepo.Package, len(ps))
				for i, p := range ps {
					pkgs[i], _ = aptrepo.ParsePackage(p, "debian")
				}
				sink += len(pkgs)
			}
		}},
		{"index, typed: pault control.ParseBinaryIndex", 1, func(b *testing.B) {
			for b.Loop() {
				idx, _ := control.ParseBinaryIndex(bufio.NewReader(bytes.NewReader(data)))
				sink += len(idx)
			}
		}},
	}
}

// versionBenchmarks compare the corpus' version pairs.
func versionBenchmarks(c *corpus) []bench {
	parsed := make([][2]version.Version, len(c.pairs))
	for i, p := range c.pairs {
		parsed[i][0], _ = version.Parse(p[0])
		parsed[i][1], _ = version.Parse(p[1])
	}
	return []bench{
		{"compare: ours debversion.Compare(string, string)", len(c.pairs), func(b *testing.B) {
			for b.Loop() {
				for _, p := range c.pairs {
					sink += debversion.Compare(p[0], p[1])
				}
			}
		}},
		{"compare: pault version.Compare, versions parsed before", len(c.pairs), func(b *testing.B) {
			for b.Loop() {
				for _, p := range parsed {
					sink += version.Compare(p[0], p[1])
				}
			}
		}},
		{"compare: pault version.Parse x2 + Compare (from strings)", len(c.pairs), func(b *testing.B) {
			for b.Loop() {
				for _, p := range c.pairs {
					a, _ := version.Parse(p[0])
					v, _ := version.Parse(p[1])
					sink += version.Compare(a, v)
				}
			}
		}},
	}
}

// relationBenchmarks parse every relation field of the index.
func relationBenchmarks(c *corpus) []bench {
	return []bench{
		{"relations: ours debversion.ParseRelations", len(c.relations), func(b *testing.B) {
			for b.Loop() {
				for _, f := range c.relations {
					r, _ := debversion.ParseRelations(f)
					sink += len(r)
				}
			}
		}},
		{"relations: pault dependency.Parse", len(c.relations), func(b *testing.B) {
			for b.Loop() {
				for _, f := range c.relations {
					d, _ := dependency.Parse(f)
					if d != nil {
						sink += len(d.Relations)
					}
				}
			}
		}},
	}
}
