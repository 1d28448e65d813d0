package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
)

// Handler processes one batch of messages. It returns nil only when every
// message is handled for good (written, or deliberately skipped); only then
// are the batch's offsets committed. A returned error makes the consumer try
// the same batch again.
type Handler func(ctx context.Context, batch []Message) error

// MaxRetryWait is the longest wait between a consumer's retries, of a
// failed batch or of a broker it cannot reach: a broker back from an outage
// is noticed within it (Kafka's own clients reconnect at most 1 s apart; a
// longer cap would leave a recovered pipeline idle for up to that long).
const MaxRetryWait = 5 * time.Second

// ConsumerOptions tune a consumer. The zero value of a field means its default.
type ConsumerOptions struct {
	// Group is the consumer group id (required).
	Group string
	// Topics to read (at least one).
	Topics []string
	// FromLatest makes a group with no committed offset start at the end of
	// each partition instead of the beginning.
	FromLatest bool
	// BatchSize is the most messages handed to the handler at once (default 1).
	BatchSize int
	// BatchWait is how long a batch waits to fill after its first message
	// (default 100ms; unused when BatchSize is 1).
	BatchWait time.Duration
	// MaxRetries is how often a failed batch is retried before Run gives up
	// and returns the error, offsets uncommitted (default 5).
	MaxRetries int
	// RetryForever retries a failed batch until ctx ends instead of giving
	// up after MaxRetries (a handler whose dependency is waited out).
	RetryForever bool
	// RetryBackoff is the first wait between retries; it doubles up to
	// MaxRetryWait, jittered (default 200ms).
	RetryBackoff time.Duration
	// Metrics receives the consume counters; nil keeps them unregistered.
	Metrics *Metrics
	// OnOutage is told when the consumer cannot read or commit (with the
	// error; Run keeps trying, with capped, jittered backoff) and when it
	// can again (nil). Calls come from Run's goroutine, on changes only;
	// Metrics' consumer outage gauge follows the same changes.
	OnOutage func(err error)
	// RideOut bounds an outage: when Kafka has not answered a fetch or a
	// commit for this long, Run returns the error. Zero waits until ctx
	// ends.
	RideOut time.Duration
	// OnTopicsMissing is told at every check while Run waits, with capped,
	// jittered backoff, for topics that do not exist yet (a loader that has
	// not created its data topic): the missing topics, the checks so far
	// and the wait before the next. Run joins the group only once every
	// topic exists. Calls come from Run's goroutine.
	OnTopicsMissing func(missing []string, checks int, next time.Duration)
}

// Consumer reads topics as a member of a consumer group with at-least-once
// delivery: an offset is committed only after the handler succeeded for the
// batch that contains it, so a crash at any point re-delivers rather than
// loses.
type Consumer struct {
	r       *kafka.Reader // created by Run once the topics exist (see start), replaced by rebootstrap; set under mu
	rcfg    kafka.ReaderConfig
	lead    int  // the bootstrap broker r's list begins with
	closed  bool // Close was called; guarded by mu
	opts    ConsumerOptions
	m       *Metrics
	admin   *Admin
	backoff retry.Backoff

	commits   []kafka.Message // the positions commit hands to the reader, reused
	downSince time.Time       // when the outage under way began; Run's goroutine only

	mu   sync.Mutex
	done map[string]map[int]int64 // topic -> partition -> next offset after what was handled and committed
}

