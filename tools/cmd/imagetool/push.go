package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ci-images/ci-images/tools/image"
	"github.com/ci-images/ci-images/tools/publish"
	"github.com/ci-images/ci-images/tools/tags"
)

// pushConfig is the configuration the oci_push rule writes (tools/rules/private/push.bzl): the
// images of one push, all published in one run.
type pushConfig struct {
	// Images are published in this order.
	Images []pushImage `json:"images"`
	// LeftOut names the images of the set that are not pushed because their package sets are
	// not locked.
	LeftOut []string `json:"left_out"`
}

// pushImage is one image of a push. Paths are relative to the runfiles root.
type pushImage struct {
	// Name names the image in progress lines and the summary, e.g. "exttester_16".
	Name string `json:"name"`
	// Layout is the image's OCI layout directory.
	Layout string `json:"layout"`
	// Repository is the image's repository under the prefix (--repository, $DOCKER_REPO, or
	// tags.DefaultRepository), e.g. "exttester"; RepositoryFile a file holding it instead.
	Repository     string `json:"repository"`
	RepositoryFile string `json:"repository_file"`
	// Versions give the stamped tags (tags.Stamp.Tags of tags.Joined(Versions)), unless
	// RemoteTags or RemoteTagsFile (one tag a line) give the tags themselves.
	Versions       []string `json:"versions"`
	RemoteTags     []string `json:"remote_tags"`
	RemoteTagsFile string   `json:"remote_tags_file"`
}

// pushFlags are the flags of imagetool push.
type pushFlags struct {
	config, stable, volatile, repository string
	release, dryRun                      bool
	jobs                                 int
}

func runPush(ctx context.Context, e *env, args []string) error {
	f, err := parsePushFlags(e, args)
	if err != nil {
		return err
	}
	// The repository first: a bad one is reported before anything is read or sent.
	repo, err := tags.Repository(f.repository, e.getenv(tags.RepositoryEnv))
	if err != nil {
		return err
	}
	var cfg pushConfig
	if err := readJSON(f.config, &cfg); err != nil {
		return fmt.Errorf("push config: %w", err)
	}
	stamp, err := pushStamp(f)
	if err != nil {
		return err
	}
	images, err := pushImages(cfg.Images, repo, stamp)
	if err != nil {
		return err
	}
	if len(cfg.LeftOut) > 0 {
		fmt.Fprintf(e.stderr, "imagetool push: left out (package set not locked): %s\n", strings.Join(cfg.LeftOut, ", "))
	}
	var pub publish.Publisher = publish.NewDryRun(e.stdout)
	if !f.dryRun {
		pub = publish.NewRegistry(publish.RegistryOptions{Jobs: f.jobs, Progress: e.stderr})
	}
	defer pub.Close()
	rs, err := pub.Publish(ctx, images)
	if len(rs) > 0 {
		if serr := publish.WriteSummary(e.stdout, rs); serr != nil && err == nil {
			err = serr
		}
	}
	if reg, ok := pub.(*publish.Registry); ok {
		fmt.Fprintf(e.stderr, "imagetool push: %s\n", reg.Stats())
	}
	return err
}

func parsePushFlags(e *env, args []string) (pushFlags, error) {
	var f pushFlags
	fs := newFlags("push", e)
	fs.StringVar(&f.config, "config", "", "push configuration: JSON written by the oci_push rule (required)")
	fs.StringVar(&f.stable, "stable-status", "", "Bazel's stable workspace status file (STABLE_GIT_COMMIT), for release tags")
	fs.StringVar(&f.volatile, "volatile-status", "", "Bazel's volatile workspace status file (BUILD_TIMESTAMP), for dev tags")
	fs.BoolVar(&f.release, "release", false, "release tags (<version> and <version>-v<commit>) instead of the dev tag")
	fs.StringVar(&f.repository, "repository", "", "repository prefix, e.g. ghcr.io/citusdata or http://localhost:5000/ci (default $"+tags.RepositoryEnv+", else "+tags.DefaultRepository+")")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print every tag that would be written and send nothing")
	fs.IntVar(&f.jobs, "jobs", 4, "parallel uploads")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.config == "" || fs.NArg() != 0 {
		return f, fmt.Errorf("%w: want -config FILE and flags only", errUsage)
	}
	if f.jobs < 1 {
		return f, fmt.Errorf("%w: -jobs %d: want at least 1", errUsage, f.jobs)
	}
	return f, nil
}

// pushStamp reads the workspace status files that were given (none in an unstamped build: then
// stamped tags ask for --stamp).
func pushStamp(f pushFlags) (tags.Stamp, error) {
	var files []string
	for _, p := range []string{f.stable, f.volatile} {
		if p != "" {
			files = append(files, p)
		}
	}
	status, err := tags.ReadStatusFiles(files...)
	if err != nil {
		return tags.Stamp{}, err
	}
	return tags.StampFromStatus(status, f.release)
}

