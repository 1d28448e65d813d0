package bus_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// TestUntilReachable: a broker that refuses connections or does not answer
// is waited for; a configuration error is returned at once.
func TestUntilReachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	noAnswer := fmt.Errorf("no answer from kafka within 10s: %w", context.DeadlineExceeded)
	// A broker may refuse a login by closing the connection: a network
	// error too, but one that waiting does not mend.
	badPassword := fmt.Errorf("check KAFKA_USERNAME and KAFKA_PASSWORD: %w: %w", bus.ErrAccess,
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	badCA := fmt.Errorf("kafka at b:9093: %w", x509.UnknownAuthorityError{})
	tlsAlert := &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}
	cases := []struct {
		name      string
		failures  []error
		wantCalls int
		wantErr   error
	}{
		{name: "reachable", wantCalls: 1},
		{name: "refused, then reachable", failures: []error{refused}, wantCalls: 2},
		{name: "no answer, then reachable", failures: []error{noAnswer}, wantCalls: 2},
		{name: "wrong password", failures: []error{badPassword}, wantCalls: 1, wantErr: badPassword},
		{name: "unknown certificate authority", failures: []error{badCA}, wantCalls: 1, wantErr: badCA},
		{name: "handshake refused", failures: []error{tlsAlert}, wantCalls: 1, wantErr: tlsAlert},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := bus.UntilReachable(context.Background(), func(context.Context) error {
				calls++
				if calls <= len(c.failures) {
					return c.failures[calls-1]
				}
				return nil
			}, nil)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Errorf("UntilReachable = %v, want %v", err, c.wantErr)
			}
			if calls != c.wantCalls {
				t.Errorf("%d checks, want %d", calls, c.wantCalls)
			}
		})
	}
}

// TestUntilReachableEndsWithCtx: an outage that outlasts ctx's deadline
// ends the wait with the last failure.
func TestUntilReachableEndsWithCtx(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	waits := 0
	err := bus.UntilReachable(ctx, func(context.Context) error { return refused }, func(error) { waits++ })
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("UntilReachable = %v, want the last failure", err)
	}
	if waits == 0 {
		t.Error("onWait was not told of the failure waited out")
	}
}

// TestAdminCheckOfAStoppedBrokerIsUnreachable: what Check says of a broker
// that is down is a failure worth waiting out.
func TestAdminCheckOfAStoppedBrokerIsUnreachable(t *testing.T) {
	b, err := embedded.Start(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.Config()
	b.Close()
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(context.Background()); !bus.Unreachable(err) {
		t.Errorf("Check of a stopped broker = %v, not unreachable", err)
	}
}
