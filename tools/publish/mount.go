package publish

import (
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// mountedImage is an image whose blobs (layers and config) may be remote.MountableLayers: the
// pusher then asks the registry to mount them from their home repository instead of uploading.
type mountedImage struct {
	v1.Image
	layers []v1.Layer
	config v1.Layer
}

func (m *mountedImage) Layers() ([]v1.Layer, error)    { return m.layers, nil }
func (m *mountedImage) ConfigLayer() (v1.Layer, error) { return m.config, nil }

// mountable returns img for pushing into repo: every blob whose home (see sharedBlobs) is
// another repository of the same registry becomes mountable from there. Without such blobs it
// returns img itself.
func mountable(img v1.Image, repo name.Repository, homes map[string]*shared) (v1.Image, error) {
	ls, err := blobsOf(img)
	if err != nil {
		return nil, err
	}
	changed := false
	for i, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		s := homes[repo.RegistryStr()+"@"+d.String()]
		if s == nil || s.home.String() == repo.String() {
			continue
		}
		ls[i] = &remote.MountableLayer{Layer: l, Reference: s.home.Digest(d.String())}
		changed = true
	}
	if !changed {
		return img, nil
	}
	return &mountedImage{Image: img, layers: ls[:len(ls)-1], config: ls[len(ls)-1]}, nil
}
