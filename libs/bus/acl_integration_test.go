//go:build integration

package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
)

// grants reports whether the rules of s (protocol.Service.ACLs, what the
// Strimzi KafkaUsers are generated from) allow op on the resource of type
// typ ("topic" or "group") named name.
func grants(s protocol.Service, typ, name, op string) bool {
	for _, a := range s.ACLs() {
		if a.Type != typ || !(a.Name == name || a.PatternType == "prefix" && strings.HasPrefix(name, a.Name)) {
			continue
		}
		for _, o := range a.Operations {
			if o == op {
				return true
			}
		}
	}
	return false
}

// denied reports whether err is Kafka refusing an operation for want of an
// ACL (or, for creating a topic, the cluster's Create right).
func denied(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToUpper(err.Error())
	return errors.Is(err, bus.ErrAccess) || strings.Contains(s, "AUTHORIZATION") || strings.Contains(s, "AUTHORIZED")
}

// TestRealServiceACLs runs a real broker with KRaft's StandardAuthorizer
// and one SCRAM-SHA-512 user per service, granted exactly the rules the
// access table (libs/protocol/access.go) gives it, and checks every
// service's operations against the table: what it grants works, the rest
// is denied — a loader or a worker writing queue-control (forging
// commands), queue-manager writing queue-events (forging events), a worker
// creating topics the table does not let it create, anyone but
// queue-manager joining queue-manager's group, anyone but the connector
// joining a connector's group.
func TestRealServiceACLs(t *testing.T) {
	users := map[string]string{}
	for _, s := range protocol.Services {
		users[s.KafkaUser()] = s.Name + "-secret"
	}
	b := bustest.Dedicated(t, bustest.BrokerOptions{Authorizer: true, Users: users})
	const data = protocol.WorkflowPrefix + "btcusdt-api_trades-20240801-a1b2c3-data"
	bustest.Topics(t, b.Config(), 1, protocol.TopicControl, protocol.TopicEvents, data)
	seed, err := bus.NewProducer(b.Config(), bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{protocol.TopicControl, protocol.TopicEvents, data} {
		if err := seed.Publish(t.Context(), topic, []byte("k"), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	_ = seed.Close()
	for _, s := range protocol.Services {
		b.Allow(t, s.KafkaUser(), s.ACLs())
	}

	for _, s := range protocol.Services {
		t.Run(s.Name, func(t *testing.T) {
			cfg := b.SASLConfig(s.KafkaUser(), users[s.KafkaUser()])
			connectorGroup := "arango-connector-" + protocol.WorkflowPrefix + "btcusdt-api_trades-20240801-a1b2c3"
			ops := []struct {
				name string
				want bool
				do   func(ctx context.Context) error
			}{
				{"write queue-control", grants(s, "topic", protocol.TopicControl, "Write"), produce(cfg, protocol.TopicControl)},
				{"write queue-events", grants(s, "topic", protocol.TopicEvents, "Write"), produce(cfg, protocol.TopicEvents)},
				{"write a data topic", grants(s, "topic", data, "Write"), produce(cfg, data)},
				{"read queue-control", grants(s, "topic", protocol.TopicControl, "Read"), read(cfg, protocol.TopicControl, "")},
				{"read queue-events", grants(s, "topic", protocol.TopicEvents, "Read"), read(cfg, protocol.TopicEvents, "")},
				{"read a data topic", grants(s, "topic", data, "Read"), read(cfg, data, "")},
				{"create a data topic", grants(s, "topic", data, "Create"), create(cfg, protocol.WorkflowPrefix+s.Name+"-new-data")},
				{"create another topic", false, create(cfg, "streamforge-acl-"+s.Name)},
				{"read queue-events in group queue-manager", grants(s, "group", "queue-manager", "Read") &&
					grants(s, "topic", protocol.TopicEvents, "Read"), read(cfg, protocol.TopicEvents, "queue-manager")},
				{"read a data topic in a connector's group", grants(s, "group", connectorGroup, "Read") && grants(s, "topic", data, "Read"),
					read(cfg, data, connectorGroup)},
			}
			for _, op := range ops {
				err := attempt(t, op.want, op.do)
				switch {
				case op.want && err != nil:
					t.Errorf("%s as %s: %v, want it allowed (the access table grants it)", op.name, s.KafkaUser(), err)
				case !op.want && !denied(err):
					t.Errorf("%s as %s: %v, want it denied (the access table does not grant it)", op.name, s.KafkaUser(), err)
				default:
					t.Logf("%s: allowed=%v (%v)", op.name, op.want, err)
				}
			}
		})
	}
}

// attempt runs do once for an operation that should be denied; one that
// should be allowed is tried again for a while, as ACLs reach the broker's
// authorizer through the metadata log.
func attempt(t *testing.T, allowed bool, do func(context.Context) error) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		err := do(ctx)
		cancel()
		if err == nil || !allowed || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func produce(cfg bus.Config, topic string) func(context.Context) error {
	return func(ctx context.Context) error {
		p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
		if err != nil {
			return err
		}
		defer func() { _ = p.Close() }()
		return p.Publish(ctx, topic, []byte("k"), []byte(`{}`))
	}
}

func create(cfg bus.Config, topic string) func(context.Context) error {
	return func(ctx context.Context) error {
		a, err := bus.NewAdmin(cfg)
		if err != nil {
			return err
		}
		return a.EnsureTopics(ctx, bus.TopicSpec{Name: topic, Partitions: 1})
	}
}

// read fetches the topic's first record, in group when one is named
// (joining it and committing the offset, as a group reader does).
func read(cfg bus.Config, topic, group string) func(context.Context) error {
	return func(ctx context.Context) error {
		opts := []kgo.Opt{kgo.SeedBrokers(cfg.BootstrapServers), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.SASL(scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha512Mechanism())}
		if group != "" {
			opts = append(opts, kgo.ConsumerGroup(group), kgo.DisableAutoCommit())
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		for {
			fs := cl.PollFetches(ctx)
			if errs := fs.Errors(); len(errs) > 0 {
				return errs[0].Err
			}
			if fs.NumRecords() > 0 {
				if group != "" {
					return cl.CommitUncommittedOffsets(ctx)
				}
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
}