// pushImages reads the images and computes their references. A reference given to two images
// is an error: one of them would silently lose its tag.
func pushImages(cfg []pushImage, repo tags.Repo, stamp tags.Stamp) ([]publish.Image, error) {
	if len(cfg) == 0 {
		return nil, fmt.Errorf("push config: no images")
	}
	owner := map[string]string{}
	out := make([]publish.Image, 0, len(cfg))
	for _, c := range cfg {
		im := publish.Image{Name: c.Name}
		refs, err := imageRefs(c, repo, stamp)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", c.Name, err)
		}
		for _, r := range refs {
			if o, ok := owner[r.String()]; ok {
				return nil, fmt.Errorf("images %s and %s are both tagged %s", o, c.Name, r)
			}
			owner[r.String()] = c.Name
		}
		im.Tags = refs
		if im.Image, err = image.ReadLayout(c.Layout); err != nil {
			return nil, fmt.Errorf("image %s: reading %s: %w", c.Name, c.Layout, err)
		}
		out = append(out, im)
	}
	return out, nil
}

// imageRefs are the references one image is pushed under: <prefix>/<repository>:<tag>.
func imageRefs(c pushImage, repo tags.Repo, stamp tags.Stamp) ([]name.Tag, error) {
	repository := c.Repository
	if c.RepositoryFile != "" {
		b, err := os.ReadFile(c.RepositoryFile)
		if err != nil {
			return nil, fmt.Errorf("repository_file: %w", err)
		}
		repository = strings.TrimSpace(string(b))
	}
	if err := relativeRepository(repository); err != nil {
		return nil, err
	}
	ts, err := imageTags(c, stamp)
	if err != nil {
		return nil, err
	}
	refs := make([]name.Tag, len(ts))
	for i, t := range ts {
		if refs[i], err = repo.Ref(repository, t); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// relativeRepository checks that a repository is a path under the prefix: a registry host in it
// (a first component with '.' or ':', or localhost) would be pushed to <prefix>/<host>/...
func relativeRepository(r string) error {
	first, _, _ := strings.Cut(r, "/")
	switch {
	case r == "":
		return fmt.Errorf("no repository")
	case strings.Contains(first, ".") || strings.Contains(first, ":") || first == "localhost":
		return fmt.Errorf("repository %q names a registry: it is a path under the repository prefix (--repository, $%s, default %s)", r, tags.RepositoryEnv, tags.DefaultRepository)
	}
	return nil
}

// imageTags are the explicit tags of an image (remote_tags, or remote_tags_file with one tag a
// line), or else the stamped tags of its versions.
func imageTags(c pushImage, stamp tags.Stamp) ([]string, error) {
	ts := c.RemoteTags
	if c.RemoteTagsFile != "" {
		b, err := os.ReadFile(c.RemoteTagsFile)
		if err != nil {
			return nil, fmt.Errorf("remote_tags_file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if t := strings.TrimSpace(line); t != "" {
				ts = append(ts, t)
			}
		}
	}
	if len(ts) > 0 {
		return ts, nil
	}
	if len(c.Versions) == 0 {
		return nil, fmt.Errorf("no tags: give versions, remote_tags or remote_tags_file")
	}
	return stamp.Tags(tags.Joined(c.Versions))
}

// runStamp copies Bazel's workspace status files for a push. It is the one action of a push
// target that reads them (only when stamping), so no image action ever sees the status and
// stamping never changes a digest. Bazel does not re-run an action when only the volatile file
// changed: the copied BUILD_TIMESTAMP is that of the build that last changed the pushed images or
// the stable status (the commit), so pushing the same images again gives the same dev tags.
func runStamp(_ context.Context, e *env, args []string) error {
	fs := newFlags("stamp", e)
	var copies stringList
	fs.Var(&copies, "copy", "IN=OUT: a workspace status file and where to copy it (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(copies) == 0 || fs.NArg() != 0 {
		return fmt.Errorf("%w: want at least one -copy IN=OUT", errUsage)
	}
	for _, c := range copies {
		in, out, ok := strings.Cut(c, "=")
		if !ok || in == "" || out == "" {
			return fmt.Errorf("%w: -copy %q: want IN=OUT", errUsage, c)
		}
		if _, err := tags.ReadStatusFiles(in); err != nil { // a malformed file fails here, not at push time
			return err
		}
		b, err := os.ReadFile(in)
		if err != nil {
			return fmt.Errorf("workspace status: %w", err)
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return fmt.Errorf("workspace status: %w", err)
		}
	}
	return nil
}
