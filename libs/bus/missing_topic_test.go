package bus_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamforge/streamforge/libs/bus"
)

// TestConsumerWaitsForAMissingTopic: a consumer started before its topic
// exists (a connector ahead of its loader) asks for the topic with backoff
// and tells it is waiting, without joining the group (kafka-go's reader
// rejoins in a tight loop while a topic is missing); once the topic is
// created, it joins and reads.
func TestConsumerWaitsForAMissingTopic(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var joins atomic.Int64
	cluster.ControlKey(int16(kmsg.JoinGroup), func(kmsg.Request) (kmsg.Response, error, bool) {
		joins.Add(1)
		return nil, nil, false
	})
	cfg := bus.Config{BootstrapServers: cluster.ListenAddrs()[0], SecurityProtocol: bus.Plaintext, DialTimeout: 5 * time.Second}
	testWaitForMissingTopic(t, cfg, func(topic string) error { return cluster.CreateTopic(topic, 1, nil) }, joins.Load)
}

// testWaitForMissingTopic runs the scenario on cfg's broker; create makes
// the topic, joins (nil when it cannot be counted) tells the JoinGroup
// requests the broker saw.
func testWaitForMissingTopic(t *testing.T, cfg bus.Config, create func(topic string) error, joins func() int64) {
	topic := uniqueTopic(t)

	type check struct {
		missing []string
		n       int
		next    time.Duration
	}
	checks := make(chan check, 1000)
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, RetryBackoff: 20 * time.Millisecond,
		OnTopicsMissing: func(missing []string, n int, next time.Duration) { checks <- check{missing, n, next} }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- c.Run(ctx, func(_ context.Context, batch []bus.Message) error {
			select {
			case got <- string(batch[0].Value):
			default:
			}
			return nil
		})
	}()

	// Five checks of the missing topic, each told, each wait at least half
	// of the doubling delay (the other half is jitter), and not one
	// JoinGroup.
	for i := 1; i <= 5; i++ {
		select {
		case err := <-runErr:
			t.Fatalf("Run ended while waiting for the topic: %v", err)
		case <-ctx.Done():
			t.Fatalf("check %d never told", i)
		case c := <-checks:
			if c.n != i || !slices.Equal(c.missing, []string{topic}) {
				t.Errorf("check %d told as %d, missing %v; want [%s]", i, c.n, c.missing, topic)
			}
			if least := 20 * time.Millisecond << (i - 1) / 2; c.next < least {
				t.Errorf("check %d: next wait %s, want at least %s (backoff)", i, c.next, least)
			}
		}
	}
	if joins != nil && joins() != 0 {
		t.Errorf("%d JoinGroup requests while the topic is missing, want none", joins())
	}

	// The topic appears: the consumer joins and reads.
	if err := create(topic); err != nil {
		t.Fatal(err)
	}
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Publish(ctx, topic, nil, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != "hello" {
			t.Errorf("read %q, want hello", v)
		}
	case err := <-runErr:
		t.Fatalf("Run ended: %v", err)
	case <-ctx.Done():
		t.Fatal("nothing read after the topic was created")
	}
	if joins != nil && joins() == 0 {
		t.Error("read without joining the group")
	}
}
