package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ci-images/ci-images/tools/image"
	"github.com/ci-images/ci-images/tools/runner"
)

// runRun runs a command inside an image's root file system (tools/runner): the image_test rule,
// and `imagetool run -image DIR -- CMD ARGS` by hand. The command's exit status becomes
// imagetool's. Started as the namespaces' init (`run __runner_init`), it is runner.Init.
func runRun(ctx context.Context, e *env, args []string) error {
	if len(args) == 1 && args[0] == runner.InitArg {
		os.Exit(runner.Init())
	}
	fs := newFlags("run", e)
	layout := fs.String("image", "", "OCI image layout directory (required)")
	var inputs, envs stringList
	fs.Var(&inputs, "input", "HOST_PATH=IMAGE_PATH: bind a file or directory read-only (repeatable)")
	fs.Var(&envs, "env", "KEY=VALUE over the image's environment (repeatable)")
	user := fs.String("user", "", "user[:group] to run as (default: the image's)")
	workdir := fs.String("workdir", "", "working directory (default: the image's)")
	scratch := fs.String("scratch", "", "directory for the unpacked root file system (default: $TEST_TMPDIR under bazel test, else the system's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *layout == "" {
		return fmt.Errorf("%w: want -image DIR [flags] [--] [COMMAND ARGS...]", errUsage)
	}
	spec := runner.Spec{Args: fs.Args(), Env: envs, User: *user, WorkDir: *workdir,
		Stdin: os.Stdin, Stdout: e.stdout, Stderr: e.stderr, Reexec: []string{"run", runner.InitArg}}
	for _, in := range inputs {
		src, dst, ok := strings.Cut(in, "=")
		if !ok || src == "" || dst == "" {
			return fmt.Errorf("%w: -input %q: want HOST_PATH=IMAGE_PATH", errUsage, in)
		}
		spec.Inputs = append(spec.Inputs, runner.Input{Source: src, Target: dst})
	}
	for _, kv := range envs {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("%w: -env %q: want KEY=VALUE", errUsage, kv)
		}
	}
	if *scratch == "" {
		*scratch = e.getenv("TEST_TMPDIR")
	}
	img, err := image.ReadLayout(*layout)
	if err != nil {
		return fmt.Errorf("image %s: %w", *layout, err)
	}
	start := time.Now()
	st, err := runner.Run(ctx, img, *scratch, spec)
	fmt.Fprintf(e.stderr, "imagetool run: %s: unpacked %d entries (%.1f MB) in %.1fs, ran in %.1fs\n",
		*layout, st.Entries, float64(st.Bytes)/1e6, st.Duration.Seconds(), (time.Since(start) - st.Duration).Seconds())
	return err
}
