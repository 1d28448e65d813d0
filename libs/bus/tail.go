package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/streamforge/streamforge/libs/retry"
)

// Tail reads every partition of one topic from a point in time, without a
// consumer group and without committing. Every Tail sees every message, which
// is what a worker needs on queue-control (all workers must see a stop, not
// one of them) and what a tool needs to watch queue-events. It is ready to
// deliver as soon as NewTail returns: there is no group to join.
type Tail struct {
	// OnError, when set before Run, is told of a partition's failed read
	// (the broker unreachable): once when its reads start failing, and
	// with nil once it delivers again.
	OnError func(partition int, err error)

	topic   string
	readers []*kafka.Reader
	m       *Metrics
}

// NewTail positions a reader on each partition of topic at the first message
// at or after since (the end of the partition when there is none; the
// beginning when since is zero). A broker that does not answer, or a
// bootstrap address that resets the connection, is ridden out: every
// bootstrap broker is tried, and the positioning is retried with capped,
// jittered backoff until ctx ends, or for PositionWait when ctx has no
// deadline; the error then names the last failure.
func NewTail(ctx context.Context, cfg Config, topic string, since time.Time, m *Metrics) (*Tail, error) {
	a, err := NewAdmin(cfg)
	if err != nil {
		return nil, err
	}
	defer a.Close() // positioning is all it is for
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, PositionWait)
		defer cancel()
	}
	var offsets []int64
	backoff := retry.Backoff{Base: 200 * time.Millisecond, Max: 2 * time.Second}
	for n := 0; ; n++ {
		offsets, err = positions(ctx, a, d, cfg.Brokers(), topic, since)
		if err == nil || !passing(err) || !retry.Sleep(ctx, backoff.Delay(n)) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	t := &Tail{topic: topic, m: m}
	for p, off := range offsets {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:   cfg.Brokers(),
			Topic:     topic,
			Partition: p,
			Dialer:    d,
			MinBytes:  1,
			MaxBytes:  4 << 20,
			MaxWait:   fetchWait,
		})
		t.readers = append(t.readers, r)
		if err := r.SetOffset(off); err != nil {
			_ = t.Close() // the positioning error is the one to report
			return nil, fmt.Errorf("position %s[%d] at %d: %w", topic, p, off, err)
		}
	}
	return t, nil
}

// PositionWait bounds NewTail's positioning when its context has no
// deadline.
const PositionWait = time.Minute

// positions returns, for each partition of topic, the offset its reader
// starts at.
func positions(ctx context.Context, a *Admin, d *kafka.Dialer, brokers []string, topic string, since time.Time) ([]int64, error) {
	n, err := a.Partitions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	out := make([]int64, n)
	for p := range n {
		out[p] = kafka.FirstOffset
		if since.IsZero() {
			continue
		}
		if out[p], err = offsetAt(ctx, d, brokers, topic, p, since); err != nil {
			return nil, fmt.Errorf("position %s[%d] at %s: %w", topic, p, since.Format(time.RFC3339), err)
		}
	}
	return out, nil
}

// Run calls h for each message, one at a time, in order within a partition,
// until ctx is cancelled (it then returns nil) or h fails (its error is
// returned at once). A read that fails (the broker unreachable) does not end
// Run: that partition's reader reconnects by itself and is read again after
// a capped, jittered pause, and the other partitions go on meanwhile, so a
// message written once the broker is back is still delivered. OnError is
// told.
func (t *Tail) Run(ctx context.Context, h func(ctx context.Context, m Message) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	msgs := make(chan Message)
	for _, r := range t.readers {
		wg.Go(func() { t.read(ctx, r, msgs) })
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			t.m.consumed.WithLabelValues(m.Topic).Inc()
			if err := h(ctx, m); err != nil {
				return err
			}
		}
	}
}

// read hands the messages of one partition to msgs until ctx ends.
func (t *Tail) read(ctx context.Context, r *kafka.Reader, msgs chan<- Message) {
	backoff := retry.Backoff{Base: 200 * time.Millisecond, Max: 2 * time.Second}
	p := r.Config().Partition
	fails := 0
	for {
		km, err := r.ReadMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if fails == 0 && t.OnError != nil {
				t.OnError(p, fmt.Errorf("read %s[%d]: %w", t.topic, p, err))
			}
			if !retry.Sleep(ctx, backoff.Delay(fails)) {
				return
			}
			fails++
			continue
		}
		if fails > 0 && t.OnError != nil {
			t.OnError(p, nil)
		}
		fails = 0
		select {
		case msgs <- fromKafka(&km):
		case <-ctx.Done():
			return
		}
	}
}

// Close releases the readers without waiting for them: a reader finishes
// the fetch it has in flight (up to fetchWait) in the background and
// then closes its connection, so a worker exits as soon as its work is done.
func (t *Tail) Close() error {
	for _, r := range t.readers {
		go func() { _ = r.Close() }()
	}
	return nil
}

// offsetAt returns the offset of the first message at or after t, or the
// current end of the partition when there is none. The end is resolved now,
// not when the reader first fetches: kafka-go's LastOffset would skip
// messages written in between. The partition's leader is found through the
// first bootstrap broker that answers: one broker down must not stop a
// reader that the others can serve.
func offsetAt(ctx context.Context, d *kafka.Dialer, brokers []string, topic string, partition int, t time.Time) (int64, error) {
	var errs []error
	for _, b := range brokers {
		off, err := offsetAtVia(ctx, d, b, topic, partition, t)
		if err == nil {
			return off, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return 0, errors.Join(errs...)
}

func offsetAtVia(ctx context.Context, d *kafka.Dialer, broker, topic string, partition int, t time.Time) (int64, error) {
	conn, err := d.DialLeader(ctx, "tcp", broker, topic, partition)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	off, err := conn.ReadOffset(t)
	if err != nil {
		return 0, err
	}
	if off >= 0 {
		return off, nil
	}
	return conn.ReadLastOffset()
}
