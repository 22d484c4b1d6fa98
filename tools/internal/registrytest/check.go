package registrytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Inventory is what Check found in the registry.
type Inventory struct {
	Repositories int
	Tags         int
	Blobs        int // blob references checked (per tag)
	// Broken lists "repo:tag: reason" for every tag whose manifest is missing or unreadable, or
	// names a blob the registry does not hold with the descriptor's size. It must be empty.
	Broken []string
}

// Auth is the registry's credentials as a go-containerregistry authenticator.
func (r *Registry) Auth() authn.Authenticator {
	if r.User == "" {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: r.User, Password: r.Password})
}

// Check walks every repository and tag of the registry, directly (never through a proxy), and
// checks that each tag resolves to a manifest whose blobs (config and layers; the children of an
// index) all exist with their descriptor's size.
func (r *Registry) Check(ctx context.Context) (Inventory, error) {
	p, err := remote.NewPuller(remote.WithContext(ctx), remote.WithTransport(r.Transport()), remote.WithAuth(r.Auth()))
	if err != nil {
		return Inventory{}, fmt.Errorf("registrytest: check: %w", err)
	}
	reg, err := name.NewRegistry(r.Host)
	if err != nil {
		return Inventory{}, fmt.Errorf("registrytest: check: %w", err)
	}
	repos, err := p.Catalog(ctx, reg)
	if err != nil {
		return Inventory{}, fmt.Errorf("registrytest: check: catalog: %w", err)
	}
	var inv Inventory
	for _, rs := range repos {
		repo, err := name.NewRepository(r.Host + "/" + rs)
		if err != nil {
			return inv, fmt.Errorf("registrytest: check: %w", err)
		}
		tags, err := p.List(ctx, repo)
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			tags, err = nil, nil // blobs but no manifest yet: distribution knows no tags
		}
		if err != nil {
			return inv, fmt.Errorf("registrytest: check: tags of %s: %w", rs, err)
		}
		inv.Repositories++
		sort.Strings(tags)
		for _, t := range tags {
			inv.Tags++
			n, err := checkRef(ctx, p, repo.Tag(t))
			inv.Blobs += n
			if err != nil {
				inv.Broken = append(inv.Broken, fmt.Sprintf("%s:%s: %v", rs, t, err))
			}
		}
	}
	return inv, nil
}

// checkRef checks one manifest (recursively for an index) and returns the blobs it checked.
func checkRef(ctx context.Context, p *remote.Puller, ref name.Reference) (int, error) {
	desc, err := p.Get(ctx, ref)
	if err != nil {
		return 0, fmt.Errorf("manifest: %w", err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return 0, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return 0, err
		}
		total := 0
		for _, m := range im.Manifests {
			n, err := checkRef(ctx, p, ref.Context().Digest(m.Digest.String()))
			total += n
			if err != nil {
				return total, fmt.Errorf("%s: %w", m.Digest, err)
			}
		}
		return total, nil
	}
	img, err := desc.Image()
	if err != nil {
		return 0, err
	}
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	return checkBlobs(ctx, p, ref.Context(), append([]v1.Descriptor{m.Config}, m.Layers...))
}

func checkBlobs(ctx context.Context, p *remote.Puller, repo name.Repository, blobs []v1.Descriptor) (int, error) {
	for i, d := range blobs {
		l, err := p.Layer(ctx, repo.Digest(d.Digest.String()))
		if err != nil {
			return i, fmt.Errorf("blob %s: %w", d.Digest, err)
		}
		size, err := l.Size()
		if err != nil {
			return i, fmt.Errorf("blob %s: %w", d.Digest, err)
		}
		if size != d.Size {
			return i, fmt.Errorf("blob %s: %d bytes, manifest says %d", d.Digest, size, d.Size)
		}
	}
	return len(blobs), nil
}
