package registrytest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Options configure a registry.
type Options struct {
	// Dir holds the configuration, the storage and the log (a test's TempDir). Required.
	Dir string
	// User and Password turn on htpasswd authentication when User is set.
	User, Password string
	// TLS serves HTTPS with a certificate from a throwaway CA (Registry.CA).
	TLS bool
	// Name is the host name clients use (default "registry.test" with TLS, "127.0.0.1"
	// without). With TLS it must not be a loopback name: go-containerregistry speaks plain
	// HTTP to those. Registry.DialContext resolves it to 127.0.0.1.
	Name string
}

// Registry is a running distribution registry on 127.0.0.1.
type Registry struct {
	Host     string // name:port, as clients write it in references
	Addr     string // 127.0.0.1:port, where it listens
	CA       *CA    // nil without TLS
	CAFile   string // the CA certificate, PEM (for SSL_CERT_FILE); "" without TLS
	User     string
	Password string
	LogFile  string
	name     string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start builds nothing: bin is the registry binary (see Binary). It starts the registry, waits
// until it answers /v2/ and returns it; Stop stops it.
func Start(ctx context.Context, bin string, o Options) (*Registry, error) {
	r, err := prepare(o)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err := r.start(ctx, bin, o)
		if err == nil {
			return r, nil
		}
		if attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
}

// prepare writes the htpasswd file and the TLS material.
func prepare(o Options) (*Registry, error) {
	if o.Dir == "" {
		return nil, errors.New("registrytest: Options.Dir is required")
	}
	r := &Registry{User: o.User, Password: o.Password, name: o.Name, LogFile: filepath.Join(o.Dir, "registry.log")}
	if r.name == "" {
		r.name = "127.0.0.1"
		if o.TLS {
			r.name = "registry.test"
		}
	}
	if o.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("registrytest: htpasswd: %w", err)
		}
		if err := os.WriteFile(filepath.Join(o.Dir, "htpasswd"), []byte(o.User+":"+string(hash)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("registrytest: %w", err)
		}
	}
	if !o.TLS {
		return r, nil
	}
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.Issue(r.name, "localhost", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	r.CA, r.CAFile = ca, filepath.Join(o.Dir, "ca.pem")
	for f, b := range map[string][]byte{r.CAFile: ca.PEM, filepath.Join(o.Dir, "cert.pem"): cert, filepath.Join(o.Dir, "key.pem"): key} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, fmt.Errorf("registrytest: %w", err)
		}
	}
	return r, nil
}

func (r *Registry) start(ctx context.Context, bin string, o Options) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	r.Host = fmt.Sprintf("%s:%d", r.name, port)
	cfg := filepath.Join(o.Dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config(o, r.Addr)), 0o600); err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	log, err := os.Create(r.LogFile)
	if err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	defer log.Close()
	r.cmd = exec.Command(bin, "serve", cfg)
	r.cmd.Stdout, r.cmd.Stderr = log, log
	r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("registrytest: starting %s: %w", bin, err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	if err := r.waitReady(ctx); err != nil {
		r.Stop()
		tail, _ := os.ReadFile(r.LogFile)
		return fmt.Errorf("registrytest: registry on %s: %w: %s", r.Addr, err, lastLines(string(tail), 5))
	}
	return nil
}

// config is the registry's configuration file.
func config(o Options, addr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n")
	fmt.Fprintf(&b, "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n", filepath.Join(o.Dir, "storage"))
	fmt.Fprintf(&b, "  maintenance:\n    uploadpurging:\n      enabled: false\n")
	fmt.Fprintf(&b, "http:\n  addr: %s\n  secret: registrytest\n  relativeurls: true\n", addr)
	if o.TLS {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", filepath.Join(o.Dir, "cert.pem"), filepath.Join(o.Dir, "key.pem"))
	}
	if o.User != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: registrytest\n    path: %s\n", filepath.Join(o.Dir, "htpasswd"))
	}
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("registrytest: no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (r *Registry) waitReady(ctx context.Context) error {
	client := &http.Client{Transport: r.Transport(), Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(r.URL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
	}
	return errors.New("not answering /v2/ after 30s")
}

// URL is the registry's base URL (https://name:port or http://127.0.0.1:port).
func (r *Registry) URL() string {
	if r.CA != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Stop stops the registry (SIGTERM, then SIGKILL after 5 s) by its PID and waits for it.
func (r *Registry) Stop() error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	select {
	case <-r.done:
		return nil
	default:
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("registrytest: stopping pid %d: %w", r.cmd.Process.Pid, err)
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
	return nil
}

// DialContext dials 127.0.0.1 for the registry's name (any port) and addr as given otherwise, so
// that a client can use the name in references without a DNS entry.
func (r *Registry) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && host == r.name {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Transport is an HTTP transport that reaches the registry by name and trusts its CA.
func (r *Registry) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = r.DialContext
	t.ForceAttemptHTTP2 = false
	if r.CA != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: r.CA.Pool()}
	}
	return t
}
