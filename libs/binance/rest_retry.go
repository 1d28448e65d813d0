package binance

import (
	"errors"
	"net"
	"time"
)

// RetryInfo describes a failed REST attempt the client is about to retry:
// what a loader logs, so that a wait is never silent.
type RetryInfo struct {
	Endpoint string
	Attempt  int           // the attempt that failed, 1-based
	Status   int           // its HTTP status; 0 when no answer arrived
	Err      error         // the transport error, or the API's answer
	Wait     time.Duration // before the next attempt (after 429/418: until the limiter's block ends)
}

// unresolvable reports whether err says the host name does not exist (DNS
// "no such host"): no retry changes that, while a refused or reset
// connection, a timeout or a temporary DNS failure may pass.
func unresolvable(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
