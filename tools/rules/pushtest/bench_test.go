package pushtest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/registrytest"
	"github.com/ci-images/ci-images/tools/publish"
)

// BenchEnv names the results file of bench/push/run.sh; TestBenchmarkPush runs only when it is set.
const BenchEnv = "CI_IMAGES_PUSH_BENCH"

// measure is one push: its wall time and what the proxy saw.
type measure struct {
	what        string
	took        time.Duration
	upload, all int64 // blob upload bytes; every request body byte
	requests    int
}

func (h *harness) measure(t *testing.T, what string, push func()) measure {
	t.Helper()
	h.proxy.Reset()
	start := time.Now()
	push()
	m := measure{what: what, took: time.Since(start)}
	c := h.proxy.Counts()
	m.upload = c.UploadBytes()
	for _, n := range c.Bytes {
		m.all += n
	}
	for _, n := range c.Requests {
		m.requests += n
	}
	t.Logf("%s: %v, %s uploaded, %d requests", what, m.took.Round(10*time.Millisecond), publish.FormatBytes(m.upload), m.requests)
	return m
}

// TestBenchmarkPush is bench/push/run.sh: push_all into an empty registry and again, next to
// `docker push` of the same images loaded into the Docker engine, same registry, same run.
func TestBenchmarkPush(t *testing.T) {
	out := os.Getenv(BenchEnv)
	if out == "" {
		t.Skip("benchmark: run bench/push/run.sh")
	}
	h := newHarness(t, "", "")
	load := loadAvg()
	h.mustBazel(t, nil, "build", "//images:push_all")
	cfg := h.pushConfig(t, "push_all")
	var loaded []string // the engine's tags of the images, from their _load targets
	for _, im := range cfg.Images {
		r := h.mustBazel(t, nil, "run", "//images:"+im.Name+"_load")
		tag, _, _ := strings.Cut(strings.TrimPrefix(lastStdoutLine(r.stdout), "loaded "), " ")
		loaded = append(loaded, tag)
	}
	ours := h.proxy.Host + "/ours"
	run := func() { h.mustBazel(t, nil, "run", "//images:push_all", "--", "--repository="+ours) }
	script := func() {
		cmd := exec.Command(h.bin("images", "push_all.sh"), "--repository="+ours)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("push_all.sh: %v\n%s", err, b)
		}
	}
	ms := []measure{
		h.measure(t, "push_all, first (tools/bazel run)", run),
		h.measure(t, "push_all, second (tools/bazel run)", run),
		h.measure(t, "push_all, second (bazel-bin script, no Bazel client)", script),
	}
	var refs []string
	for i, im := range cfg.Images {
		ref := h.proxy.Host + "/docker/" + im.Repository + ":" + strings.Join(im.Versions, "-")
		docker(t, "tag", loaded[i], ref)
		t.Cleanup(func() { exec.Command("docker", "rmi", ref).Run() })
		refs = append(refs, ref)
	}
	dockerPush := func() {
		for _, ref := range refs {
			docker(t, "push", ref)
		}
	}
	ms = append(ms, h.measure(t, "docker push, first", dockerPush), h.measure(t, "docker push, second", dockerPush))
	report := benchReport(cfg, loaded, ms) + "load average (1, 5, 15 min) before: " + load + ", after: " + loadAvg() + "\n"
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
}

func docker(t *testing.T, args ...string) {
	t.Helper()
	if b, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// loadAvg is the first three fields of /proc/loadavg: other work on the machine skews the times.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func lastStdoutLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// benchReport is results.txt: the measures and the ratios docker push / push_all.
func benchReport(cfg pushConfig, loaded []string, ms []measure) string {
	var b strings.Builder
	names := make([]string, len(cfg.Images))
	for i, im := range cfg.Images {
		names[i] = im.Name
	}
	fmt.Fprintf(&b, "# bench/push/run.sh, %s, %d cores, same registry, same run\n", time.Now().UTC().Format("2006-01-02T15:04Z"), runtime.NumCPU())
	fmt.Fprintf(&b, "registry: %s@%s on 127.0.0.1 (filesystem storage), behind a loopback proxy counting request bytes\n", registrytest.DistributionModule, registrytest.DistributionVersion)
	fmt.Fprintf(&b, "images: %s (//images:push_all; docker pushes the same images loaded into the engine: %s)\n", strings.Join(names, ", "), strings.Join(loaded, ", "))
	fmt.Fprintf(&b, "%-55s %9s %12s %14s %9s\n", "push", "time", "layer bytes", "all bytes", "requests")
	for _, m := range ms {
		fmt.Fprintf(&b, "%-55s %8.2fs %12s %14s %9d\n", m.what, m.took.Seconds(), publish.FormatBytes(m.upload), publish.FormatBytes(m.all), m.requests)
	}
	ratio := func(docker, ours measure) float64 { return docker.took.Seconds() / ours.took.Seconds() }
	fmt.Fprintf(&b, "first push: docker push / push_all (tools/bazel run) = %.1f (time), %.2f (layer bytes)\n", ratio(ms[3], ms[0]), float64(ms[3].upload)/float64(ms[0].upload))
	fmt.Fprintf(&b, "second push: docker push / push_all = %.2f through tools/bazel run (mostly the Bazel client), %.1f for the bazel-bin script alone\n", ratio(ms[4], ms[1]), ratio(ms[4], ms[2]))
	return b.String()
}
