// Command imagetool is the one binary behind every Bazel rule and script in ci-images.
//
// Each subcommand is a thin wrapper over one package under tools/: it parses flags, calls the
// package and prints a summary. Usage: imagetool <subcommand> [flags]; imagetool help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/ci-images/ci-images/tools/runner"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env carries what a subcommand may touch of the process: no global state.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errUsage marks an error whose message is a usage problem (exit status 2).
var errUsage = errors.New("usage")

func commands() map[string]command {
	return map[string]command{
		"image": {"assemble an OCI image layout from a base and layers", runImage},
		"layer": {"turn .deb files into one reproducible layer", runLayer},
		"load":  {"load an OCI image layout into the local Docker engine", runLoad},
		"lock":  {"resolve images/*/packages.json into images/apt.lock.json (verified, deterministic)", runLock},
		"push":  {"push the images of an oci_push configuration to a registry in one run", runPush},
		"run":   {"run a command in an image's root file system, in namespaces without network", runRun},
		"stamp": {"copy Bazel's workspace status files for a push (the one stamped action)", runStamp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "imagetool: unknown subcommand %q (see imagetool help)\n", args[0])
		return 2
	}
	if err := c.run(ctx, e, args[1:]); err != nil {
		fmt.Fprintf(e.stderr, "imagetool %s: %v\n", args[0], err)
		var exit *runner.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: imagetool <subcommand> [flags]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("imagetool "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
