package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ci-images/ci-images/tools/atomicfile"
	"github.com/ci-images/ci-images/tools/strictjson"
)

// expandParams replaces every "@file" argument by the lines of that file (Bazel params files),
// so that actions with hundreds of inputs stay under the kernel's argument limit.
func expandParams(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "@") || len(a) == 1 {
			out = append(out, a)
			continue
		}
		f, err := os.Open(a[1:])
		if err != nil {
			return nil, fmt.Errorf("params file: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); line != "" {
				out = append(out, line)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("params file %s: %w", a[1:], err)
		}
	}
	return out, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// epochValue is the -epoch flag: SOURCE_DATE_EPOCH in whole seconds since 1970.
type epochValue int64

func (e *epochValue) String() string { return strconv.FormatInt(int64(*e), 10) }

func (e *epochValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return errors.New("want whole seconds since 1970")
	}
	*e = epochValue(n)
	return nil
}

// actionFlags are the flags of the subcommands that the rules run: the output, the rule-written
// configuration (JSON decoded into the package's config type, see readJSON) and
// SOURCE_DATE_EPOCH (the build setting //tools/rules:source_date_epoch; the default, 0, is
// 1970-01-01T00:00:00Z).
type actionFlags struct {
	out, config string
	epoch       int64
}

// newActionFlags returns the flag set of subcommand name with -out, -config and -epoch, whose
// descriptions are given, already registered.
func newActionFlags(name string, e *env, out, config, epoch string) (*flag.FlagSet, *actionFlags) {
	fs := newFlags(name, e)
	a := &actionFlags{}
	fs.StringVar(&a.out, "out", "", out)
	fs.StringVar(&a.config, "config", "", config)
	fs.Var((*epochValue)(&a.epoch), "epoch", "SOURCE_DATE_EPOCH, seconds since 1970: "+epoch)
	return fs, a
}

// parseFlags expands @params files in args and parses them into fs; a bad flag is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	args, err := expandParams(args)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// readJSON decodes the JSON file at path (a rule-written configuration) into v with
// tools/strictjson: a key that v does not have is an error.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := strictjson.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// stopped returns err, or, if a signal cancelled ctx, one line saying so: the action stopped
// and left its output out (and the others) as they were.
func stopped(ctx context.Context, err error, out string) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("interrupted (%w): %s was not changed", context.Cause(ctx), out)
}

// sweep removes the temporaries that a killed run left beside the outputs paths (empty paths
// are skipped): every run removes them, also one that fails before it writes its outputs.
func sweep(paths ...string) {
	for _, p := range paths {
		if p != "" {
			atomicfile.Sweep(p)
		}
	}
}
