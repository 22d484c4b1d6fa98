package publish

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// blobsOf returns an image's layers and its config, as layers.
func blobsOf(img v1.Image) ([]v1.Layer, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	cl, err := partial.ConfigLayer(img)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := make([]v1.Layer, 0, len(ls)+1) // a copy: callers replace entries
	return append(append(out, ls...), cl), nil
}

// shared is a blob that several repositories of one registry need, and the repository it is
// uploaded to first (its home); the others mount it from there.
type shared struct {
	home  name.Repository
	layer v1.Layer
	repos int
}

// sharedBlobs finds the blobs that more than one repository of a registry needs in this run,
// keyed by registry and digest.
func sharedBlobs(es []*entry) (map[string]*shared, error) {
	all := map[string]*shared{}
	seen := map[string]bool{} // key + repository
	for _, e := range es {
		if e.status == Unchanged {
			continue
		}
		ls, err := blobsOf(e.im.Image)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", e.im.Name, err)
		}
		for _, repo := range e.repos {
			for _, l := range ls {
				d, err := l.Digest()
				if err != nil {
					return nil, fmt.Errorf("image %s: %w", e.im.Name, err)
				}
				key := repo.RegistryStr() + "@" + d.String()
				if seen[key+" "+repo.RepositoryStr()] {
					continue
				}
				seen[key+" "+repo.RepositoryStr()] = true
				if all[key] == nil {
					all[key] = &shared{home: repo, layer: l}
				}
				all[key].repos++
			}
		}
	}
	for k, s := range all {
		if s.repos < 2 {
			delete(all, k)
		}
	}
	return all, nil
}

// upload uploads the shared blobs to their homes, then pushes every image that has tags to
// write by digest (blobs, then manifest), into each repository of those tags.
func (r *Registry) upload(ctx context.Context, p *remote.Pusher, es []*entry, prog *progress) error {
	homes, err := sharedBlobs(es)
	if err != nil {
		return oneLine("publish", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Jobs)
	for _, s := range homes {
		g.Go(func() error {
			if err := p.Upload(gctx, s.home, s.layer); err != nil {
				d, _ := s.layer.Digest()
				return oneLine(fmt.Sprintf("uploading %s to %s", d, s.home), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(r.o.Jobs)
	for _, e := range es {
		if e.status == Unchanged {
			continue
		}
		g.Go(func() error { return pushImage(gctx, p, e, homes, prog) })
	}
	return g.Wait()
}

// pushImage pushes one image by digest into each repository it goes to.
func pushImage(ctx context.Context, p *remote.Pusher, e *entry, homes map[string]*shared, prog *progress) error {
	for _, repo := range e.repos {
		img, err := mountable(e.im.Image, repo, homes)
		if err != nil {
			return oneLine("image "+e.im.Name, err)
		}
		if err := p.Push(ctx, repo.Digest(e.digest.String()), img); err != nil {
			return oneLine(fmt.Sprintf("pushing %s to %s", e.im.Name, repo), err)
		}
	}
	prog.imageDone(e.im.Name)
	return nil
}

// writeTags writes every missing tag; it runs only once every image of the run is complete.
func (r *Registry) writeTags(ctx context.Context, p *remote.Pusher, es []*entry) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Jobs)
	for _, e := range es {
		if e.status == Unchanged {
			continue
		}
		g.Go(func() error {
			for _, t := range e.missing {
				if err := p.Put(gctx, t, e.im.Image); err != nil {
					return oneLine("tagging "+t.String(), err)
				}
				e.written = append(e.written, t)
			}
			e.status = Pushed
			return nil
		})
	}
	return g.Wait()
}

// results turns the entries into Results, with the bytes each image cost: its blobs' uploads
// (a blob shared with an earlier image is counted there) and its manifest PUTs.
func results(es []*entry, c *counter) []Result {
	_, blobBytes, manifestBytes := c.snapshot()
	counted := map[string]bool{}
	out := make([]Result, len(es))
	for i, e := range es {
		var sent int64
		if ls, err := blobsOf(e.im.Image); err == nil {
			for _, l := range ls {
				if d, err := l.Digest(); err == nil && !counted[d.String()] {
					counted[d.String()] = true
					sent += blobBytes[d.String()]
				}
			}
		}
		for _, repo := range e.repos {
			sent += manifestBytes["/v2/"+repo.RepositoryStr()+"/manifests/"+e.digest.String()]
		}
		for _, t := range e.missing {
			sent += manifestBytes["/v2/"+t.Context().RepositoryStr()+"/manifests/"+t.TagStr()]
		}
		out[i] = Result{Name: e.im.Name, Digest: e.digest, Tags: e.im.Tags, Status: e.status, BytesSent: sent}
	}
	return out
}
