package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultBackoff retries a failed request up to 5 times, after 1, 2, 4, 8 and 16 s (±10%): at
// most 31 s of waiting per request before the run fails.
func DefaultBackoff() remote.Backoff {
	return remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 6, Cap: 16 * time.Second}
}

// retryStatusCodes are the answers worth another try: timeouts, rate limits, server errors.
func retryStatusCodes() []int {
	return []int{
		http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
	}
}

// retryable returns the retry predicate of a run: a failed request is worth another try on
// 408/429/5xx answers, connection resets, closed connections and timeouts. A refused connection,
// a name that does not resolve, an untrusted certificate, a 401, or the run's context being done
// are not: they fail at once.
func retryable(ctx context.Context) func(error) bool {
	return func(err error) bool {
		return ctx.Err() == nil && retryableError(err)
	}
}

func retryableError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	if errors.Is(err, syscall.ECONNREFUSED) || isTLS(err) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && !dns.IsTimeout {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func isTLS(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &record)
}
