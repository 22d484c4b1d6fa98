package publish

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ci-images/ci-images/tools/tags"
)

// These tests run anywhere (bazel test included): go-containerregistry's registry
// (pkg/registry) on 127.0.0.1 over plain HTTP. The same behaviour against the CNCF distribution
// registry with TLS, htpasswd and injected faults is in integration_test.go.

func fastBackoff() remote.Backoff {
	return remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 6}
}

func anonymous() RegistryOptions {
	return RegistryOptions{Keychain: authn.NewMultiKeychain(), Backoff: fastBackoff()}
}

func TestRegistryPushUnchangedRetag(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	prefix := strings.TrimPrefix(srv.URL, "http://") + "/ci"
	set := newSet(t, 0, 32<<10)
	var progress bytes.Buffer
	o := anonymous()
	o.Progress = &progress
	pub := NewRegistry(o)
	defer pub.Close()

	imgs := set.publishImages(t, prefix, devStamp(30))
	rs, err := pub.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	first := pub.Stats()
	for i, r := range rs {
		if r.Status != Pushed || r.Name != imgs[i].Name {
			t.Errorf("first push: %s is %s", r.Name, r.Status)
		}
	}
	if rs[0].BytesSent < 4*32<<10 || first.UploadBytes < 7*32<<10 || first.BlobsUploaded < 7 {
		t.Errorf("first push: %s sent by alpha_16, stats %+v", FormatBytes(rs[0].BytesSent), first)
	}
	checkPulled(t, imgs)
	if !strings.Contains(progress.String(), "[4/4] ") || !strings.Contains(progress.String(), "gamma complete") {
		t.Errorf("progress:\n%s", progress.String())
	}

	rs, err = pub.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != Unchanged || r.BytesSent != 0 {
			t.Errorf("second push: %s is %s, %d bytes", r.Name, r.Status, r.BytesSent)
		}
	}
	if s := pub.Stats(); s.BytesSent() != 0 || s.BlobsUploaded != 0 {
		t.Errorf("second push sent %+v", s)
	}

	// Release tags for the same digests: only manifest PUTs, no blob.
	rel := set.publishImages(t, prefix, tags.Stamp{Release: true, Commit: "0a28d32c1f9e"})
	if _, err := pub.Publish(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
	if s := pub.Stats(); s.UploadBytes != 0 || s.ManifestBytes == 0 || s.BlobsUploaded != 0 {
		t.Errorf("retag sent %+v, want manifests only", s)
	}
	checkPulled(t, rel)
}

// checkPulled pulls every tag back and compares digests.
func checkPulled(t *testing.T, imgs []Image, opts ...remote.Option) {
	t.Helper()
	for _, im := range imgs {
		want, _ := im.Image.Digest()
		for _, tag := range im.Tags {
			got, err := remote.Image(tag, opts...)
			if err != nil {
				t.Errorf("pull %s: %v", tag, err)
				continue
			}
			if d, _ := got.Digest(); d != want {
				t.Errorf("pull %s: digest %s, want %s", tag, d, want)
			}
			if ls, err := got.Layers(); err != nil || len(ls) == 0 {
				t.Errorf("pull %s: layers %d, %v", tag, len(ls), err)
			}
		}
	}
}

// unreadable is a layer whose bytes cannot be read (a disk error in the middle of a run).
type unreadable struct{ v1.Layer }

func (unreadable) Compressed() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }

func TestRegistryNoTagUntilEveryImageIsComplete(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	prefix := strings.TrimPrefix(srv.URL, "http://") + "/ci"
	set := newSet(t, 0, 16<<10)
	bad, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), unreadable{layer(t, 1000, 99)})
	if err != nil {
		t.Fatal(err)
	}
	imgs := set.publishImages(t, prefix, devStamp(31))
	imgs = append(imgs, Image{Name: "broken", Image: bad, Tags: []name.Tag{mustTag(t, prefix+"/broken:1")}})
	rs, err := NewRegistry(anonymous()).Publish(context.Background(), imgs)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v, want one line naming the cause", err)
	}
	for _, r := range rs {
		if r.Status != Failed {
			t.Errorf("%s: %s, want failed", r.Name, r.Status)
		}
	}
	for _, im := range imgs {
		for _, tag := range im.Tags {
			if _, err := remote.Head(tag); err == nil {
				t.Errorf("%s exists after a failed run", tag)
			}
		}
	}
}

func TestRegistryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // nothing listens there any more
	set := newSet(t, 0, 1<<10)
	start := time.Now()
	_, err := NewRegistry(anonymous()).Publish(context.Background(), set.publishImages(t, host+"/ci", devStamp(1)))
	if err == nil || !strings.Contains(err.Error(), "cannot reach the registry") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v, want one line saying the registry cannot be reached", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("a refused connection took %v: it must not be retried", time.Since(start))
	}
}
