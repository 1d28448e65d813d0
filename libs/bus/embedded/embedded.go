// Package embedded runs an in-process Kafka-compatible broker
// (github.com/twmb/franz-go/pkg/kfake) for the local stack and fast tests.
// It speaks the Kafka protocol on a real TCP port, so services connect to it
// exactly as to a real cluster. It is not for production: use a real Kafka
// (Strimzi) cluster there.
package embedded

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streamforge/streamforge/libs/bus"
)

// Options configure the embedded broker. The zero value is a PLAINTEXT broker
// on a random loopback port that keeps data in memory.
type Options struct {
	// Port to listen on (0 picks a free one).
	Port int
	// DataDir keeps topics and offsets across restarts when set.
	DataDir string
	// Partitions is the default partition count of new topics (default 3).
	Partitions int
	// AutoCreateTopics lets producers create topics by writing to them.
	AutoCreateTopics bool
	// SASLUser and SASLPassword, when set, require SASL SCRAM-SHA-512 with
	// these credentials.
	SASLUser, SASLPassword string
	// Topics to create at start, with the default partition count.
	Topics []string
}

// Broker is a running embedded broker.
type Broker struct {
	c    *kfake.Cluster
	opts Options
	addr string
}

// Start starts a broker. Close it when done.
func Start(o Options) (*Broker, error) {
	if o.Partitions <= 0 {
		o.Partitions = 3
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(o.Port),
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if o.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(o.DataDir))
	}
	if o.AutoCreateTopics {
		kopts = append(kopts, kfake.AllowAutoTopicCreation())
	}
	if o.SASLUser != "" {
		kopts = append(kopts, kfake.EnableSASL(), kfake.Superuser(bus.ScramSHA512, o.SASLUser, o.SASLPassword))
	}
	if len(o.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(int32(o.Partitions), o.Topics...))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka on port %s: %w", strconv.Itoa(o.Port), err)
	}
	return &Broker{c: c, opts: o, addr: c.ListenAddrs()[0]}, nil
}

// Addr is the host:port clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Config returns client settings for this broker.
func (b *Broker) Config() bus.Config {
	cfg := bus.Config{BootstrapServers: b.Addr(), SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 10 * time.Second}
	if b.opts.SASLUser != "" {
		cfg.SecurityProtocol = bus.SASLPlaintext
		cfg.Username, cfg.Password = b.opts.SASLUser, b.opts.SASLPassword
	}
	return cfg
}

// Close stops the broker, flushing data to DataDir if one is set.
func (b *Broker) Close() { b.c.Close() }

// Restart starts a closed broker again on the same address with the data it
// flushed to DataDir, as a broker that went away for a while comes back
// (for outage tests). It needs a DataDir.
func (b *Broker) Restart() (*Broker, error) {
	if b.opts.DataDir == "" {
		return nil, fmt.Errorf("restart embedded kafka: no DataDir to keep its data in")
	}
	_, port, err := net.SplitHostPort(b.Addr())
	if err != nil {
		return nil, fmt.Errorf("restart embedded kafka: %w", err)
	}
	o := b.opts
	if o.Port, err = strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("restart embedded kafka: port %q: %w", port, err)
	}
	return Start(o)
}