// NewConsumer returns a consumer; it joins the group on the first Run.
func NewConsumer(cfg Config, opts ConsumerOptions) (*Consumer, error) {
	if opts.Group == "" {
		return nil, errors.New("consumer: group is required")
	}
	if len(opts.Topics) == 0 {
		return nil, errors.New("consumer: at least one topic is required")
	}
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	start := kafka.FirstOffset
	if opts.FromLatest {
		start = kafka.LastOffset
	}
	opts.BatchSize = orDefault(opts.BatchSize, 1)
	opts.BatchWait = orDefault(opts.BatchWait, 100*time.Millisecond)
	opts.MaxRetries = orDefault(opts.MaxRetries, 5)
	opts.RetryBackoff = orDefault(opts.RetryBackoff, 200*time.Millisecond)
	rcfg := kafka.ReaderConfig{
		Brokers:                cfg.Brokers(),
		GroupID:                opts.Group,
		GroupTopics:            opts.Topics,
		Dialer:                 d,
		StartOffset:            start,
		MinBytes:               1,
		MaxBytes:               10 << 20,
		MaxWait:                fetchWait,
		ReadBatchTimeout:       5 * time.Second,
		CommitInterval:         0, // synchronous commits: a commit returns only once stored
		HeartbeatInterval:      time.Second,
		SessionTimeout:         10 * time.Second,
		RebalanceTimeout:       10 * time.Second,
		JoinGroupBackoff:       500 * time.Millisecond,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		QueueCapacity:          max(opts.BatchSize, 100),
	}
	m := opts.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	backoff := retry.Backoff{Base: opts.RetryBackoff, Max: MaxRetryWait}
	admin, err := NewAdmin(cfg)
	if err != nil {
		return nil, err
	}
	return &Consumer{rcfg: rcfg, opts: opts, m: m, admin: admin, backoff: backoff, done: map[string]map[int]int64{}}, nil
}

// CaughtUp reports whether every message of topic below offsets (the next
// offset to read, by partition, e.g. end offsets taken at some moment) has
// been handled and committed by the group: by this consumer, or before it
// joined or while another member held the partition (then the group's
// committed offsets, read from the broker, tell).
func (c *Consumer) CaughtUp(ctx context.Context, topic string, offsets map[int]int64) (bool, error) {
	c.mu.Lock()
	var ask []int
	for p, o := range offsets {
		if o > 0 && c.done[topic][p] < o {
			ask = append(ask, p)
		}
	}
	c.mu.Unlock()
	if len(ask) == 0 {
		return true, nil
	}
	committed, err := c.admin.CommittedOffsets(ctx, c.opts.Group, topic)
	if err != nil {
		return false, err
	}
	for _, p := range ask {
		if committed[p] < offsets[p] {
			return false, nil
		}
	}
	return true, nil
}

// committed records that batch is handled and committed.
func (c *Consumer) committed(batch []Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range batch {
		parts := c.done[m.Topic]
		if parts == nil {
			parts = map[int]int64{}
			c.done[m.Topic] = parts
		}
		parts[m.Partition] = max(parts[m.Partition], m.Offset+1)
	}
}

