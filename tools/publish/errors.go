package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// lineError is an error whose message is one line; the cause stays reachable (errors.Is/As).
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// oneLine wraps err with a one-line message "what: cause", the cause said in words a user can act
// on (credentials, trust, reachability) where it is recognised.
func oneLine(what string, err error) error {
	if err == nil {
		return nil
	}
	var le *lineError
	if errors.As(err, &le) {
		return &lineError{msg: what + ": " + le.msg, err: err}
	}
	return &lineError{msg: what + ": " + describe(err), err: err}
}

func describe(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// Upload URLs carry a long opaque _state query: leave it out.
		u, _, _ := strings.Cut(uerr.URL, "?")
		return fmt.Sprintf("%s %s: %s", uerr.Op, u, cause(uerr.Err))
	}
	return cause(err)
}

func cause(err error) string {
	var terr *transport.Error
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		return fmt.Sprintf("authentication failed (HTTP %d): check the credentials for this registry (docker login)", terr.StatusCode)
	case isTLS(err):
		return "the registry's TLS certificate is not trusted: " + flat(err.Error()) + " (add its CA to SSL_CERT_FILE or the system store)"
	case errors.As(err, &dns):
		return "cannot reach the registry: " + flat(dns.Error())
	case errors.As(err, &op) && op.Op == "dial":
		return "cannot reach the registry: " + flat(op.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out after retries: " + flat(err.Error())
	}
	return flat(err.Error())
}

// flat puts a message on one line.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }
