package bus

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// ReadRange calls fn with the messages of one partition whose offsets are in
// [from, to), in order, and returns when the last one was handled. It is
// how a loader reads back the tail of its own data topic to resume: no
// consumer group, nothing committed.
func ReadRange(ctx context.Context, cfg Config, topic string, partition int, from, to int64, fn func(Message) error) error {
	if from >= to {
		return nil
	}
	d, err := cfg.dialer()
	if err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: cfg.Brokers(), Topic: topic, Partition: partition, Dialer: d,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: fetchWait,
	})
	defer func() { _ = r.Close() }() // read-only: nothing to flush
	if err := r.SetOffset(from); err != nil {
		return fmt.Errorf("position %s[%d] at %d: %w", topic, partition, from, err)
	}
	for {
		km, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s[%d] at %d: %w", topic, partition, from, err)
		}
		if km.Offset >= to {
			return nil
		}
		if err := fn(fromKafka(&km)); err != nil {
			return err
		}
		if km.Offset+1 >= to {
			return nil
		}
	}
}
