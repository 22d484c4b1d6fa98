package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// signalled is one imagetool process, perhaps stopped by a signal.
type signalled struct {
	result
	signaled bool          // killed by the signal (before Go's handlers were installed, or SIGKILL)
	stop     time.Duration // from the signal to the exit
}

// startAndSignal runs imagetool with args, with TMPDIR set to tmp, and sends sig after delay,
// or, if delay is negative, as soon as the temporary of out holds -delay bytes (so many
// nanoseconds as bytes: -time.Duration(1<<20) is 1 MiB).
func startAndSignal(t *testing.T, tmp string, sig syscall.Signal, delay time.Duration, out string, args ...string) signalled {
	t.Helper()
	cmd, stdout, stderr := imagetoolCmd(t, args...)
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if delay < 0 {
		waitForTemporary(t, out, int64(-delay), done)
		delay = 0
	}
	var err error
	var sent time.Time
	select {
	case err = <-done: // finished first
	case <-time.After(delay):
		sent = time.Now()
		cmd.Process.Signal(sig)
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("imagetool %s still running 20s after %v\n%s", args[0], sig, stderr)
		}
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	r := signalled{result: result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}}
	if !sent.IsZero() {
		r.stop = time.Since(sent)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.signaled = true
	}
	return r
}

// waitForTemporary waits until a temporary of out holds size bytes (the command is writing
// it), or the command ends.
func waitForTemporary(t *testing.T, out string, size int64, done chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && st.Size() >= size {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("no temporary of %s appeared", out)
}

// withoutTemporaries is a snapshot less the temporaries.
func withoutTemporaries(s map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range s {
		if !strings.Contains(filepath.Base(k), ".tmp-") && !strings.Contains(k, ".tmp-") {
			out[k] = v
		}
	}
	return out
}

// faultTarget is a command run again and again on the fixture, alternating between two
// epochs so that each completed run changes its outputs.
type faultTarget struct {
	name string
	args func(epoch int) []string
	out  string // its main output
}

// outputOf names the output a fixture path belongs to: its first element ("oci" for
// "oci/index.json").
func outputOf(path string) string {
	first, _, _ := strings.Cut(path, "/")
	return first
}

// group splits a snapshot by output.
func group(s map[string]string) map[string]map[string]string {
	g := map[string]map[string]string{}
	for k, v := range s {
		if g[outputOf(k)] == nil {
			g[outputOf(k)] = map[string]string{}
		}
		g[outputOf(k)][k] = v
	}
	return g
}

// killedState describes the outputs of a killed run: "intact" (as before), "new" (it had
// finished), "mixed" (some outputs new, the others as before: it died between two renames
// of atomicfile.Commit), or an error naming an output that is neither.
func killedState(before, after, next map[string]string) (string, error) {
	b, a, n := group(before), group(withoutTemporaries(after)), group(next)
	newOnes, oldOnes := 0, 0
	for out := range mergeKeys(b, a) {
		switch {
		case diffSnapshots(b[out], n[out]) == "" && diffSnapshots(b[out], a[out]) == "":
			// the run does not change it
		case diffSnapshots(b[out], a[out]) == "":
			oldOnes++
		case diffSnapshots(n[out], a[out]) == "":
			newOnes++
		default:
			return "", fmt.Errorf("%s is neither as before nor the new one: %s", out, diffSnapshots(b[out], a[out]))
		}
	}
	switch {
	case newOnes == 0:
		return "intact", nil
	case oldOnes == 0:
		return "new", nil
	}
	return "mixed", nil
}

func mergeKeys(a, b map[string]map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// TestFaults kills `layer` and `image` at random points, 20 times each with SIGINT and with
// SIGKILL: the previous outputs are intact unless the run completed (exit 0, then the outputs
// are exactly the new ones); after SIGINT nothing is left (beside the outputs and in TMPDIR);
// after SIGKILL what was left is only the output's temporaries, never a spool or gzip file
// in TMPDIR (those never have a name), and the next run removes them.
func TestFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	f := newFixture(t)
	tmp := t.TempDir()
	targets := []faultTarget{
		{name: "layer", out: f.path("layer.tar.gz"), args: func(epoch int) []string { return f.layerArgs("layer.json", epoch, f.base...) }},
		{name: "image", out: f.path("oci"), args: func(epoch int) []string {
			return f.imageArgs(epoch, "", f.path("layer.tar.gz")+"="+f.path("layer.diffid"), f.path("plain.tar"))
		}},
	}
	// A plain tar layer: image compresses it into a temporary file.
	writeFile(t, f.path("plain.tar"), plainTar(t, map[string]string{"etc/plain": "plain\n"}))
	for _, tg := range targets {
		// The outputs of both epochs, and how long a run takes.
		want := map[int]map[string]string{}
		took := time.Hour
		for _, epoch := range []int{1, 0, 1, 0} {
			start := time.Now()
			if r := runImagetool(t, tg.args(epoch)...); r.code != 0 {
				t.Fatalf("%s: exit %d\n%s", tg.name, r.code, r.stderr)
			}
			took = min(took, time.Since(start))
			want[epoch] = snapshot(t, f.dir)
		}
		epoch, prev := 0, want[0] // the epoch of the last run that completed, the outputs now
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
			var completed, stopped, left, maxStop = 0, 0, 0, time.Duration(0)
			states := map[string]int{}
			for i := range 20 {
				next := 1 - epoch
				// From a fifth of a run (the process has started) to its end.
				delay := took/5 + time.Duration(rnd.Int64N(int64(took*4/5)))
				r := startAndSignal(t, tmp, sig, delay, tg.out, tg.args(next)...)
				after := snapshot(t, f.dir)
				what := fmt.Sprintf("%s %v #%d after %v: exit %d", tg.name, sig, i, delay, r.code)
				if es, _ := os.ReadDir(tmp); len(es) != 0 {
					t.Errorf("%s: left in TMPDIR: %v", what, es)
				}
				if r.code == 0 {
					completed++
					if d := diffSnapshots(want[next], after); d != "" {
						t.Errorf("%s: completed, but the outputs are not the new ones: %s", what, d)
					}
					epoch, prev = next, after
					continue
				}
				stopped++
				temps := temporaries(t, f.dir)
				// Killed by the signal: SIGKILL, or SIGINT before Go's handlers are installed or
				// after they are removed (main's stop, once the work is done).
				if r.signaled {
					state, err := killedState(prev, after, want[next])
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					states[state]++
					if state != "intact" {
						epoch = next
					}
					prev = withoutTemporaries(after)
					if len(temps) > 0 {
						left++
					}
					continue
				}
				if d := diffSnapshots(prev, after); d != "" {
					t.Errorf("%s: the previous outputs changed: %s\n%s", what, d, r.stderr)
				}
				maxStop = max(maxStop, r.stop)
				wantFirst := "imagetool " + tg.name + ": interrupted (interrupt signal received): " + tg.out + " was not changed"
				if r.code != 1 || r.firstLine() != wantFirst || len(temps) > 0 || r.stop > time.Second {
					t.Errorf("%s, first line %q, temporaries %q, stopped in %v; want exit 1, %q, none, within a second", what, r.firstLine(), temps, r.stop, wantFirst)
				}
			}
			// The next run removes what the killed ones left, and completes.
			epoch = 1 - epoch
			if r := runImagetool(t, tg.args(epoch)...); r.code != 0 {
				t.Fatalf("%s after %v: exit %d\n%s", tg.name, sig, r.code, r.stderr)
			}
			prev = snapshot(t, f.dir)
			if d := diffSnapshots(want[epoch], prev); d != "" {
				t.Errorf("%s: the run after the %v runs left: %s", tg.name, sig, d)
			}
			killed := states["intact"] + states["new"] + states["mixed"]
			t.Logf("%s, %v: 20 runs (one takes %v): %d completed before the signal, %d stopped by it (exit 1, the slowest %v after it, leaving nothing), %d killed by it: outputs %d intact, %d all new (killed after its renames), %d mixed (killed between two renames); %d left temporaries, removed by the next run",
				tg.name, sig, took.Round(time.Millisecond), completed, stopped-killed, maxStop.Round(time.Millisecond), killed, states["intact"], states["new"], states["mixed"], left)
		}
	}
}

