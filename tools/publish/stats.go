package publish

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
)

// Stats are counted on the wire, below go-containerregistry's retries, so every attempt counts.
type Stats struct {
	Requests int
	// FailedRequests were answered 408, 429 or 5xx, or not answered at all (reset, timeout):
	// each one was retried, or failed the run.
	FailedRequests int
	// UploadBytes are request body bytes of blob uploads (layers and configs);
	// ManifestBytes of manifest PUTs.
	UploadBytes, ManifestBytes int64
	// BlobsUploaded were committed after an upload, BlobsMounted came from another repository
	// of the same registry, BlobsExisting were already there (HEAD).
	BlobsUploaded, BlobsMounted, BlobsExisting int
}

// BytesSent is every request body byte sent.
func (s Stats) BytesSent() int64 { return s.UploadBytes + s.ManifestBytes }

// String is one line of key=value pairs, for logs and benchmark scripts.
func (s Stats) String() string {
	return fmt.Sprintf("requests=%d failed_requests=%d upload_bytes=%d manifest_bytes=%d blobs_uploaded=%d blobs_mounted=%d blobs_existing=%d",
		s.Requests, s.FailedRequests, s.UploadBytes, s.ManifestBytes, s.BlobsUploaded, s.BlobsMounted, s.BlobsExisting)
}

// counter is an http.RoundTripper that counts what passes through it.
type counter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	stats Stats
	// session holds the bytes sent so far per upload session (URL path); blobBytes the bytes of
	// each committed blob by digest; manifestBytes the bytes of manifest PUTs by URL path.
	session, blobBytes, manifestBytes map[string]int64
}

func newCounter(inner http.RoundTripper) *counter {
	return &counter{inner: inner, session: map[string]int64{}, blobBytes: map[string]int64{}, manifestBytes: map[string]int64{}}
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req
	var body *countingBody
	if req.Body != nil && req.Body != http.NoBody {
		out = req.Clone(req.Context())
		body = &countingBody{ReadCloser: req.Body}
		out.Body = body
	}
	resp, err := c.inner.RoundTrip(out)
	var n int64
	if body != nil {
		n = body.count()
	}
	c.record(req, n, resp, err)
	return resp, err
}

// record updates the counters for one request.
func (c *counter) record(req *http.Request, n int64, resp *http.Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Requests++
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err != nil || status == 408 || status == 429 || status >= 500 {
		c.stats.FailedRequests++
	}
	p := req.URL.Path
	switch {
	case strings.Contains(p, "/blobs/uploads/"):
		c.stats.UploadBytes += n
		c.session[p] += n
		if req.Method == http.MethodPost && status == http.StatusCreated && req.URL.Query().Get("mount") != "" {
			c.stats.BlobsMounted++
		}
		if d := req.URL.Query().Get("digest"); req.Method == http.MethodPut && d != "" && status == http.StatusCreated {
			c.stats.BlobsUploaded++
			c.blobBytes[d] += c.session[p]
			delete(c.session, p)
		}
	case strings.Contains(p, "/blobs/") && req.Method == http.MethodHead && status == http.StatusOK:
		c.stats.BlobsExisting++
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodPut:
		c.stats.ManifestBytes += n
		c.manifestBytes[p] += n
	}
}

// snapshot returns the counters and copies of the per-blob and per-manifest byte maps.
func (c *counter) snapshot() (Stats, map[string]int64, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats, maps.Clone(c.blobBytes), maps.Clone(c.manifestBytes)
}

// countingBody counts the bytes read from a request body; the transport reads it from its own
// goroutine, hence the lock.
type countingBody struct {
	io.ReadCloser
	mu sync.Mutex
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	b.mu.Unlock()
	return n, err
}

func (b *countingBody) count() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}
