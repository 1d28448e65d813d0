package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// StartOffsets returns, for each partition of topic, the offset of its oldest
// message still kept (its log start offset).
func (a *Admin) StartOffsets(ctx context.Context, topic string) (map[int]int64, error) {
	n, err := a.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	reqs := make([]kafka.OffsetRequest, n)
	for p := range n {
		reqs[p] = kafka.FirstOffsetOf(p)
	}
	res, err := a.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, a.explain(err))
	}
	out := make(map[int]int64, n)
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets of %s[%d]: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = po.FirstOffset
	}
	if len(out) != n {
		return nil, fmt.Errorf("list offsets of %s: %d of %d partitions answered", topic, len(out), n)
	}
	return out, nil
}

// ReadRange calls fn with the messages of one partition whose offsets are in
// [from, to), in order, and returns when the last one was handled. It is
// how a loader reads back the tail of its own data topic to resume: no
// consumer group, nothing committed.
func ReadRange(ctx context.Context, cfg Config, topic string, partition int, from, to int64, fn func(Message) error) error {
	if from >= to {
		return nil
	}
	d, err := cfg.Dialer()
	if err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: cfg.Brokers(), Topic: topic, Partition: partition, Dialer: d,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond,
	})
	defer func() { _ = r.Close() }() // read-only: nothing to flush
	if err := r.SetOffset(from); err != nil {
		return fmt.Errorf("position %s[%d] at %d: %w", topic, partition, from, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s[%d] at %d: %w", topic, partition, from, err)
		}
		if m.Offset >= to {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset+1 >= to {
			return nil
		}
	}
}