// plainTar returns an uncompressed tar of the files.
func plainTar(t *testing.T, files map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[name]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestStopsWithinASecond: SIGINT or SIGTERM in the middle of a layer or an image of 48 MB
// (incompressible: slow to gzip) stops it within a second, with exit 1 and one line saying
// so; the previous outputs stay as they were and nothing is left, in TMPDIR either. The layer
// is signalled once it has written 1 MiB of its output; the image, which writes its layout
// only at the end, at a third of the time a whole run takes.
func TestStopsWithinASecond(t *testing.T) {
	f := newFixture(t)
	tmp, in := t.TempDir(), t.TempDir()
	body := string(randomBytes(48 << 20))
	big := writeDebs(t, in, []debtest.Deb{{Package: "big", Version: "1", Architecture: "all", Compression: "none",
		Files: []debtest.File{{Path: "usr/share/big/data", Body: body}}}})
	bigTar := filepath.Join(in, "big.tar")
	writeFile(t, bigTar, plainTar(t, map[string]string{"big": body}))
	imageArgs := f.imageArgs(1, f.path("oci"), bigTar)
	start := time.Now()
	if r := runImagetool(t, imageArgs...); r.code != 0 {
		t.Fatalf("image: exit %d\n%s", r.code, r.stderr)
	}
	third := time.Since(start) / 3
	t.Logf("a whole image run takes %v", 3*third)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string
		out  string
		// when is startAndSignal's delay.
		when time.Duration
		// first is the first line of stderr.
		first string
	}{
		{"layer, SIGINT", syscall.SIGINT, f.layerArgs("plain.json", 1, big...), f.path("layer.tar.gz"), -1 << 20,
			"imagetool layer: interrupted (interrupt signal received): " + f.path("layer.tar.gz") + " was not changed"},
		{"layer, SIGTERM", syscall.SIGTERM, f.layerArgs("plain.json", 1, big...), f.path("layer.tar.gz"), -1 << 20,
			"imagetool layer: interrupted (terminated signal received): " + f.path("layer.tar.gz") + " was not changed"},
		{"image, SIGINT", syscall.SIGINT, imageArgs, f.path("oci"), third,
			"imagetool image: interrupted (interrupt signal received): " + f.path("oci") + " was not changed"},
		{"image, SIGTERM", syscall.SIGTERM, imageArgs, f.path("oci"), third,
			"imagetool image: interrupted (terminated signal received): " + f.path("oci") + " was not changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.reset(t)
			before := snapshot(t, f.dir)
			r := startAndSignal(t, tmp, tc.sig, tc.when, tc.out, tc.args...)
			t.Logf("exit %d, %v after the signal", r.code, r.stop)
			if r.code != 1 || r.firstLine() != tc.first || r.stop > time.Second {
				t.Errorf("exit %d %v after the signal, first line of stderr\n%s\nwant exit 1 within a second, and\n%s", r.code, r.stop, r.firstLine(), tc.first)
			}
			if d := diffSnapshots(before, snapshot(t, f.dir)); d != "" {
				t.Errorf("files: %s", d)
			}
			if es, _ := os.ReadDir(tmp); len(es) != 0 {
				t.Errorf("left in TMPDIR: %v", es)
			}
		})
	}
}
