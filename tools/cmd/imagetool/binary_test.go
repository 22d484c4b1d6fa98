package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// asBinaryEnv makes the test binary act as imagetool (see TestMain).
const asBinaryEnv = "IMAGETOOL_TEST_AS_BINARY"

// TestMain lets tests run the real command as a separate process: started with
// IMAGETOOL_TEST_AS_BINARY=1, the test binary is imagetool (main() with the given arguments:
// the same flags, signal handling, output and exit codes), under go test and Bazel alike.
func TestMain(m *testing.M) {
	if os.Getenv(asBinaryEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// result is a finished imagetool process.
type result struct {
	code           int
	stdout, stderr string
}

// firstLine is the first line of stderr.
func (r result) firstLine() string {
	line, _, _ := strings.Cut(r.stderr, "\n")
	return line
}

// lastLine is the last line of stderr.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	return lines[len(lines)-1]
}

// imagetoolCmd returns the command running imagetool with args. The environment is the
// test's minus what imagetool reads by default (the downloader config, Bazel's workspace),
// with HOME in a temporary directory, so that nothing outside the test is used.
func imagetoolCmd(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CI_IMAGES_DOWNLOADER_CONFIG", "BUILD_WORKSPACE_DIRECTORY", "HOME", asBinaryEnv:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, asBinaryEnv+"=1", "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// runImagetool runs imagetool with args to the end.
func runImagetool(t *testing.T, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := imagetoolCmd(t, args...)
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("imagetool %q: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// tree lists the regular files and symlinks under dir (slash-separated relative paths,
// sorted), skipping the directories named in skip.
func tree(t *testing.T, dir string, skip ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			for _, s := range skip {
				if rel == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// temporaries returns the files under dir that look like temporary files of an atomic write
// (".<name>.tmp-*", the aptrepo cache's ".tmp-*").
func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, p := range tree(t, dir) {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			out = append(out, p)
		}
	}
	return out
}
