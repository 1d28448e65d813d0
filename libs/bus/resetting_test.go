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

// resettingAddr returns a loopback address that accepts connections and
// closes them at once, as a proxy or a load balancer in front of a broker
// that is down does.
func resettingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return l.Addr().String()
}

// behindResets returns cfg with two resetting addresses before its broker
// in the bootstrap list.
func behindResets(t *testing.T, cfg bus.Config) bus.Config {
	cfg.BootstrapServers = resettingAddr(t) + "," + resettingAddr(t) + "," + cfg.BootstrapServers
	return cfg
}

// TestAdminTriesEveryBootstrapBroker: bootstrap addresses that accept and
// reset the connection do not fail admin requests while another one
// answers (kafka-go moves on only when the dial fails). Each request is
// made by a new Admin, which starts with the first address.
func TestAdminTriesEveryBootstrapBroker(t *testing.T) {
	live := bustest.Embedded(t, embedded.Options{})
	topic := uniqueTopic(t)
	bustest.Topics(t, live, 2, topic)
	cfg := behindResets(t, live)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 5 {
		a, err := bus.NewAdmin(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Check(ctx); err != nil {
			t.Fatalf("Check %d: %v", i, err)
		}
		if n, err := a.Partitions(ctx, topic); err != nil || n != 2 {
			t.Fatalf("Partitions %d = %d, %v; want 2", i, n, err)
		}
		if _, err := a.EndOffsets(ctx, topic); err != nil {
			t.Fatalf("EndOffsets %d: %v", i, err)
		}
		if _, err := a.CommittedOffsets(ctx, "g", topic); err != nil {
			t.Fatalf("CommittedOffsets %d: %v", i, err)
		}
		if err := a.EnsureTopics(ctx, bus.TopicSpec{Name: uniqueTopic(t)}); err != nil {
			t.Fatalf("EnsureTopics %d: %v", i, err)
		}
		tail, err := bus.NewTail(ctx, cfg, topic, time.Now().Add(-time.Hour), nil)
		if err != nil {
			t.Fatalf("NewTail %d: %v", i, err)
		}
		_ = tail.Close()
	}
}

// TestConsumerJoinsThroughAnyBootstrapBroker: a group consumer whose first
// bootstrap addresses accept and reset connections still joins its group
// and reads (kafka-go's group reader finds its coordinator through the
// first address that accepts a connection).
func TestConsumerJoinsThroughAnyBootstrapBroker(t *testing.T) {
	live := bustest.Embedded(t, embedded.Options{})
	topic := uniqueTopic(t)
	bustest.Topics(t, live, 1, topic)
	publish(t, live, topic, "m")
	c, err := bus.NewConsumer(behindResets(t, live), bus.ConsumerOptions{Group: "g-" + topic, Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		_ = c.Run(ctx, func(_ context.Context, batch []bus.Message) error {
			got <- string(batch[0].Value)
			cancel()
			return nil
		})
	}()
	select {
	case v := <-got:
		if v != "m" {
			t.Errorf("read %q, want %q", v, "m")
		}
	case <-ctx.Done():
		t.Fatal("the consumer read nothing through the live bootstrap broker")
	}
}
