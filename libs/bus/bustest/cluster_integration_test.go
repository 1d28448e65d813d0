//go:build integration

package bustest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// TestRealCluster checks the fault harness on one three-node cluster: it
// comes up, clients see only the proxies, a replicated topic is written and
// read through them, killing a partition's leader elects another and
// writes go on with acks from all in-sync replicas, a latency toxic on the
// leader's link shows in a produce's round trip, a link taken down cuts
// clients off its node, and a paused node does not hold up Leader.
func TestRealCluster(t *testing.T) {
	began := time.Now()
	c := bustest.StartCluster(t, 3)
	t.Logf("3-node cluster started in %s, bootstrap %s", c.StartTime().Round(time.Millisecond), c.Bootstrap())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := c.Config()

	t.Run("clients see only the proxies", func(t *testing.T) {
		got := advertised(ctx, t, c.Bootstrap())
		want := strings.Split(c.Bootstrap(), ",")
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("brokers in metadata = %v, want the proxies %v", got, want)
		}
	})

	t.Run("side clients see only the side proxies", func(t *testing.T) {
		got := advertised(ctx, t, c.SideBootstrap())
		want := strings.Split(c.SideBootstrap(), ",")
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("brokers in metadata = %v, want the side proxies %v", got, want)
		}
	})

	t.Run("controller", func(t *testing.T) {
		id, err := c.Controller(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id < 1 || id > c.Nodes() {
			t.Errorf("Controller = %d, want a node in 1..%d", id, c.Nodes())
		}
	})

	topic := "harness"
	admin, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureTopics(ctx, bus.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sent := 0
	send := func(ctx context.Context, n int, tag string) error {
		msgs := make([]bus.Message, n)
		for i := range msgs {
			msgs[i] = bus.Message{Topic: topic, Key: []byte("k"), Value: fmt.Appendf(nil, "%s-%d", tag, i)}
		}
		if err := p.Send(ctx, msgs...); err != nil {
			return err
		}
		sent += n
		return nil
	}
	if err := send(ctx, 100, "before"); err != nil {
		t.Fatal(err)
	}

	t.Run("leader failover", func(t *testing.T) {
		old, err := c.Leader(ctx, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		c.Kill(t, old)
		var now int
		for now = old; now == old || now == -1; {
			time.Sleep(100 * time.Millisecond)
			if ctx.Err() != nil {
				t.Fatalf("no new leader for %s-0 %s after node %d was killed", topic, time.Since(killed), old)
			}
			if now, err = c.Leader(ctx, topic, 0); err != nil {
				now = old
			}
		}
		elected := time.Since(killed)
		// Two of three replicas are in sync: acks=all still succeeds.
		if err := send(ctx, 100, "after"); err != nil {
			t.Fatalf("produce after node %d was killed: %v", old, err)
		}
		t.Logf("node %d killed: node %d leads after %s, produce acknowledged after %s",
			old, now, elected.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
		restarted := time.Now()
		c.Restart(t, old)
		t.Logf("node %d restarted on its data in %s", old, time.Since(restarted).Round(time.Millisecond))
	})

	t.Run("read back through the proxies", func(t *testing.T) {
		if got := consume(ctx, t, c.Bootstrap(), topic, sent); got != sent {
			t.Errorf("read %d records, want the %d acknowledged", got, sent)
		}
	})

	t.Run("latency toxic", func(t *testing.T) {
		leader, err := c.Leader(ctx, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		rtt := func() time.Duration {
			t.Helper()
			start := time.Now()
			if err := send(ctx, 1, "rtt"); err != nil {
				t.Fatal(err)
			}
			return time.Since(start)
		}
		base := rtt()
		const latency = 500 * time.Millisecond
		x := c.Link(leader).Latency(t, latency, 0)
		slow := rtt()
		x.Remove(t)
		after := rtt()
		t.Logf("produce round trip to node %d: %s, with a %s latency toxic %s, after its removal %s",
			leader, base.Round(time.Millisecond), latency, slow.Round(time.Millisecond), after.Round(time.Millisecond))
		if slow < latency {
			t.Errorf("round trip with a %s latency toxic = %s, want at least the toxic's latency", latency, slow)
		}
	})
	t.Run("a link down cuts clients off its node", func(t *testing.T) {
		leader, err := c.Leader(ctx, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		c.Link(leader).Down()
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		err = send(dctx, 1, "down")
		dcancel()
		c.Link(leader).Up(t)
		if err == nil {
			t.Errorf("produce to node %d succeeded with its proxy down: the client went around it", leader)
		}
		if err := send(ctx, 1, "up"); err != nil {
			t.Errorf("produce after the proxy of node %d came back: %v", leader, err)
		}
	})

	t.Run("a paused node does not hold up Leader", func(t *testing.T) {
		c.Pause(t, 1)
		start := time.Now()
		_, err := c.Leader(ctx, topic, 0)
		took := time.Since(start)
		c.Resume(t, 1)
		if err != nil {
			t.Errorf("Leader with node 1 paused: %v", err)
		}
		t.Logf("Leader answered in %s with node 1 paused", took.Round(time.Millisecond))
	})
	t.Logf("harness test took %s (cluster start included)", time.Since(began).Round(time.Millisecond))
}

// advertised returns the sorted broker addresses the cluster's metadata
// gives a client that bootstraps from addrs.
func advertised(ctx context.Context, t *testing.T, addrs string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(addrs, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range resp.Brokers {
		got = append(got, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	slices.Sort(got)
	return got
}

// consume reads topic from the start through addrs until it has want
// records or a few seconds pass without one, and returns how many it read.
func consume(ctx context.Context, t *testing.T, addrs, topic string, want int) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(addrs, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	for got < want {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cl.PollFetches(fctx)
		idle := fctx.Err() != nil
		cancel()
		if idle {
			break
		}
		for _, err := range fs.Errors() {
			t.Logf("fetch %s-%d: %v", err.Topic, err.Partition, err.Err)
		}
		got += fs.NumRecords()
	}
	return got
}
