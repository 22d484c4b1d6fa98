package main

import (
	"sort"

	"github.com/ci-images/ci-images/tools/deb822"
)

// relationFields are the fields holding package relations in a Packages index.
var relationFields = []string{"Depends", "Pre-Depends", "Recommends", "Suggests", "Provides", "Conflicts", "Breaks", "Replaces", "Enhances"}

// corpus is what the benchmarks run on, taken from the index with our parser.
type corpus struct {
	paras     []deb822.Paragraph
	versions  []string // distinct Version values, sorted by debversion.Compare
	pairs     [][2]string
	relations []string // every relation field value
}

func loadCorpus(data []byte) (*corpus, error) {
	paras, err := deb822.ParseAll(data)
	if err != nil {
		return nil, err
	}
	c := &corpus{paras: paras}
	seen := map[string]bool{}
	for _, p := range paras {
		if v := p.Get("Version"); !seen[v] {
			seen[v] = true
			c.versions = append(c.versions, v)
		}
		for _, f := range relationFields {
			if v := p.Get(f); v != "" {
				c.relations = append(c.relations, v)
			}
		}
	}
	sort.Strings(c.versions)
	// Pairs as the resolver meets them: neighbours in byte order (mostly the same
	// upstream version) and a spread of unrelated ones.
	for i := 1; i < len(c.versions); i++ {
		c.pairs = append(c.pairs, [2]string{c.versions[i-1], c.versions[i]})
		j := (i * 7919) % len(c.versions)
		c.pairs = append(c.pairs, [2]string{c.versions[i], c.versions[j]})
	}
	return c, nil
}
