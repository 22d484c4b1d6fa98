package publish

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestLayoutPublisher(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	set := newSet(t, 0, 8<<10)
	imgs := set.publishImages(t, "registry.example/ci", devStamp(10))
	l := NewLayout(dir)
	rs, err := l.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != Pushed || r.BytesSent == 0 {
			t.Errorf("first: %s %s %d", r.Name, r.Status, r.BytesSent)
		}
	}
	if rs[2].BytesSent >= rs[0].BytesSent {
		t.Errorf("beta_16 (base and Postgres layers already written) cost %d, alpha_16 %d", rs[2].BytesSent, rs[0].BytesSent)
	}
	rs, err = l.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != Unchanged || r.BytesSent != 0 {
			t.Errorf("second: %s %s %d", r.Name, r.Status, r.BytesSent)
		}
	}
	// The same tag for another image replaces the entry.
	moved := []Image{{Name: "moved", Image: set.images[1], Tags: imgs[0].Tags}}
	if rs, err := l.Publish(context.Background(), moved); err != nil || rs[0].Status != Pushed {
		t.Fatalf("retag: %v %v", rs, err)
	}
	refs, err := l.refs(layout.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := set.images[1].Digest()
	if len(refs) != 4 || refs[imgs[0].Tags[0].String()] != want {
		t.Errorf("index refs = %v, want 4 with %s -> %s", refs, imgs[0].Tags[0], want)
	}
}

func TestDryRun(t *testing.T) {
	set := newSet(t, 0, 1<<10)
	imgs := set.publishImages(t, "registry.example/ci", devStamp(10))
	var out bytes.Buffer
	rs, err := NewDryRun(&out).Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := set.images[0].Digest()
	want := fmt.Sprintf("would push registry.example/ci/alpha:16.13-dev202611221510 (%s, alpha_16)\n", d)
	if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 4 {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	if rs[3].Status != WouldPush {
		t.Errorf("status %s", rs[3].Status)
	}
	if _, err := NewDryRun(&out).Publish(context.Background(), []Image{{Name: "x", Image: set.images[0]}}); err == nil {
		t.Error("an image without tags was accepted")
	}
}

func TestWriteSummary(t *testing.T) {
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	rs := []Result{
		{Name: "exttester_16", Digest: h, Tags: []name.Tag{mustTag(t, "ghcr.io/citusdata/exttester:16.13"), mustTag(t, "ghcr.io/citusdata/exttester:16.13-v0a28d32")}, Status: Pushed, BytesSent: 1234567},
		{Name: "stylechecker", Digest: h, Tags: []name.Tag{mustTag(t, "ghcr.io/citusdata/stylechecker:0.8.18")}, Status: Unchanged},
	}
	var b bytes.Buffer
	if err := WriteSummary(&b, rs); err != nil {
		t.Fatal(err)
	}
	want := `IMAGE         DIGEST               TAGS                                                                           SENT    STATUS
exttester_16  sha256:abababababab  ghcr.io/citusdata/exttester:16.13, ghcr.io/citusdata/exttester:16.13-v0a28d32  1.2 MB  pushed
stylechecker  sha256:abababababab  ghcr.io/citusdata/stylechecker:0.8.18                                          0 B     unchanged
2 image(s): 1 pushed, 1 unchanged; 1.2 MB sent
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 45_149_000: "45.1 MB", 1_300_000_000: "1.30 GB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRetryable(t *testing.T) {
	ctx := context.Background()
	urlErr := func(err error) error { return &url.Error{Op: "Patch", URL: "https://r/v2/x?_state=abc", Err: err} }
	timeout := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&transport.Error{StatusCode: 500}, true},
		{&transport.Error{StatusCode: 429}, true},
		{&transport.Error{StatusCode: 503}, true},
		{&transport.Error{StatusCode: 401}, false},
		{&transport.Error{StatusCode: 404}, false},
		{urlErr(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), true},
		{urlErr(io.ErrUnexpectedEOF), true},
		{urlErr(timeout), true},
		{urlErr(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), false},
		{urlErr(&net.DNSError{Err: "no such host", Name: "r", IsNotFound: true}), false},
		{urlErr(x509.UnknownAuthorityError{}), false},
		{context.Canceled, false},
		{errors.New("manifest invalid"), false},
	} {
		if got := retryable(ctx)(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if retryable(done)(&transport.Error{StatusCode: 500}) {
		t.Error("a 500 is retried after the run was cancelled")
	}
}

func TestOneLine(t *testing.T) {
	err := oneLine("pushing x", &url.Error{Op: "Patch", URL: "https://r/v2/x/blobs/uploads/u?_state=long", Err: errors.New("line one\nline two")})
	if err.Error() != "pushing x: Patch https://r/v2/x/blobs/uploads/u: line one line two" {
		t.Errorf("oneLine = %q", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Error("the cause is not reachable with errors.As")
	}
	auth := oneLine("checking t", &transport.Error{StatusCode: 401})
	if !strings.Contains(auth.Error(), "authentication failed (HTTP 401)") {
		t.Errorf("401: %q", auth)
	}
	if got := oneLine("outer", oneLine("inner", errors.New("cause"))); got.Error() != "outer: inner: cause" {
		t.Errorf("nested: %q", got)
	}
}
