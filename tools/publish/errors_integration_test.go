package publish

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/registrytest"
	"github.com/ci-images/ci-images/tools/tags"
)

// oneLineErr fails unless err is one line containing want.
func oneLineErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: error = %v, want one line containing %q", what, err, want)
		return
	}
	t.Logf("%s: %v", what, err)
}

// nothingWritten fails if the proxy saw any write since its last Reset.
func (e *integration) nothingWritten(t *testing.T, what string) {
	t.Helper()
	c := e.proxy.Counts()
	for k, n := range c.Requests {
		if !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "HEAD ") && n > 0 {
			t.Errorf("%s: %d %s request(s) reached the registry", what, n, k)
		}
	}
}

func TestIntegrationErrors(t *testing.T) {
	e := setup(t, registrytest.Faults{})
	imgs := newSet(t, 0, 4<<10).publishImages(t, e.proxy.Host+"/ci", devStamp(5))

	t.Setenv("DOCKER_CONFIG", dockerConfig(t, testUser, "wrong", e.reg.Host, e.proxy.Host))
	_, err := NewRegistry(e.options(time.Minute)).Publish(context.Background(), imgs)
	oneLineErr(t, "wrong credentials", err, "authentication failed (HTTP 401)")
	e.nothingWritten(t, "wrong credentials")

	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials at all
	_, err = NewRegistry(e.options(time.Minute)).Publish(context.Background(), imgs)
	oneLineErr(t, "no credentials", err, "authentication failed (HTTP 401)")
	e.nothingWritten(t, "no credentials")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	name, _, _ := net.SplitHostPort(e.proxy.Host)
	far := newSet(t, 0, 4<<10).publishImages(t, net.JoinHostPort(name, strconv.Itoa(closed))+"/ci", devStamp(5))
	start := time.Now()
	_, err = NewRegistry(e.options(time.Minute)).Publish(context.Background(), far)
	oneLineErr(t, "unreachable registry", err, "cannot reach the registry")
	if time.Since(start) > 5*time.Second {
		t.Errorf("unreachable registry: gave up after %v, want at once", time.Since(start))
	}

	_, err = tags.Repository("registry.test:5000//Ci", "")
	oneLineErr(t, "malformed repository", err, `--repository: invalid repository "registry.test:5000//Ci"`)

	e.nothingWritten(t, "all of the above")
	if inv := e.checkRegistry(t); inv.Repositories != 0 {
		t.Errorf("the registry holds %d repositories after failed pushes", inv.Repositories)
	}
}

// TestIntegrationSSLCertFile checks that the registry's CA is trusted through the normal
// mechanism: a child process (this test binary) pushes with the default transport, once with
// SSL_CERT_FILE naming the test CA, once naming another CA.
func TestIntegrationSSLCertFile(t *testing.T) {
	if os.Getenv("PUBLISH_TEST_CHILD_PREFIX") != "" {
		childPush(t, os.Getenv("PUBLISH_TEST_CHILD_PREFIX"))
		return
	}
	e := setup(t, registrytest.Faults{})
	other, err := registrytest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(t.TempDir(), "other-ca.pem")
	writeFile(t, otherFile, other.PEM)
	for _, tc := range []struct{ certFile, want string }{
		{e.reg.CAFile, "CHILD: 4 pushed"},
		{otherFile, "TLS certificate is not trusted"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationSSLCertFile$", "-test.v")
		cmd.Env = append(os.Environ(), "PUBLISH_TEST_CHILD_PREFIX="+e.reg.Host+"/ssl", "SSL_CERT_FILE="+tc.certFile, "SSL_CERT_DIR="+t.TempDir())
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("SSL_CERT_FILE=%s: child output does not say %q:\n%s", filepath.Base(tc.certFile), tc.want, out)
		}
	}
}

// childPush pushes a set with the default transport (system roots: SSL_CERT_FILE), resolving
// the registry's test name to 127.0.0.1, and prints the outcome.
func childPush(t *testing.T, prefix string) {
	host, _, _ := strings.Cut(prefix, ":")
	tr := DefaultTransport(nil)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, port, err := net.SplitHostPort(addr); err == nil && h == host {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dial(ctx, network, addr)
	}
	rs, err := NewRegistry(RegistryOptions{Transport: tr, Backoff: fastBackoff()}).Publish(context.Background(), newSet(t, 0, 4<<10).publishImages(t, prefix, devStamp(7)))
	if err != nil {
		t.Logf("CHILD ERROR: %v", err)
		return
	}
	t.Logf("CHILD: %d %s", len(rs), rs[0].Status)
}
