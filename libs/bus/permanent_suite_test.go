package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// testPermanentNotRetried: a handler error marked permanent ends Run after
// one attempt, even with retries left or RetryForever.
func testPermanentNotRetried(t *testing.T, cfg bus.Config) {
	topic := oneMessage(t, cfg)
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, MaxRetries: 5,
		RetryForever: true, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	refused := errors.New("document too large")
	calls := 0
	err = c.Run(ctx, func(context.Context, []bus.Message) error {
		calls++
		return protocol.Permanent(refused)
	})
	if !errors.Is(err, refused) || !protocol.IsPermanent(err) || calls != 1 {
		t.Fatalf("Run = %v after %d calls; want the permanent error after one", err, calls)
	}
}
