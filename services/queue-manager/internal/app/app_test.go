package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
)

// TestUntilReachable: a broker that refuses connections is waited for; a
// configuration error is returned at once.
func TestUntilReachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	// A broker may refuse a login by closing the connection: a network
	// error too, but one that waiting does not mend.
	badPassword := fmt.Errorf("check KAFKA_USERNAME and KAFKA_PASSWORD: %w: %w", bus.ErrAccess,
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	cases := []struct {
		name      string
		failures  []error
		wantCalls int
		wantErr   error
	}{
		{name: "reachable", wantCalls: 1},
		{name: "refused, then reachable", failures: []error{refused}, wantCalls: 2},
		{name: "wrong password", failures: []error{badPassword}, wantCalls: 1, wantErr: badPassword},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := untilReachable(context.Background(), zerolog.Nop(), func(context.Context) error {
				calls++
				if calls <= len(c.failures) {
					return c.failures[calls-1]
				}
				return nil
			})
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Errorf("untilReachable = %v, want %v", err, c.wantErr)
			}
			if calls != c.wantCalls {
				t.Errorf("%d checks, want %d", calls, c.wantCalls)
			}
		})
	}
}
