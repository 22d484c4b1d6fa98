package registrytest

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a failure the proxy injects instead of (or after) forwarding a request.
type Fault string

// The faults a Proxy can inject.
const (
	Fault500        Fault = "500"         // answer 500 without forwarding
	Fault429        Fault = "429"         // answer 429 (TOOMANYREQUESTS) without forwarding
	FaultReset      Fault = "reset"       // reset the connection without forwarding
	FaultResetAfter Fault = "reset-after" // forward, let the registry act, then reset instead of answering
	FaultSlow       Fault = "slow"        // wait Faults.SlowDelay, then forward
)

// Faults configure fault injection: each request gets a fault with probability Rate, chosen
// uniformly from Kinds, by a generator seeded with Seed (the same seed gives the same sequence
// for the same requests).
type Faults struct {
	Rate      float64
	Kinds     []Fault
	Seed      uint64
	SlowDelay time.Duration // default 2s
}

// Counts are what a Proxy saw. Keys of Requests and Bytes are "METHOD kind", kind being one of
// ping, upload (blobs/uploads), blob, manifest, tags, catalog, other; Bytes counts request body
// bytes forwarded to the registry.
type Counts struct {
	Requests map[string]int
	Bytes    map[string]int64
	Faults   map[Fault]int
}

// UploadBytes is the number of blob upload bytes forwarded (layers and configs).
func (c Counts) UploadBytes() int64 {
	var n int64
	for k, v := range c.Bytes {
		if strings.HasSuffix(k, " upload") {
			n += v
		}
	}
	return n
}

// TotalFaults is the number of faults injected.
func (c Counts) TotalFaults() int {
	n := 0
	for _, v := range c.Faults {
		n += v
	}
	return n
}

// Proxy is a loopback reverse proxy in front of a Registry.
type Proxy struct {
	Host string // name:port, as clients write it in references (same name as the registry's)
	Addr string // 127.0.0.1:port

	reg    *Registry
	srv    *http.Server
	rp     *httputil.ReverseProxy
	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	counts Counts
}

// NewProxy starts a proxy in front of reg on 127.0.0.1, speaking TLS (a certificate from reg's
// CA) if reg does. Close stops it.
func NewProxy(reg *Registry, f Faults) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registrytest: proxy: %w", err)
	}
	p := &Proxy{reg: reg, Addr: l.Addr().String()}
	p.Host = fmt.Sprintf("%s:%d", reg.name, l.Addr().(*net.TCPAddr).Port)
	p.SetFaults(f)
	target, _ := url.Parse(reg.URL())
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		Transport: reg.Transport(),
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: p, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	if reg.CA != nil {
		cfg, err := reg.CA.ServerTLS(reg.name, "localhost", "127.0.0.1")
		if err != nil {
			l.Close()
			return nil, err
		}
		l = tls.NewListener(l, cfg)
	}
	go p.srv.Serve(l)
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

// SetFaults replaces the fault configuration (and reseeds the generator).
func (p *Proxy) SetFaults(f Faults) {
	if f.SlowDelay == 0 {
		f.SlowDelay = 2 * time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// Counts returns a copy of the counters; Reset zeroes them.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Counts{Requests: maps.Clone(p.counts.Requests), Bytes: maps.Clone(p.counts.Bytes), Faults: maps.Clone(p.counts.Faults)}
}

// Reset zeroes the counters.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = Counts{}
}

// pick draws the fault for one request and counts the request.
func (p *Proxy) pick(key string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts.Requests == nil {
		p.counts = Counts{Requests: map[string]int{}, Bytes: map[string]int64{}, Faults: map[Fault]int{}}
	}
	p.counts.Requests[key]++
	if len(p.faults.Kinds) == 0 || p.rng.Float64() >= p.faults.Rate {
		return ""
	}
	f := p.faults.Kinds[p.rng.IntN(len(p.faults.Kinds))]
	p.counts.Faults[f]++
	return f
}

func (p *Proxy) addBytes(key string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Bytes[key] += n
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + kind(r.URL.Path)
	fault := p.pick(key)
	body := &countingReader{r: r.Body}
	r.Body = body
	defer func() { p.addBytes(key, body.n.Load()) }()
	switch fault {
	case Fault500:
		registryError(w, http.StatusInternalServerError, "UNKNOWN", "injected fault")
	case Fault429:
		registryError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "injected fault")
	case FaultReset:
		reset(w)
	case FaultResetAfter:
		p.rp.ServeHTTP(discard{}, r)
		reset(w)
	case FaultSlow:
		select {
		case <-time.After(p.slowDelay()):
			p.rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func (p *Proxy) slowDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults.SlowDelay
}

// kind classifies a registry API path.
func kind(path string) string {
	switch {
	case path == "/v2/" || path == "/v2":
		return "ping"
	case path == "/v2/_catalog":
		return "catalog"
	case strings.Contains(path, "/blobs/uploads/") || strings.HasSuffix(path, "/blobs/uploads"):
		return "upload"
	case strings.Contains(path, "/blobs/"):
		return "blob"
	case strings.Contains(path, "/manifests/"):
		return "manifest"
	case strings.HasSuffix(path, "/tags/list"):
		return "tags"
	}
	return "other"
}

func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}

// reset closes the client connection with a TCP RST (SO_LINGER 0), without a TLS alert.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		registryError(w, http.StatusInternalServerError, "UNKNOWN", "cannot reset: not hijackable")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	raw.Close()
}

// countingReader counts the bytes read from a request body (atomically: the reverse proxy's
// transport reads it from its own goroutine).
type countingReader struct {
	r io.ReadCloser
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// discard is a ResponseWriter that drops the response (for FaultResetAfter).
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
