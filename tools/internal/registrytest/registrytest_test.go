package registrytest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// upstream is a Registry value standing for a plain-HTTP server (no binary), for proxy tests.
func upstream(t *testing.T, h http.Handler) *Registry {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &Registry{name: "127.0.0.1", Host: addr, Addr: addr}
}

func TestProxyCountsBytesPerKind(t *testing.T) {
	var mu sync.Mutex
	var got []string
	reg := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b)+" host="+r.Host)
		w.WriteHeader(http.StatusAccepted)
	}))
	p, err := NewProxy(reg, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do(t, "PATCH", "http://"+p.Host+"/v2/a/b/blobs/uploads/uuid", "0123456789")
	do(t, "PUT", "http://"+p.Host+"/v2/a/b/manifests/t1", "{}")
	do(t, "HEAD", "http://"+p.Host+"/v2/a/b/blobs/sha256:00", "")
	c := p.Counts()
	if c.UploadBytes() != 10 || c.Bytes["PUT manifest"] != 2 || c.Requests["HEAD blob"] != 1 || c.TotalFaults() != 0 {
		t.Errorf("counts = %+v", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0] != "PATCH /v2/a/b/blobs/uploads/uuid 0123456789 host="+p.Host {
		t.Errorf("upstream saw %q (want the client's Host kept)", got)
	}
	p.Reset()
	if c := p.Counts(); len(c.Requests) != 0 {
		t.Errorf("after Reset: %+v", c)
	}
}

func do(t *testing.T, method, url, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestProxyFaults(t *testing.T) {
	var forwarded atomic.Int32
	reg := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forwarded.Add(1) }))
	for _, tc := range []struct {
		fault     Fault
		status    int
		reset     bool
		forwarded int32
	}{
		{Fault500, 500, false, 0},
		{Fault429, 429, false, 0},
		{FaultReset, 0, true, 0},
		{FaultResetAfter, 0, true, 1},
		{FaultSlow, 200, false, 1},
	} {
		forwarded.Store(0)
		p, err := NewProxy(reg, Faults{Rate: 1, Kinds: []Fault{tc.fault}, SlowDelay: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := do(t, "GET", "http://"+p.Host+"/v2/", "")
		switch {
		case tc.reset && !errors.Is(err, syscall.ECONNRESET):
			t.Errorf("%s: error %v, want a connection reset", tc.fault, err)
		case !tc.reset && (err != nil || resp.StatusCode != tc.status):
			t.Errorf("%s: %v %v, want status %d", tc.fault, resp, err, tc.status)
		}
		if tc.fault == FaultSlow && time.Since(start) < 100*time.Millisecond {
			t.Errorf("slow: answered after %v", time.Since(start))
		}
		if forwarded.Load() != tc.forwarded || p.Counts().Faults[tc.fault] != 1 {
			t.Errorf("%s: forwarded %d (want %d), counts %+v", tc.fault, forwarded.Load(), tc.forwarded, p.Counts())
		}
		p.Close()
	}
}

func TestProxyFaultRate(t *testing.T) {
	reg := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	p, err := NewProxy(reg, Faults{Rate: 0.25, Kinds: []Fault{Fault500}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 400 {
		do(t, "GET", "http://"+p.Host+"/v2/", "")
	}
	if n := p.Counts().Faults[Fault500]; n < 60 || n > 140 {
		t.Errorf("%d faults in 400 requests at rate 0.25", n)
	}
}

func TestCA(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ca.ServerTLS("registry.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "registry.test"}}}
	if _, err := trusting.Get(srv.URL); err != nil {
		t.Errorf("a client trusting the CA: %v", err)
	}
	other, _ := NewCA()
	untrusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other.Pool(), ServerName: "registry.test"}}}
	if _, err := untrusting.Get(srv.URL); err == nil {
		t.Error("a client trusting another CA connected")
	}
}

// start builds (or finds) the registry binary and starts a registry; gated like every
// integration test.
func start(t *testing.T, o Options) *Registry {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING registry test: set CI_IMAGES_INTEGRATION=1 to build " + DistributionModule + "@" + DistributionVersion + " and run it")
	}
	bin, took, err := Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if took > 0 {
		t.Logf("built the registry in %v", took.Round(time.Second))
	}
	o.Dir = t.TempDir()
	r, err := Start(context.Background(), bin, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	return r
}

func TestRegistryTLSAuth(t *testing.T) {
	r := start(t, Options{TLS: true, User: "ci", Password: "secret"})
	client := &http.Client{Transport: r.Transport()}
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"ci", "wrong", 401}, {"ci", "secret", 200}} {
		req, _ := http.NewRequest("GET", r.URL()+"/v2/", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /v2/ as %q/%q: %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.want)
		}
	}
	inv, err := r.Check(context.Background())
	if err != nil || inv.Repositories != 0 || len(inv.Broken) != 0 {
		t.Errorf("empty registry: %+v, %v", inv, err)
	}
	pid := r.cmd.Process.Pid
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d still exists after Stop: %v", pid, err)
	}
}
