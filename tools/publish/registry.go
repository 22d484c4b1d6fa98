package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"
)

// RegistryOptions configure a Registry publisher; the zero value is ready to use.
type RegistryOptions struct {
	// Keychain finds credentials; default authn.DefaultKeychain (the docker config written by
	// docker login, and its credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport under retries and counting; default DefaultTransport(nil).
	Transport http.RoundTripper
	// Jobs is the number of parallel uploads per stage (default 4).
	Jobs int
	// Backoff paces retries of a failed request; default DefaultBackoff(). Steps < 1 means the
	// default.
	Backoff remote.Backoff
	// Progress receives progress lines while a run goes (nil: none), every ProgressInterval
	// (default 2 s) and when an image is complete.
	Progress         io.Writer
	ProgressInterval time.Duration
}

// DefaultTransport is go-containerregistry's transport trusting roots (nil: the system pool,
// which reads SSL_CERT_FILE and SSL_CERT_DIR), giving up on a response whose headers take more
// than 2 minutes (then the request is retried).
func DefaultTransport(roots *x509.CertPool) *http.Transport {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return t
}

// Registry publishes to container registries.
type Registry struct {
	o    RegistryOptions
	mu   sync.Mutex
	last *counter
}

// NewRegistry returns a registry publisher.
func NewRegistry(o RegistryOptions) *Registry {
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Transport == nil {
		o.Transport = DefaultTransport(nil)
	}
	if o.Jobs < 1 {
		o.Jobs = 4
	}
	if o.Backoff.Steps < 1 {
		o.Backoff = DefaultBackoff()
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 2 * time.Second
	}
	return &Registry{o: o}
}

// Stats are the wire counters of the last Publish.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		return Stats{}
	}
	s, _, _ := r.last.snapshot()
	return s
}

// Close closes idle connections of the default transport.
func (r *Registry) Close() error {
	if t, ok := r.o.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

func (r *Registry) remoteOptions(ctx context.Context, c *counter) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(r.o.Keychain),
		remote.WithTransport(c),
		remote.WithJobs(r.o.Jobs),
		remote.WithRetryBackoff(r.o.Backoff),
		remote.WithRetryPredicate(retryable(ctx)),
		remote.WithRetryStatusCodes(retryStatusCodes()...),
		remote.WithUserAgent("ci-images-publish"),
	}
}

// entry is one image of a run and what it needs.
type entry struct {
	im      Image
	digest  v1.Hash
	missing []name.Tag        // tags that do not point at digest yet
	repos   []name.Repository // the distinct repositories of missing
	written []name.Tag
	status  Status
}

// Publish publishes the images in four stages: (1) HEAD every tag, an image whose tags all
// point at its digest is unchanged and left alone; (2) upload each blob that several
// repositories of a registry need once, to the first of them; (3) push every other image by
// digest, blobs first (HEAD-skipped, mounted, uploaded), then the manifest; (4) only when every
// image is complete, write the tags (manifest-only PUTs).
func (r *Registry) Publish(ctx context.Context, images []Image) ([]Result, error) {
	digests, err := validate(images)
	if err != nil {
		return nil, oneLine("publish", err)
	}
	c := newCounter(r.o.Transport)
	r.mu.Lock()
	r.last = c
	r.mu.Unlock()
	opts := r.remoteOptions(ctx, c)
	es := make([]*entry, len(images))
	for i, im := range images {
		es[i] = &entry{im: im, digest: digests[i], status: Failed}
	}
	if err := r.headTags(ctx, es, opts); err != nil {
		return results(es, c), err
	}
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return results(es, c), oneLine("publish", err)
	}
	todo := countTodo(es)
	prog := startProgress(r.o.Progress, r.o.ProgressInterval, todo, len(es)-todo, func() Stats { s, _, _ := c.snapshot(); return s })
	err = r.upload(ctx, p, es, prog)
	prog.stop()
	if err == nil {
		err = r.writeTags(ctx, p, es)
	}
	return results(es, c), err
}

func countTodo(es []*entry) int {
	n := 0
	for _, e := range es {
		if e.status != Unchanged {
			n++
		}
	}
	return n
}

// headTags finds, for every image, the tags that do not point at its digest yet.
func (r *Registry) headTags(ctx context.Context, es []*entry, opts []remote.Option) error {
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return oneLine("publish", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Jobs)
	for _, e := range es {
		g.Go(func() error {
			for _, t := range e.im.Tags {
				desc, err := puller.Head(gctx, t)
				var terr *transport.Error
				switch {
				case errors.As(err, &terr) && unknownTag(terr.StatusCode):
				case err != nil:
					return oneLine("checking "+t.String(), err)
				case desc.Digest == e.digest:
					continue
				}
				e.missing = append(e.missing, t)
				e.repos = addRepo(e.repos, t.Context())
			}
			if len(e.missing) == 0 {
				e.status = Unchanged
			}
			return nil
		})
	}
	return g.Wait()
}

// unknownTag says whether a HEAD answer means "not known to be there": 404, and also 401/403,
// which some registries (Docker Hub) give for a repository that does not exist yet. Credentials
// are then checked by the first write, before anything is written.
func unknownTag(status int) bool {
	return status == http.StatusNotFound || status == http.StatusUnauthorized || status == http.StatusForbidden
}

func addRepo(repos []name.Repository, r name.Repository) []name.Repository {
	for _, x := range repos {
		if x.String() == r.String() {
			return repos
		}
	}
	return append(repos, r)
}