// Run fetches batches and hands them to h until ctx is cancelled (then it
// returns nil) or a batch still fails after MaxRetries, or at once with an
// error marked protocol.Permanent (then it returns that error and commits
// nothing for the batch). A batch being handled when ctx is
// cancelled is still committed if its handler succeeds. Kafka being
// unreachable does not end Run: fetching and committing are retried with
// capped, jittered backoff, and OnOutage is told. A handled batch's commit
// is retried until it succeeds, so the next batch is fetched only once the
// one before is committed; only when ctx ends first is it left uncommitted
// (and delivered again). An outage longer than RideOut, when set, ends Run
// with its error.
func (c *Consumer) Run(ctx context.Context, h Handler) error {
	if ok, err := c.start(ctx); !ok || err != nil {
		return err
	}
	c.rebootstrap(ctx)
	batch := make([]Message, 0, c.opts.BatchSize)
	var down error         // the outage under way, nil when Kafka answers
	var settling time.Time // when the current run of retriable group errors began
	fails := 0
	for {
		batch = batch[:0]
		first, err := c.fetch(ctx, down != nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errIdle) {
				// Nothing to read, and the broker answers: the outage is over.
				down, fails = c.outage(nil, down), 0
				continue
			}
			if down == nil && temporary(err) {
				// A group coordinator that moves or is still loading, or a
				// rebalance under way (a member that died, a fresh broker):
				// the reader rejoins by itself within moments. Polled, not
				// backed off, so a restarted member is not left waiting
				// seconds after the group is ready; only when it lasts
				// retriableFor is it an outage.
				if settling.IsZero() {
					settling = time.Now()
				}
				if time.Since(settling) < retriableFor {
					if !retry.Sleep(ctx, 250*time.Millisecond) {
						return nil
					}
					continue
				}
			}
			settling = time.Time{}
			down = c.outage(fmt.Errorf("fetch from %v: %w", c.opts.Topics, err), down)
			if c.outlasted() {
				return down
			}
			c.rebootstrap(ctx)
			if !retry.Sleep(ctx, c.backoff.Delay(fails)) {
				return nil
			}
			fails++
			continue
		}
		settling = time.Time{}
		batch = append(batch, first)
		if c.opts.BatchSize > 1 {
			batch = c.fill(ctx, batch)
		}
		countByTopic(c.m.consumed, batch)
		if err := c.handle(ctx, h, batch); err != nil {
			return err
		}
		var committed bool
		if down, committed, err = c.commitRetrying(ctx, batch, down); err != nil {
			return err
		}
		if !committed {
			return nil // ctx ended first
		}
		fails = 0
		countByTopic(c.m.committed, batch)
		c.committed(batch)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// commitRetrying commits batch, retrying with capped, jittered backoff
// while Kafka does not take the commit, and returns the outage then under
// way. It reports committed false, with no error, when ctx ends before a
// commit succeeds, and returns the commit's error when the outage outlasts
// RideOut.
func (c *Consumer) commitRetrying(ctx context.Context, batch []Message, down error) (_ error, committed bool, _ error) {
	for fails := 0; ; fails++ {
		err := c.commit(ctx, batch)
		if err == nil {
			return c.outage(nil, down), true, nil
		}
		down = c.outage(fmt.Errorf("commit offsets of %d messages: %w", len(batch), err), down)
		if c.outlasted() {
			return down, false, down
		}
		c.rebootstrap(ctx)
		if !retry.Sleep(ctx, c.backoff.Delay(fails)) {
			return down, false, nil
		}
	}
}

// outlasted reports whether the outage under way has lasted longer than
// RideOut.
func (c *Consumer) outlasted() bool {
	return c.opts.RideOut > 0 && !c.downSince.IsZero() && time.Since(c.downSince) > c.opts.RideOut
}

// errIdle is fetch's answer when nothing came during an outage probe and the
// broker answers.
var errIdle = errors.New("no message, broker reachable")

// fetch returns the next message. During an outage it waits a few seconds
// at most, then asks the broker directly whether it answers: an idle topic
// must not look like an outage that never ends.
func (c *Consumer) fetch(ctx context.Context, down bool) (Message, error) {
	if !down {
		return c.read(ctx)
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := c.read(fctx)
	if err == nil || ctx.Err() != nil || fctx.Err() == nil {
		return m, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.admin.Partitions(pctx, c.opts.Topics[0]); err != nil {
		return Message{}, err
	}
	return Message{}, errIdle
}

// read returns the next message the reader fetches.
func (c *Consumer) read(ctx context.Context) (Message, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return Message{}, err
	}
	return fromKafka(&m), nil
}

// outage reports a change between Kafka answering (err nil) and not, and
// returns the outage now under way.
func (c *Consumer) outage(err, was error) error {
	if (err == nil) == (was == nil) {
		return err
	}
	g := c.m.ConsumerOutage(c.opts.Group)
	if err != nil {
		c.downSince = time.Now()
		g.Set(1)
	} else {
		c.downSince = time.Time{}
		g.Set(0)
	}
	if c.opts.OnOutage != nil {
		c.opts.OnOutage(err)
	}
	return err
}

// fill adds messages to batch until it is full or BatchWait has passed since
// the first message.
func (c *Consumer) fill(ctx context.Context, batch []Message) []Message {
	fctx, cancel := context.WithTimeout(ctx, c.opts.BatchWait)
	defer cancel()
	for len(batch) < c.opts.BatchSize {
		m, err := c.read(fctx)
		if err != nil {
			break // the wait is over or ctx is done; handle what we have
		}
		batch = append(batch, m)
	}
	return batch
}

func (c *Consumer) handle(ctx context.Context, h Handler, batch []Message) error {
	for attempt := 0; ; attempt++ {
		err := h(ctx, batch)
		if err == nil {
			return nil
		}
		c.m.handlerErrors.WithLabelValues(batch[0].Topic).Inc()
		// A batch the handler marked permanent would fail the same way
		// again: retrying only delays the end.
		if (attempt >= c.opts.MaxRetries && !c.opts.RetryForever) || ctx.Err() != nil || protocol.IsPermanent(err) {
			first, last := batch[0], batch[len(batch)-1]
			return fmt.Errorf("handle %d messages from %s[%d]@%d..%d after %d attempts: %w",
				len(batch), first.Topic, first.Partition, first.Offset, last.Offset, attempt+1, err)
		}
		retry.Sleep(ctx, c.backoff.Delay(attempt))
	}
}

// rebootstrap makes the reader reach the group through the first bootstrap
// broker that answers. kafka-go's group reader finds its coordinator
// through the bootstrap list in order, taking the first that accepts a
// connection: a first address that accepts and resets (a broker down
// behind a proxy or a load balancer) would fail every join and fetch. When
// the broker that answers is not the one the reader's list begins with,
// the reader is replaced by one whose list begins with it (leaving the
// group and joining again). Nothing changes when no broker answers.
func (c *Consumer) rebootstrap(ctx context.Context) {
	k := firstAnswering(ctx, c.rcfg.Dialer, c.rcfg.Brokers)
	if k < 0 || k == c.lead {
		return
	}
	rc := c.rcfg
	rc.Brokers = append(append([]string(nil), c.rcfg.Brokers[k:]...), c.rcfg.Brokers[:k]...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	_ = c.r.Close() // a reader that could not reach its group; its error is the outage already reported
	c.r, c.lead = kafka.NewReader(rc), k
}

// firstAnswering returns the index of the first of brokers that answers a
// request on a connection of its own (a cached cluster layout does not
// count), or -1 when none does within the dialer's timeout each.
func firstAnswering(ctx context.Context, d *kafka.Dialer, brokers []string) int {
	for i, b := range brokers {
		if answers(ctx, d, b) {
			return i
		}
		if ctx.Err() != nil {
			break
		}
	}
	return -1
}

func answers(ctx context.Context, d *kafka.Dialer, broker string) bool {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", broker)
	if err != nil {
		return false
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	_, err = conn.ApiVersions()
	return err == nil
}

// retriableFor is how long a commit retries retriable errors before it
// reports the failure.
const retriableFor = 30 * time.Second

// temporary reports whether err is a Kafka error worth retrying at once (a
// moving or loading group coordinator, a leader election).
func temporary(err error) bool {
	var ke kafka.Error
	return errors.As(err, &ke) && ke.Temporary()
}

// commit commits the batch's offsets, retrying retriable errors for a while.
// It commits even when ctx was cancelled during the handler: the work is
// done, and committing now saves a re-delivery.
func (c *Consumer) commit(ctx context.Context, batch []Message) error {
	c.commits = commitPositions(c.commits[:0], batch)
	deadline := time.Now().Add(retriableFor)
	for {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := c.r.CommitMessages(cctx, c.commits...)
		cancel()
		if err == nil || !temporary(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// commitPositions appends to dst, for each partition of batch, the message
// with the highest offset, with only its topic, partition and offset set:
// all the reader needs, since it commits the highest offset of each
// partition it is given.
func commitPositions(dst []kafka.Message, batch []Message) []kafka.Message {
next:
	for i := range batch {
		m := &batch[i]
		for j := range dst {
			if d := &dst[j]; d.Partition == m.Partition && d.Topic == m.Topic {
				d.Offset = max(d.Offset, m.Offset)
				continue next
			}
		}
		dst = append(dst, kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
	}
	return dst
}
