//go:build integration

package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// TestRealTailAfterAnOutage: a Tail running while its broker is down
// tells OnError and delivers, once the broker is back, what is written
// then; and a producer's Send returns when its context ends even while the
// broker is gone (an idempotent producer holds its records meanwhile).
func TestRealTailAfterAnOutage(t *testing.T) {
	b := bustest.Dedicated(t, bustest.BrokerOptions{})
	cfg := b.Config()
	topic := "tail-outage"
	bustest.Topics(t, cfg, 2, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	since := time.Now()
	tail, err := bus.NewTail(ctx, cfg, topic, since, nil)
	for i := 0; err != nil && i < 20; i++ { // a new topic's leaders settle
		time.Sleep(250 * time.Millisecond)
		tail, err = bus.NewTail(ctx, cfg, topic, since, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	var mu sync.Mutex
	var got []string
	failing := map[int]bool{}
	tail.OnError = func(p int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failing[p] = true
		}
	}
	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()
	ran := make(chan error, 1)
	go func() {
		ran <- tail.Run(rctx, func(_ context.Context, m bus.Message) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(m.Value))
			if string(m.Value) == "after" {
				rcancel()
			}
			return nil
		})
	}()
	b.Stop(t)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	if err := p.Publish(sctx, topic, []byte("k"), []byte("during")); err == nil {
		t.Error("Publish = nil while the broker is down")
	}
	scancel()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish returned %s after its context ended", d-2*time.Second)
	}
	time.Sleep(3 * time.Second)
	b.Resume(t)
	if err := p.Publish(ctx, topic, []byte("k"), []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failing) == 0 {
		t.Error("OnError was not told of the outage")
	}
	t.Logf("after the outage the tail read %q", got)
	found := false
	for _, v := range got {
		found = found || v == "after"
	}
	if !found {
		t.Fatalf("tail read %q after the outage, want the message written after it", got)
	}
}
