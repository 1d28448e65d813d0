package bus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerOptions tune the producer. The zero value of a field means its
// default.
type ProducerOptions struct {
	// BatchBytes caps one partition's batch in a produce request (default
	// 900 KiB, under the broker's 1 MiB message.max.bytes: a larger batch
	// fails whole).
	BatchBytes int64
	// Linger is how long a partition's records wait for more before a
	// request is built (default 0: at once; while the five requests a
	// broker may have in flight are out, records gather into full batches
	// anyway).
	Linger time.Duration
	// Compression is none (default), gzip, snappy, lz4 or zstd.
	Compression string
	// MaxAttempts is how often a record is tried after retriable errors, and
	// how often a missing topic is looked up, before the record fails
	// (default 5).
	MaxAttempts int
	// DeliveryTimeout bounds the time from Send to acknowledgement, retries
	// included (default 30s).
	DeliveryTimeout time.Duration
	// RideOut, when set, is how long a record waits out a broker that
	// cannot be reached: it is tried again without a count until RideOut
	// after it was handed over (RideOut replaces DeliveryTimeout), so an
	// outage shorter than RideOut delays records instead of failing them.
	// A topic that does not exist still fails after MaxAttempts lookups.
	RideOut time.Duration
	// Metrics receives the produce counters; nil keeps them unregistered.
	Metrics *Metrics
}

// Producer writes messages idempotently with acks from all in-sync replicas,
// up to five produce requests in flight per broker, partitioned by a murmur2
// hash of the key (the partition a Java client picks), so per-key order
// holds across clients.
//
// The records of one partition are written in the order they were handed to
// Send or SendAsync, across calls, retries included: the broker checks the
// idempotent producer's sequence numbers. When a record fails, every record
// buffered after it for its partition fails too, so a partition never holds
// a record written after one that was lost — what lets a loader resume after
// the last record of its topic.
type Producer struct {
	cl       *kgo.Client
	m        *Metrics
	delivery time.Duration // how long Close waits for buffered records
}

// NewProducer returns a producer for cfg. It fails on invalid settings only;
// use Admin.Check to find out early whether the brokers can be reached.
func NewProducer(cfg Config, opts ProducerOptions) (*Producer, error) {
	kopts, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	var codec kgo.CompressionCodec
	switch opts.Compression {
	case "", "none":
		codec = kgo.NoCompression()
	case "gzip":
		codec = kgo.GzipCompression()
	case "snappy":
		codec = kgo.SnappyCompression()
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("compression %q is not one of none, gzip, snappy, lz4, zstd", opts.Compression)
	}
	attempts := orDefault(opts.MaxAttempts, 5)
	// franz-go counts a failed dial as a try: riding out an outage means
	// not counting them, and bounding the wait by time instead.
	retries, delivery := attempts, orDefault(opts.DeliveryTimeout, 30*time.Second)
	if opts.RideOut > 0 {
		retries, delivery = math.MaxInt32, opts.RideOut
	}
	kopts = append(kopts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(partitioner()),
		kgo.ProducerBatchMaxBytes(int32(min(orDefault(opts.BatchBytes, 900<<10), 1<<30))),
		kgo.ProducerLinger(max(opts.Linger, 0)),
		kgo.ProducerBatchCompression(codec),
		kgo.RecordRetries(retries),
		kgo.UnknownTopicRetries(attempts),
		kgo.RecordDeliveryTimeout(delivery),
	)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	m := opts.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Producer{cl: cl, m: m, delivery: delivery}, nil
}

// partitioner is murmur2 of the key modulo the partition count, as the Java
// client does (records without a key stick to one partition per batch).
func partitioner() kgo.Partitioner { return kgo.StickyKeyPartitioner(nil) }

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Send writes msgs and returns when the broker acknowledged all of them or
// some failed. On failure the error says how many of how many failed and why
// (the first cause of each distinct kind); messages that did not fail were
// delivered. When ctx ends first, Send returns its cause at once: the
// messages may still be delivered later. Send is safe for concurrent use.
func (p *Producer) Send(ctx context.Context, msgs ...Message) error {
	done := make(chan error, 1)
	p.SendAsync(ctx, msgs, func(err error) { done <- err })
	// An idempotent producer does not fail a record whose earlier request
	// to a broker that went away may have been written: without ctx, Send
	// would wait for that broker however long it is gone.
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("produce %d messages: %w", len(msgs), context.Cause(ctx))
	}
}

