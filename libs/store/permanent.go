package store

import (
	"context"
	"errors"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Permanent marks err as a failure a retry cannot fix (protocol.Permanent,
// so a worker's error event carries permanent=true and queue-manager does
// not relaunch the step), unless it may pass by itself: it wraps
// ErrUnavailable, or a context was cancelled or timed out. Every Store
// method wraps ErrUnavailable around a failure that may pass, so any other
// is about the request or the data — a collection or graph that does not
// exist (ErrNotFound), a name or document the store refuses — and the same
// call would fail the same way. nil stays nil.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return protocol.Permanent(err)
}
