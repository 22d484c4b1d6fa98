package publish

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ci-images/ci-images/tools/image"
	"github.com/ci-images/ci-images/tools/tags"
)

// testSet is a set of small images sharing layers, written as OCI layouts and read back, the way
// imagetool push reads oci_image outputs.
type testSet struct {
	base   v1.Layer // in every image
	images []v1.Image
	names  []string // image_major
	repos  []string // repository under the prefix
	vers   []string
}

// layer is a random gzip layer of size bytes, reproducible from seed.
func layer(t *testing.T, size int64, seed int64) v1.Layer {
	t.Helper()
	l, err := random.Layer(size, types.OCILayer, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newSet builds four images: alpha 16 and 17 (one repository), beta 16 (another repository; its
// Postgres layer is alpha 16's) and gamma, all on one base layer. seed varies the per-image
// layers (0 gives the same set every time).
func newSet(t *testing.T, seed int64, size int64) *testSet {
	t.Helper()
	s := &testSet{base: layer(t, size*4, 1)}
	pg16, pg17 := layer(t, size, 1000+seed*10), layer(t, size, 1001+seed*10)
	own := func(n int64) v1.Layer { return layer(t, size/2, 2000+seed*10+n) }
	for i, spec := range []struct {
		name, repo, ver string
		layers          []v1.Layer
	}{
		{"alpha_16", "alpha", "16.13", []v1.Layer{s.base, pg16, own(1)}},
		{"alpha_17", "alpha", "17.9", []v1.Layer{s.base, pg17, own(2)}},
		{"beta_16", "beta", "16.13", []v1.Layer{s.base, pg16, own(3)}},
		{"gamma", "gamma", "1.0", []v1.Layer{s.base, own(4)}},
	} {
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), spec.layers...)
		if err != nil {
			t.Fatal(err)
		}
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		s.images = append(s.images, roundTrip(t, img, i))
		s.names, s.repos, s.vers = append(s.names, spec.name), append(s.repos, spec.repo), append(s.vers, spec.ver)
	}
	return s
}

// roundTrip writes img as an OCI layout and reads it back with image.ReadLayout, as imagetool
// push reads oci_image outputs.
func roundTrip(t *testing.T, img v1.Image, i int) v1.Image {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})); err != nil {
		t.Fatal(err)
	}
	back, err := image.ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// images returns the set as Images under the prefix, tagged from stamp.
func (s *testSet) publishImages(t *testing.T, prefix string, stamp tags.Stamp) []Image {
	t.Helper()
	repo, err := tags.ParseRepository(prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []Image
	for i, img := range s.images {
		ts, err := stamp.Tags(s.vers[i])
		if err != nil {
			t.Fatal(err)
		}
		im := Image{Name: s.names[i], Image: img}
		for _, tag := range ts {
			ref, err := repo.Ref(s.repos[i], tag)
			if err != nil {
				t.Fatal(err)
			}
			im.Tags = append(im.Tags, ref)
		}
		out = append(out, im)
	}
	return out
}

func devStamp(minute int) tags.Stamp {
	return tags.Stamp{Time: time.Date(2026, 11, 22, 15, minute, 0, 0, time.UTC)}
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
