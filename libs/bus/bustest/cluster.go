package bustest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamforge/streamforge/libs/bus"
)

// clusterPorts is where a cluster's ports are looked for: each node takes
// six (client, internal, controller, its proxy, side, its side proxy) from a
// base ten apart, so a three-node cluster spans 30. KAFKA_CLUSTER_BASE_PORT
// pins the base. The range lies below Linux's ephemeral ports (32768 and
// up by default): a node's own outgoing connections, made while another
// node has not bound its ports yet, cannot take one of them.
const (
	clusterPortsFrom = 29500
	clusterPortsTo   = 29600
	portsPerNode     = 10
)

// Cluster is a real multi-node Apache Kafka cluster of one test, started by
// `platform/kafka/kafka.sh cluster` in a home of its own: every node is
// broker and controller, topics are replicated on three nodes with two in
// sync, and no unclean election. Clients reach each node only through a
// toxiproxy proxy the node advertises (Link), so faults on the client path
// are injected there; replication runs on the nodes' internal listeners,
// which no proxy stands in front of. Each node also has a side listener
// reached through a second proxy of its own (SideLink), for one client to
// be cut off alone: a client bootstrapped on SideBootstrap is told the side
// proxies' addresses, never the others'.
type Cluster struct {
	script   string
	env      []string
	links    []*Link
	side     []*Link
	internal []string // the nodes' internal listener addresses, by node-1
	admin    *kgo.Client
	started  time.Duration
}

// StartCluster starts a cluster of n nodes (3 for the fault suite) for the
// test and stops it, and its proxies, when the test ends. The test is
// skipped when Java or the Kafka jars are absent (see Dedicated), and fails
// when the cluster does not come up.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	root, home := kafkaHome(t)
	base, err := clusterBase(n)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{script: filepath.Join(root, "platform", "kafka", "kafka.sh")}
	tox := newToxiproxy()
	advertised, sideAdvertised := make([]string, n), make([]string, n)
	for i := range n {
		nb := base + portsPerNode*i
		c.internal = append(c.internal, "127.0.0.1:"+strconv.Itoa(nb+1))
		l, err := tox.link(i+1, "node", "127.0.0.1:"+strconv.Itoa(nb+3), "127.0.0.1:"+strconv.Itoa(nb))
		if err != nil {
			t.Fatal(err)
		}
		c.links = append(c.links, l)
		advertised[i] = strconv.Itoa(nb + 3)
		s, err := tox.link(i+1, "side", "127.0.0.1:"+strconv.Itoa(nb+5), "127.0.0.1:"+strconv.Itoa(nb+4))
		if err != nil {
			t.Fatal(err)
		}
		c.side = append(c.side, s)
		sideAdvertised[i] = strconv.Itoa(nb + 5)
	}
	t.Cleanup(tox.close)
	c.env = append(os.Environ(), "KAFKA_HOME="+home, "KAFKA_NODES="+strconv.Itoa(n),
		"KAFKA_CLUSTER_BASE_PORT="+strconv.Itoa(base), "KAFKA_ADVERTISED_PORTS="+strings.Join(advertised, ","),
		"KAFKA_SIDE_ADVERTISED_PORTS="+strings.Join(sideAdvertised, ","))
	t.Cleanup(func() {
		if c.admin != nil {
			c.admin.Close()
		}
		if err := c.run("stop"); err != nil {
			t.Error(err)
		}
	})
	start := time.Now()
	if err := c.run("start"); err != nil {
		t.Fatal(err)
	}
	c.started = time.Since(start)
	c.admin, err = kgo.NewClient(kgo.SeedBrokers(c.internal...), kgo.DialTimeout(2*time.Second),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clusterBase finds the first block of ports for n nodes in which nothing
// listens now, or takes KAFKA_CLUSTER_BASE_PORT.
func clusterBase(n int) (int, error) {
	if v := os.Getenv("KAFKA_CLUSTER_BASE_PORT"); v != "" {
		return strconv.Atoi(v)
	}
	// Outgoing connections take ports from this range too: look at every
	// base, not only at multiples of the block.
	size := portsPerNode * n
	for base := clusterPortsFrom; base+size <= clusterPortsTo; base++ {
		if portsFree(base, n) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free block of %d ports in %d-%d for a %d-node cluster", size, clusterPortsFrom, clusterPortsTo-1, n)
}

func portsFree(base, n int) bool {
	for i := range n {
		for j := range 6 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+portsPerNode*i+j))
			if err != nil {
				return false
			}
			l.Close()
		}
	}
	return true
}

// StartTime is how long `kafka.sh cluster start` took, format included.
func (c *Cluster) StartTime() time.Duration { return c.started }

// Nodes is the number of nodes; they are numbered 1..Nodes().
func (c *Cluster) Nodes() int { return len(c.links) }

// Bootstrap is the comma-separated list of the nodes' proxy addresses.
func (c *Cluster) Bootstrap() string {
	addrs := make([]string, len(c.links))
	for i, l := range c.links {
		addrs[i] = l.Addr()
	}
	return strings.Join(addrs, ",")
}

