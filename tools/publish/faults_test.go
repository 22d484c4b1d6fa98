package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/registrytest"
)

// TestIntegrationFaults pushes a fresh set (new layers every time, a shared base) 24 times
// through a proxy that answers 500 or 429, resets the connection before or after the registry
// acted, or answers too late for the client, on 12% of requests. Every push must complete or
// fail with a one-line message, and after every push every tag in the registry must resolve to a
// manifest whose blobs all exist.
func TestIntegrationFaults(t *testing.T) {
	e := setup(t, registrytest.Faults{
		Rate:      0.12,
		Kinds:     []registrytest.Fault{registrytest.Fault500, registrytest.Fault429, registrytest.FaultReset, registrytest.FaultResetAfter, registrytest.FaultSlow},
		Seed:      20261122,
		SlowDelay: 1500 * time.Millisecond,
	})
	const pushes = 24
	ok, failed, retried, broken, tagsChecked := 0, 0, 0, 0, 0
	start := time.Now()
	for i := range pushes {
		imgs := newSet(t, int64(i+1), 48<<10).publishImages(t, e.proxy.Host+"/ci", devStamp(i))
		pub := NewRegistry(e.options(700 * time.Millisecond))
		rs, err := pub.Publish(context.Background(), imgs)
		retried += pub.Stats().FailedRequests
		if err != nil {
			failed++
			t.Logf("push %d failed: %v", i+1, err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("push %d: the error is more than one line: %q", i+1, err)
			}
		} else {
			ok++
			checkPulled(t, e.viaRegistry(t, imgs), e.direct()...)
			for _, r := range rs {
				if r.Status != Pushed {
					t.Errorf("push %d: %s is %s", i+1, r.Name, r.Status)
				}
			}
		}
		inv := e.checkRegistry(t)
		broken += len(inv.Broken)
		tagsChecked = inv.Tags
	}
	c := e.proxy.Counts()
	t.Logf("faults: %d pushes (%d completed, %d failed) in %v; %d faults injected %v; %d failed requests retried; %d tags checked after the last push; %d broken tags",
		pushes, ok, failed, time.Since(start).Round(time.Second), c.TotalFaults(), c.Faults, retried, tagsChecked, broken)
	if c.TotalFaults() < pushes || retried == 0 {
		t.Errorf("only %d faults injected and %d requests retried: the test did not exercise retries", c.TotalFaults(), retried)
	}
	if ok < pushes*3/4 {
		t.Errorf("only %d of %d pushes completed: retries are not doing their job", ok, pushes)
	}
	if broken != 0 {
		t.Errorf("%d broken tags", broken)
	}
}
