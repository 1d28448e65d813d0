package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// Message is a Kafka message. Topic must be set on every message sent.
type Message = kafka.Message

// ProducerOptions tune batching. The zero value of a field means its default.
type ProducerOptions struct {
	// BatchSize is the most messages per partition batch (default 1000).
	BatchSize int
	// BatchBytes caps a batch's encoded size (default 900 KiB, under the
	// broker's 1 MiB message.max.bytes: a larger batch fails whole).
	BatchBytes int64
	// BatchTimeout is how long a partial batch waits for more messages
	// (default 5ms; kafka-go's own default of 1s makes small sends crawl).
	BatchTimeout time.Duration
	// Compression is none (default), gzip, snappy, lz4 or zstd.
	Compression string
	// MaxAttempts is how often a batch is tried before its error is
	// returned (default 5).
	MaxAttempts int
	// Metrics receives the produce counters; nil keeps them unregistered.
	Metrics *Metrics
}

// Producer writes messages with acks from all in-sync replicas, partitioned
// by a murmur2 hash of the key (the same partition a Java client picks), so
// per-key order holds across clients.
type Producer struct {
	w *kafka.Writer
	m *Metrics
}

// NewProducer returns a producer for cfg. It fails on invalid settings only;
// use Admin.Check to find out early whether the brokers can be reached.
func NewProducer(cfg Config, opts ProducerOptions) (*Producer, error) {
	t, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:            kafka.TCP(cfg.Brokers()...),
		Balancer:        kafka.Murmur2Balancer{},
		RequiredAcks:    kafka.RequireAll,
		BatchSize:       orDefault(opts.BatchSize, 1000),
		BatchBytes:      orDefault(opts.BatchBytes, 900<<10),
		BatchTimeout:    orDefault(opts.BatchTimeout, 5*time.Millisecond),
		MaxAttempts:     orDefault(opts.MaxAttempts, 5),
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: time.Second,
		Transport:       sendMemo{t},
	}
	switch opts.Compression {
	case "", "none":
	case "gzip":
		w.Compression = compress.Gzip
	case "snappy":
		w.Compression = compress.Snappy
	case "lz4":
		w.Compression = compress.Lz4
	case "zstd":
		w.Compression = compress.Zstd
	default:
		return nil, fmt.Errorf("compression %q is not one of none, gzip, snappy, lz4, zstd", opts.Compression)
	}
	m := opts.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Producer{w: w, m: m}, nil
}

// sendMemo is the writer's transport. kafka-go's Writer asks the transport
// for a topic's metadata once per message to count its partitions; the
// transport answers from its cache, but each answer is a fresh filtered copy
// and several allocations, a tenth of the loader's CPU. Within one Send
// (the context carries a metadataMemo) the first answer for a topic is
// reused, so a Send sees one partition count, as kafka-go's cache would
// give it anyway.
type sendMemo struct{ kafka.RoundTripper }

type sendMemoKey struct{}

type metadataMemo struct {
	mu    sync.Mutex
	topic string
	res   kafka.Response
}

func (t sendMemo) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	memo, _ := ctx.Value(sendMemoKey{}).(*metadataMemo)
	mr, ok := req.(*metadata.Request)
	if memo == nil || !ok || len(mr.TopicNames) != 1 {
		return t.RoundTripper.RoundTrip(ctx, addr, req)
	}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if memo.res != nil && memo.topic == mr.TopicNames[0] {
		return memo.res, nil
	}
	res, err := t.RoundTripper.RoundTrip(ctx, addr, req)
	if err == nil {
		memo.topic, memo.res = mr.TopicNames[0], res
	}
	return res, err
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Send writes msgs and returns when the broker acknowledged all of them or
// some failed. On failure the error says how many of how many failed and why
// (the first cause of each distinct kind); messages that did not fail were
// delivered. Send is safe for concurrent use.
func (p *Producer) Send(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	start := time.Now()
	err := p.w.WriteMessages(context.WithValue(ctx, sendMemoKey{}, &metadataMemo{}), msgs...)
	p.m.produceBatch.Observe(time.Since(start).Seconds())
	if err == nil {
		countByTopic(p.m.produced, msgs)
		return nil
	}
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		countByTopic(p.m.produceErrors, msgs)
		return fmt.Errorf("produce %d messages to %s: %w", len(msgs), topicsOf(msgs), err)
	}
	var failed []Message
	var ok []Message
	var causes []error
	seen := map[string]bool{}
	for i, e := range werrs {
		if e == nil {
			ok = append(ok, msgs[i])
			continue
		}
		failed = append(failed, msgs[i])
		if !seen[e.Error()] {
			seen[e.Error()] = true
			causes = append(causes, e)
		}
	}
	countByTopic(p.m.produced, ok)
	countByTopic(p.m.produceErrors, failed)
	return fmt.Errorf("produce to %s: %d of %d messages failed: %w", topicsOf(failed), len(failed), len(msgs), errors.Join(causes...))
}

// Publish sends one message.
func (p *Producer) Publish(ctx context.Context, topic string, key, value []byte) error {
	return p.Send(ctx, Message{Topic: topic, Key: key, Value: value})
}

// Close flushes nothing (Send is synchronous) and releases connections.
func (p *Producer) Close() error { return p.w.Close() }

func topicsOf(msgs []Message) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range msgs {
		if !seen[m.Topic] {
			seen[m.Topic] = true
			out = append(out, m.Topic)
		}
	}
	if len(out) == 1 {
		return "topic " + out[0]
	}
	return fmt.Sprintf("topics %v", out)
}

// PartitionOf returns the partition the producer writes key to when topic
// has n partitions (murmur2, as the Java client does).
func PartitionOf(key []byte, n int) int {
	parts := make([]int, n)
	for i := range parts {
		parts[i] = i
	}
	return kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: key}, parts...)
}