// SideBootstrap is the comma-separated list of the nodes' side proxy
// addresses: a client bootstrapped there reaches every node through its
// SideLink only.
func (c *Cluster) SideBootstrap() string {
	addrs := make([]string, len(c.side))
	for i, l := range c.side {
		addrs[i] = l.Addr()
	}
	return strings.Join(addrs, ",")
}

// Config returns client settings that reach the cluster through the proxies.
func (c *Cluster) Config() bus.Config {
	return bus.Config{BootstrapServers: c.Bootstrap(), SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 10 * time.Second}
}

// Link is the proxy in front of node (1..Nodes()).
func (c *Cluster) Link(node int) *Link { return c.links[node-1] }

// SideLink is the proxy in front of node's side listener (1..Nodes()).
func (c *Cluster) SideLink(node int) *Link { return c.side[node-1] }

// Kill sends SIGKILL to node and waits until it is gone.
func (c *Cluster) Kill(t testing.TB, node int) { t.Helper(); c.must(t, "kill", node) }

// Pause stops node with SIGSTOP: its sockets stay open and nothing answers,
// as with a hung process or a long GC pause.
func (c *Cluster) Pause(t testing.TB, node int) { t.Helper(); c.must(t, "pause", node) }

// Resume continues a paused node (SIGCONT).
func (c *Cluster) Resume(t testing.TB, node int) { t.Helper(); c.must(t, "resume", node) }

// Stop shuts node down cleanly (SIGTERM): it hands its leaderships over
// first.
func (c *Cluster) Stop(t testing.TB, node int) { t.Helper(); c.must(t, "stop-node", node) }

// Restart starts a stopped or killed node again on its data and waits until
// it answers. A start that fails is tried twice more, 2 s apart: while a
// node is down, the kernel may hand one of its ports to a client as an
// ephemeral port for a moment.
func (c *Cluster) Restart(t testing.TB, node int) {
	t.Helper()
	for try := 1; try < 3; try++ {
		err := c.run("restart", strconv.Itoa(node))
		if err == nil {
			return
		}
		t.Logf("restart of node %d failed (try %d of 3): %v", node, try, err)
		time.Sleep(2 * time.Second)
	}
	c.must(t, "restart", node)
}

func (c *Cluster) must(t testing.TB, cmd string, node int) {
	t.Helper()
	if node < 1 || node > c.Nodes() {
		t.Fatalf("%s: node %d is not one of 1..%d", cmd, node, c.Nodes())
	}
	if err := c.run(cmd, strconv.Itoa(node)); err != nil {
		t.Fatal(err)
	}
}

func (c *Cluster) run(args ...string) error {
	cmd := exec.Command(c.script, append([]string{"cluster"}, args...)...)
	cmd.Env = c.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kafka.sh cluster %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Leader returns the node leading partition of topic as the cluster's
// metadata says now, -1 while it has none. It asks the nodes in turn on
// their internal listeners, so a dead or paused node or a toxic on a proxy
// does not stand in the way; it returns an error when none answers within
// ctx or the topic or partition does not exist.
func (c *Cluster) Leader(ctx context.Context, topic string, partition int) (int, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	var leader int
	err := c.ask(ctx, req, func(r kmsg.Response) error {
		resp := r.(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 {
			return fmt.Errorf("metadata of %s: %d topics in the answer", topic, len(resp.Topics))
		}
		tp := resp.Topics[0]
		if err := kerr.ErrorForCode(tp.ErrorCode); err != nil {
			return fmt.Errorf("metadata of %s: %w", topic, err)
		}
		for _, p := range tp.Partitions {
			if int(p.Partition) == partition {
				leader = int(p.Leader)
				return nil
			}
		}
		return fmt.Errorf("topic %s has no partition %d", topic, partition)
	})
	return leader, err
}

// Controller returns the node id of the active KRaft controller (the
// quorum's leader), asking the nodes in turn as Leader does.
func (c *Cluster) Controller(ctx context.Context) (int, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rp := kmsg.NewDescribeQuorumRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	var leader int
	err := c.ask(ctx, req, func(r kmsg.Response) error {
		resp := r.(*kmsg.DescribeQuorumResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("describe quorum: %w", err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return errors.New("describe quorum: no metadata partition in the answer")
		}
		p := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			return fmt.Errorf("describe quorum: %w", err)
		}
		leader = int(p.LeaderID)
		return nil
	})
	return leader, err
}

// ask sends req to each node in turn, each with a few seconds to answer,
// until read accepts an answer.
func (c *Cluster) ask(ctx context.Context, req kmsg.Request, read func(kmsg.Response) error) error {
	var errs []error
	for i, b := range c.admin.SeedBrokers() {
		actx, cancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := b.Request(actx, req)
		cancel()
		if err == nil {
			if err = read(resp); err == nil {
				return nil
			}
		}
		errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}
