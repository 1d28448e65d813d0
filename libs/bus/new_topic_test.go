package bus_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streamforge/streamforge/libs/bus"
)

func newTopicCluster(t *testing.T) (*kfake.Cluster, bus.Config) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster, bus.Config{BootstrapServers: cluster.ListenAddrs()[0], SecurityProtocol: bus.Plaintext, DialTimeout: 5 * time.Second}
}

// TestAdminSeesANewTopicAtOnce: kafka-go answers metadata requests from a
// cache it refreshes at a random moment within its MetadataTTL (10 s here),
// so an admin that asked for a topic before it existed went on calling it
// unknown for up to ten seconds after it was created: a view tailing a
// loader's new data topic showed nothing for its whole ten-second run. The
// admin asks the broker itself before it calls a topic missing.
func TestAdminSeesANewTopicAtOnce(t *testing.T) {
	cluster, cfg := newTopicCluster(t)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic(t)
	if _, err := a.Partitions(ctx, topic); !errors.Is(err, kafka.UnknownTopicOrPartition) {
		t.Fatalf("partitions of a topic not created yet: %v, want unknown topic", err)
	}
	if err := cluster.CreateTopic(topic, 3, nil); err != nil {
		t.Fatal(err)
	}
	n, err := a.Partitions(ctx, topic)
	if err != nil || n != 3 {
		t.Fatalf("partitions of %s just after it was created: %d, %v; want 3", topic, n, err)
	}
}

// TestTailsReleaseTheirAdmin: NewTail positions its readers through an
// admin of its own; each used to keep that admin's transport, with its
// connections and its metadata refresh, for the life of the process (a
// market-stream client or a worker's control tail each leaked one).
func TestTailsReleaseTheirAdmin(t *testing.T) {
	cluster, cfg := newTopicCluster(t)
	topic := uniqueTopic(t)
	if err := cluster.CreateTopic(topic, 1, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail := func() {
		tl, err := bus.NewTail(ctx, cfg, topic, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = tl.Close()
	}
	tail() // the first one starts what every later one shares
	before := settledGoroutines(0)
	const tails = 20
	for range tails {
		tail()
	}
	if after := settledGoroutines(before); after >= before+tails {
		t.Errorf("%d goroutines after %d tails were opened and closed, %d before: each tail leaves something running", after, tails, before)
	}
}

// settledGoroutines returns the number of goroutines once it stops
// falling, or once it is at most floor (within five seconds).
func settledGoroutines(floor int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n && (floor == 0 || m <= floor) {
			return m
		}
		n = m
	}
	return n
}
