package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streamforge/streamforge/libs/bus"
)

// TestAdminFollowsAMovedLeader: once a partition's leader moved (its broker
// died, another took over), the next offsets request answers from the new
// leader instead of asking the old one again from a cached cluster layout
// (kafka-go keeps the layout it learnt through a bootstrap broker until a
// refresh, up to its metadata TTL; a dead bootstrap broker never refreshes
// it). The connector's wait for the last records and queue-manager's tail
// positioning read offsets this way.
func TestAdminFollowsAMovedLeader(t *testing.T) {
	const topic = "moved"
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := bus.Config{BootstrapServers: strings.Join(c.ListenAddrs(), ","), SecurityProtocol: bus.Plaintext,
		SASLMechanism: bus.ScramSHA512, DialTimeout: 5 * time.Second}
	publish(t, cfg, topic, "m")
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.EndOffsets(ctx, topic); err != nil {
		t.Fatal(err)
	}
	leader := c.LeaderFor(topic, 0)
	if err := c.MoveTopicPartition(topic, 0, (leader+1)%3); err != nil {
		t.Fatal(err)
	}
	// Well within the metadata TTL: the answer must not wait for a refresh.
	mctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ends, err := a.EndOffsets(mctx, topic)
	if err != nil || ends[0] != 1 {
		t.Errorf("EndOffsets after the leader moved = %v, %v; want partition 0 at 1", ends, err)
	}
}