// SendAsync hands msgs to the producer and returns without waiting for the
// broker (it blocks only while 50,000 records are buffered). done is called
// once, on another goroutine, when all of msgs were acknowledged or some
// failed, with the error Send would return; it must not block. msgs and their
// bytes must not change until then.
func (p *Producer) SendAsync(ctx context.Context, msgs []Message, done func(error)) {
	if len(msgs) == 0 {
		done(nil)
		return
	}
	s := &sending{p: p, msgs: msgs, done: done, start: time.Now()}
	s.left.Store(int64(len(msgs)))
	recs := make([]kgo.Record, len(msgs))
	// The headers of all records share one array: one allocation per call,
	// none when no message has headers.
	nh := 0
	for i := range msgs {
		nh += len(msgs[i].Headers)
	}
	var hs []kgo.RecordHeader
	if nh > 0 {
		hs = make([]kgo.RecordHeader, nh)
	}
	now := time.Now() // the timestamp of messages without one: one clock read per call
	for i := range msgs {
		m, r := &msgs[i], &recs[i]
		r.Topic, r.Key, r.Value, r.Timestamp = m.Topic, m.Key, m.Value, m.Time
		if r.Timestamp.IsZero() {
			r.Timestamp = now
		}
		if n := len(m.Headers); n > 0 {
			r.Headers, hs = hs[:n:n], hs[n:]
			for j, h := range m.Headers {
				r.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
		p.cl.Produce(ctx, r, s.promise)
	}
}

// sending is one Send's messages on their way.
type sending struct {
	p     *Producer
	msgs  []Message
	done  func(error)
	start time.Time
	left  atomic.Int64

	mu     sync.Mutex
	failed map[string]int // failed messages by topic
	nFail  int
	causes []error
	seen   map[string]bool
}

func (s *sending) promise(r *kgo.Record, err error) {
	if err != nil {
		s.mu.Lock()
		if s.failed == nil {
			s.failed, s.seen = map[string]int{}, map[string]bool{}
		}
		s.failed[r.Topic]++
		s.nFail++
		if !s.seen[err.Error()] {
			s.seen[err.Error()] = true
			s.causes = append(s.causes, err)
		}
		s.mu.Unlock()
	}
	if s.left.Add(-1) == 0 {
		s.finish()
	}
}

func (s *sending) finish() {
	m := s.p.m
	m.produceBatch.Observe(time.Since(s.start).Seconds())
	if s.nFail == 0 {
		countByTopic(m.produced, s.msgs)
		s.done(nil)
		return
	}
	var topics []string
	total := map[string]int{}
	for _, msg := range s.msgs {
		if total[msg.Topic]++; total[msg.Topic] == 1 {
			topics = append(topics, msg.Topic)
		}
	}
	var failedTopics []string
	for _, t := range topics {
		m.produced.WithLabelValues(t).Add(float64(total[t] - s.failed[t]))
		if s.failed[t] > 0 {
			m.produceErrors.WithLabelValues(t).Add(float64(s.failed[t]))
			failedTopics = append(failedTopics, t)
		}
	}
	s.done(fmt.Errorf("produce to %s: %d of %d messages failed: %w",
		topicList(failedTopics), s.nFail, len(s.msgs), errors.Join(s.causes...)))
}

// Publish sends one message.
func (p *Producer) Publish(ctx context.Context, topic string, key, value []byte) error {
	return p.Send(ctx, Message{Topic: topic, Key: key, Value: value})
}

// Close waits up to the delivery timeout (or RideOut) for messages handed
// to SendAsync and releases connections.
func (p *Producer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.delivery)
	defer cancel()
	err := p.cl.Flush(ctx)
	p.cl.Close()
	return err
}

func topicList(topics []string) string {
	if len(topics) == 1 {
		return "topic " + topics[0]
	}
	return fmt.Sprintf("topics %v", topics)
}

// PartitionOf returns the partition the producer writes key to when its
// topic has n partitions.
func PartitionOf(key []byte, n int) int {
	return int(partitioner().ForTopic("").Partition(&kgo.Record{Key: key}, n))
}
