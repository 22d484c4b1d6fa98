package lockfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/ci-images/ci-images/tools/aptrepo"
)

func sortedCopy(s []string) []string {
	if s == nil {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return dedupe(c)
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// normalize returns a copy of in with every order-insensitive list sorted.
func (in Inputs) normalize() Inputs {
	out := in
	out.Sources = make([]aptrepo.Source, len(in.Sources))
	copy(out.Sources, in.Sources)
	sort.Slice(out.Sources, func(i, j int) bool { return out.Sources[i].Name < out.Sources[j].Name })
	out.Sets = make(map[string]SetInputs, len(in.Sets))
	for name, s := range in.Sets {
		s.Sources = sortedCopy(s.Sources)
		s.Exclude = sortedCopy(s.Exclude)
		s.BasePriorities = sortedCopy(s.BasePriorities)
		if s.Requests == nil {
			s.Requests = []string{}
		}
		out.Sets[name] = s
	}
	return out
}

func hashJSON(v any) string {
	b, err := encode(v)
	if err != nil {
		// Only plain structs, maps and slices are hashed here.
		panic(fmt.Sprintf("lockfile: encoding inputs: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Hash is inputs_sha256: the sha256 of the canonical JSON of the normalized inputs.
func (in Inputs) Hash() string { return hashJSON(in.normalize()) }

// SetHash is the hash of what set depends on: its inputs, the sources it may use, the
// architecture and the recommends flag. It is "" when in has no such set.
func (in Inputs) SetHash(set string) string {
	n := in.normalize()
	s, ok := n.Sets[set]
	if !ok {
		return ""
	}
	var srcs []aptrepo.Source
	for _, src := range n.Sources {
		for _, name := range s.Sources {
			if src.Name == name {
				srcs = append(srcs, src)
			}
		}
	}
	return hashJSON(struct {
		Arch       string           `json:"arch"`
		Recommends bool             `json:"recommends"`
		Set        SetInputs        `json:"set"`
		Sources    []aptrepo.Source `json:"sources"`
	}{n.Arch, n.Recommends, s, srcs})
}

// Source returns the source of in named name.
func (in Inputs) Source(name string) (aptrepo.Source, bool) {
	for _, s := range in.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return aptrepo.Source{}, false
}

// SetNames returns the names of in's sets, sorted.
func (in Inputs) SetNames() []string {
	names := make([]string, 0, len(in.Sets))
	for n := range in.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
