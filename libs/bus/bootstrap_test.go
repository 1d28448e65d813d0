package bus_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestTailPositionsThroughAnyLiveBootstrapBroker: with the first bootstrap
// broker down, a tail positioned at a time still finds its offsets through
// the next one, and reads; so does ReadRange.
func TestTailPositionsThroughAnyLiveBootstrapBroker(t *testing.T) {
	live := bustest.Embedded(t, embedded.Options{})
	topic := uniqueTopic(t)
	bustest.Topics(t, live, 1, topic)
	publish(t, live, topic, "m")
	cfg := live
	cfg.BootstrapServers = deadAddr(t) + "," + live.BootstrapServers

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail, err := bus.NewTail(ctx, cfg, topic, time.Now().Add(-time.Hour), nil)
	if err != nil {
		t.Fatalf("NewTail with the first bootstrap broker down: %v", err)
	}
	defer tail.Close()
	got := make(chan string, 1)
	go func() {
		_ = tail.Run(ctx, func(_ context.Context, m bus.Message) error {
			got <- string(m.Value)
			return nil
		})
	}()
	select {
	case v := <-got:
		if v != "m" {
			t.Errorf("read %q, want %q", v, "m")
		}
	case <-ctx.Done():
		t.Fatal("nothing read through the live bootstrap broker")
	}
	var ranged []string
	if err := bus.ReadRange(ctx, cfg, topic, 0, 0, 1, func(m bus.Message) error {
		ranged = append(ranged, string(m.Value))
		return nil
	}); err != nil || len(ranged) != 1 {
		t.Errorf("ReadRange with the first bootstrap broker down = %v, read %q", err, ranged)
	}
}
