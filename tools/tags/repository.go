package tags

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// DefaultRepository is where images are pushed unless DOCKER_REPO or --repository says
// otherwise. It is defined here and nowhere else.
const DefaultRepository = "ghcr.io/citusdata"

// RepositoryEnv is the environment variable that overrides DefaultRepository, as in the Citus
// Makefile (DOCKER_REPO=private-repo make push-all).
const RepositoryEnv = "DOCKER_REPO"

// Repo is a repository prefix (DOCKER_REPO, --repository): an image is pushed to
// <Repo>/<image>:<tag>.
type Repo struct {
	prefix   string // as given, without a scheme
	insecure bool   // an explicit http:// prefix
}

// String is the prefix as given, with "http://" if plain HTTP was asked for.
func (r Repo) String() string {
	if r.insecure {
		return "http://" + r.prefix
	}
	return r.prefix
}

// Repository returns the repository prefix images are pushed under: flagValue if set, else
// envValue (the value of $DOCKER_REPO), else DefaultRepository. The error is one line that names
// where the bad value came from.
func Repository(flagValue, envValue string) (Repo, error) {
	s, from := DefaultRepository, "the default repository"
	if envValue != "" {
		s, from = envValue, "$"+RepositoryEnv
	}
	if flagValue != "" {
		s, from = flagValue, "--repository"
	}
	r, err := ParseRepository(s)
	if err != nil {
		return Repo{}, fmt.Errorf("%s: %w", from, err)
	}
	return r, nil
}

// ParseRepository parses a repository prefix such as "ghcr.io/citusdata" or
// "registry.example:5000/ci". An explicit "http://" prefix selects plain HTTP (for a local test
// registry); "https://" is accepted and dropped. go-containerregistry speaks plain HTTP to
// localhost and 127.0.0.1 on its own. A prefix without a registry is a Docker Hub one: "citus"
// gives index.docker.io/citus/<image>.
func ParseRepository(s string) (Repo, error) {
	r := Repo{prefix: s}
	switch {
	case strings.HasPrefix(s, "http://"):
		r = Repo{prefix: strings.TrimPrefix(s, "http://"), insecure: true}
	case strings.HasPrefix(s, "https://"):
		r.prefix = strings.TrimPrefix(s, "https://")
	}
	if r.prefix == "" || strings.ContainsAny(r.prefix, "@ \t") || strings.HasSuffix(r.prefix, "/") {
		return Repo{}, fmt.Errorf("invalid repository %q: want registry/namespace, such as %s", s, DefaultRepository)
	}
	if _, err := name.NewRepository(r.prefix, r.options()...); err != nil {
		return Repo{}, fmt.Errorf("invalid repository %q: %w", s, err)
	}
	return r, nil
}

func (r Repo) options() []name.Option {
	if r.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Repository is the repository of one image under the prefix.
func (r Repo) Repository(image string) (name.Repository, error) {
	repo, err := name.NewRepository(r.prefix+"/"+image, r.options()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("invalid image repository %s/%s: %w", r.prefix, image, err)
	}
	return repo, nil
}

// Ref is <prefix>/<image>:<tag>.
func (r Repo) Ref(image, tag string) (name.Tag, error) {
	if err := Validate(tag); err != nil {
		return name.Tag{}, err
	}
	t, err := name.NewTag(r.prefix+"/"+image+":"+tag, r.options()...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("invalid image reference %s/%s:%s: %w", r.prefix, image, tag, err)
	}
	return t, nil
}
