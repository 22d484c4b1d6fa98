package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ci-images/ci-images/tools/internal/registrytest"
	"github.com/ci-images/ci-images/tools/tags"
)

// The tests in this file push to the CNCF distribution registry (registrytest), with TLS from a
// throwaway CA and htpasswd credentials found through the docker config (DOCKER_CONFIG), as
// `docker login` writes it, behind a loopback proxy that counts bytes and injects faults.

const (
	testUser     = "ci"
	testPassword = "s3cret"
)

type integration struct {
	reg   *registrytest.Registry
	proxy *registrytest.Proxy
}

func setup(t *testing.T, f registrytest.Faults) *integration {
	t.Helper()
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING registry integration test: set CI_IMAGES_INTEGRATION=1 to build and run " + registrytest.DistributionModule + "@" + registrytest.DistributionVersion)
	}
	bin, took, err := registrytest.Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if took > 0 {
		t.Logf("built the registry in %v", took.Round(time.Second))
	}
	reg, err := registrytest.Start(context.Background(), bin, registrytest.Options{Dir: t.TempDir(), TLS: true, User: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Stop() })
	proxy, err := registrytest.NewProxy(reg, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	t.Setenv("DOCKER_CONFIG", dockerConfig(t, testUser, testPassword, reg.Host, proxy.Host))
	return &integration{reg: reg, proxy: proxy}
}

// dockerConfig writes a docker config.json holding credentials for hosts, as docker login does,
// and returns its directory.
func dockerConfig(t *testing.T, user, password string, hosts ...string) string {
	t.Helper()
	auths := map[string]map[string]string{}
	for _, h := range hosts {
		auths[h] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), b)
	return dir
}

// options publish through the proxy with the default keychain, trusting the test CA.
func (e *integration) options(headerTimeout time.Duration) RegistryOptions {
	tr := e.reg.Transport()
	tr.ResponseHeaderTimeout = headerTimeout
	return RegistryOptions{Transport: tr, Backoff: fastBackoff()}
}

// direct are options reaching the registry itself (not the proxy), for checks.
func (e *integration) direct() []remote.Option {
	return []remote.Option{remote.WithTransport(e.reg.Transport()), remote.WithAuth(e.reg.Auth())}
}

// viaRegistry rewrites references from the proxy's host to the registry's.
func (e *integration) viaRegistry(t *testing.T, imgs []Image) []Image {
	out := make([]Image, len(imgs))
	for i, im := range imgs {
		out[i] = Image{Name: im.Name, Image: im.Image}
		for _, tag := range im.Tags {
			out[i].Tags = append(out[i].Tags, mustTag(t, strings.Replace(tag.String(), e.proxy.Host, e.reg.Host, 1)))
		}
	}
	return out
}

func (e *integration) checkRegistry(t *testing.T) registrytest.Inventory {
	t.Helper()
	inv, err := e.reg.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range inv.Broken {
		t.Errorf("broken tag: %s", b)
	}
	return inv
}

func TestIntegrationPushTwiceAndDryRun(t *testing.T) {
	e := setup(t, registrytest.Faults{})
	set := newSet(t, 0, 256<<10)
	imgs := set.publishImages(t, e.proxy.Host+"/ci", devStamp(30))
	var progress bytes.Buffer
	o := e.options(time.Minute)
	o.Progress = &progress
	pub := NewRegistry(o)
	start := time.Now()
	rs, err := pub.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	first, firstAt := pub.Stats(), e.proxy.Counts()
	t.Logf("first push in %v:\n%s%s", time.Since(start).Round(time.Millisecond), progress.String(), summary(t, rs))
	for _, r := range rs {
		if r.Status != Pushed {
			t.Errorf("first push: %s is %s", r.Name, r.Status)
		}
	}
	// 7 distinct layers and 4 configs, each uploaded once; the base layer mounted into beta and
	// gamma, alpha's Postgres 16 layer into beta.
	if first.BlobsUploaded != 11 || first.BlobsMounted != 3 {
		t.Errorf("first push: %d blobs uploaded (want 11), %d mounted (want 3)", first.BlobsUploaded, first.BlobsMounted)
	}
	if !strings.Contains(first.String(), "blobs_uploaded=11 blobs_mounted=3") {
		t.Errorf("Stats.String() = %q", first.String())
	}
	if firstAt.UploadBytes() != first.UploadBytes || first.UploadBytes < 8*256<<10 {
		t.Errorf("upload bytes: %d at the proxy, %d counted by the publisher", firstAt.UploadBytes(), first.UploadBytes)
	}
	checkPulled(t, e.viaRegistry(t, imgs), e.direct()...)

	e.proxy.Reset()
	start = time.Now()
	rs, err = pub.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	second := e.proxy.Counts()
	t.Logf("second push in %v, %d requests (%v), %d upload bytes at the proxy:\n%s", time.Since(start).Round(time.Millisecond), total(second.Requests), second.Requests, second.UploadBytes(), summary(t, rs))
	for _, r := range rs {
		if r.Status != Unchanged || r.BytesSent != 0 {
			t.Errorf("second push: %s is %s with %d bytes", r.Name, r.Status, r.BytesSent)
		}
	}
	if second.UploadBytes() != 0 || second.Requests["PUT manifest"] != 0 || second.Requests["POST upload"] != 0 {
		t.Errorf("second push wrote: %v", second.Requests)
	}

	e.proxy.Reset()
	var out bytes.Buffer
	dry := set.publishImages(t, e.proxy.Host+"/ci", tags.Stamp{Release: true, Commit: "0a28d32c1f9e"})
	if _, err := NewDryRun(&out).Publish(context.Background(), dry); err != nil {
		t.Fatal(err)
	}
	if n := total(e.proxy.Counts().Requests); n != 0 || strings.Count(out.String(), "would push ") != 8 {
		t.Errorf("dry run: %d requests, output:\n%s", n, out.String())
	}
	if inv := e.checkRegistry(t); inv.Tags != 4 || inv.Repositories != 3 {
		t.Errorf("registry holds %+v, want 4 tags in 3 repositories", inv)
	}
}

func summary(t *testing.T, rs []Result) string {
	var b bytes.Buffer
	if err := WriteSummary(&b, rs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
