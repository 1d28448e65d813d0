package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// The suite runs against any broker: the embedded one in unit tests, real
// Apache Kafka in integration tests (integration_test.go).

func uniqueTopic(t *testing.T) string {
	return fmt.Sprintf("t-%d-%s", time.Now().UnixNano()%1e9, bustestName(t))
}

func bustestName(t *testing.T) string {
	out := []byte{}
	for _, r := range t.Name() {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			out = append(out, byte(r))
		}
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return string(out)
}

func runSuite(t *testing.T, broker func(t *testing.T) bus.Config) {
	t.Run("ProduceConsumeKeepsKeyOrder", func(t *testing.T) { testProduceConsume(t, broker(t)) })
	t.Run("CommitOnlyAfterHandlerSucceeded", func(t *testing.T) { testCommitAfterSuccess(t, broker(t)) })
	t.Run("TransientHandlerErrorIsRetried", func(t *testing.T) { testRetry(t, broker(t)) })
	t.Run("RetryForeverOutlastsMaxRetries", func(t *testing.T) { testRetryForever(t, broker(t)) })
	t.Run("PermanentHandlerErrorIsNotRetried", func(t *testing.T) { testPermanentNotRetried(t, broker(t)) })
	t.Run("EnsureTopicsIsIdempotent", func(t *testing.T) { testEnsureTopics(t, broker(t)) })
	t.Run("TailSeesMessagesSinceTime", func(t *testing.T) { testTail(t, broker(t)) })
	t.Run("EndAndCommittedOffsets", func(t *testing.T) { testOffsets(t, broker(t)) })
	t.Run("CaughtUpAfterHandlingAndCommitting", func(t *testing.T) { testCaughtUp(t, broker(t)) })
	t.Run("MessagesKeepTheirFields", func(t *testing.T) { testMessageFields(t, broker(t)) })
}

func testProduceConsume(t *testing.T, cfg bus.Config) {
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 3, topic)
	reg := prometheus.NewRegistry()
	m := bus.NewMetrics(reg)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n, keys = 3000, 7
	msgs := make([]bus.Message, n)
	for i := range msgs {
		msgs[i] = bus.Message{Topic: topic, Key: []byte("k" + strconv.Itoa(i%keys)), Value: []byte(strconv.Itoa(i))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Several sends, as a loader would, to exercise batching across calls:
	// the first half one after the other, the rest pipelined.
	for i := 0; i < n/2; i += 500 {
		if err := p.Send(ctx, msgs[i:i+500]...); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	done := make(chan error, n)
	var calls atomic.Int32
	for i := n / 2; i < n; i += 250 {
		p.SendAsync(ctx, msgs[i:i+250], func(err error) { calls.Add(1); done <- err })
	}
	for range (n / 2) / 250 {
		if err := <-done; err != nil {
			t.Fatalf("SendAsync: %v", err)
		}
	}
	if err := p.Close(); err != nil || calls.Load() != (n/2)/250 {
		t.Fatalf("Close: %v; %d done calls, want %d", err, calls.Load(), (n/2)/250)
	}
	if got := testutil.ToFloat64(m.ProducedCounter(topic)); got != n {
		t.Errorf("produced counter = %v, want %d", got, n)
	}

	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, BatchSize: 256, BatchWait: 50 * time.Millisecond, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seen := map[int]int{}
	lastPerKey := map[string]int{}
	var mu sync.Mutex
	rctx, rcancel := context.WithCancel(ctx)
	err = c.Run(rctx, func(_ context.Context, batch []bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range batch {
			v, _ := strconv.Atoi(string(msg.Value))
			seen[v]++
			k := string(msg.Key)
			if prev, ok := lastPerKey[k]; ok && v < prev {
				t.Errorf("key %s: %d arrived after %d", k, v, prev)
			}
			lastPerKey[k] = v
		}
		if len(seen) == n {
			rcancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("timed out with %d of %d messages", len(seen), n)
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("message %d seen %d times, want once", i, seen[i])
		}
	}
	if got := testutil.ToFloat64(m.CommittedCounter(topic)); got != n {
		t.Errorf("committed counter = %v, want %d", got, n)
	}
}

// consumeValues runs a consumer until it has seen want messages or fails.
func consumeValues(t *testing.T, cfg bus.Config, group, topic string, h func(v int) error, want int) ([]int, error) {
	t.Helper()
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: group, Topics: []string{topic}, MaxRetries: 1, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []int
	err = c.Run(ctx, func(_ context.Context, batch []bus.Message) error {
		v, _ := strconv.Atoi(string(batch[0].Value))
		if err := h(v); err != nil {
			return err
		}
		got = append(got, v)
		if len(got) == want {
			cancel()
		}
		return nil
	})
	return got, err
}

func testCommitAfterSuccess(t *testing.T, cfg bus.Config) {
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 1, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 10 {
		if err := p.Publish(context.Background(), topic, nil, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("store is down")
	got, err := consumeValues(t, cfg, topic+"-g", topic, func(v int) error {
		if v == 5 {
			return boom
		}
		return nil
	}, 10)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("first consumer handled %v, want [0 1 2 3 4]", got)
	}
	// A new member of the group resumes at the failed message: nothing
	// after the last success was committed, nothing before it comes back.
	got, err = consumeValues(t, cfg, topic+"-g", topic, func(int) error { return nil }, 5)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 6 7 8 9]" {
		t.Fatalf("second consumer handled %v, want [5 6 7 8 9]", got)
	}
}

func testRetry(t *testing.T, cfg bus.Config) {
	topic := oneMessage(t, cfg)
	failures := 0
	got, err := consumeValues(t, cfg, topic+"-g", topic, func(int) error {
		if failures < 1 {
			failures++
			return errors.New("transient")
		}
		return nil
	}, 1)
	if err != nil || len(got) != 1 || failures != 1 {
		t.Fatalf("got %v, err %v after %d failures; want the message after one retry", got, err, failures)
	}
}

// oneMessage writes one message, "1", to a new topic and returns the topic.
func oneMessage(t *testing.T, cfg bus.Config) string {
	t.Helper()
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 1, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Publish(context.Background(), topic, nil, []byte("1")); err != nil {
		t.Fatal(err)
	}
	return topic
}

func testRetryForever(t *testing.T, cfg bus.Config) {
	topic := oneMessage(t, cfg)
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, MaxRetries: 1,
		RetryForever: true, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	failures := 0
	err = c.Run(ctx, func(context.Context, []bus.Message) error {
		if failures < 4 {
			failures++
			return errors.New("store is down")
		}
		cancel()
		return nil
	})
	if err != nil || failures != 4 {
		t.Fatalf("Run = %v after %d failures; want the batch handled after 4", err, failures)
	}
}

func testEnsureTopics(t *testing.T, cfg bus.Config) {
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	topic := uniqueTopic(t)
	for range 2 {
		if err := a.EnsureTopics(ctx, bus.TopicSpec{Name: topic, Partitions: 4, ReplicationFactor: 1}); err != nil {
			t.Fatalf("EnsureTopics: %v", err)
		}
	}
	n, err := a.Partitions(ctx, topic)
	if err != nil || n != 4 {
		t.Fatalf("Partitions = %d, %v; want 4", n, err)
	}
}

// checkWrongPassword asserts that bad credentials fail fast and readably.
func checkWrongPassword(t *testing.T, cfg bus.Config) {
	t.Helper()
	cfg.Password = "definitely-wrong"
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = a.Check(context.Background())
	took := time.Since(start)
	if err == nil {
		t.Fatal("Check accepted a wrong password")
	}
	if took > 10*time.Second {
		t.Errorf("Check took %s, want under 10s", took)
	}
	if !errors.Is(err, bus.ErrAccess) {
		t.Errorf("error %q does not wrap ErrAccess: waiting would not help", err)
	}
	for _, want := range []string{"KAFKA_PASSWORD", cfg.Username, "SCRAM-SHA-512"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func testTail(t *testing.T, cfg bus.Config) {
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 3, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Publish(ctx, topic, []byte("a"), []byte("old")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // broker timestamps have millisecond resolution
	since := time.Now()
	tail, err := bus.NewTail(ctx, cfg, topic, since, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	for i := range 6 {
		if err := p.Publish(ctx, topic, []byte{byte('a' + i)}, []byte("new"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	rctx, rcancel := context.WithCancel(ctx)
	err = tail.Run(rctx, func(_ context.Context, m bus.Message) error {
		got = append(got, string(m.Value))
		if len(got) == 6 {
			rcancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("tail got %v, want the 6 new messages", got)
	}
	for _, v := range got {
		if v == "old" {
			t.Fatalf("tail from %s delivered a message sent before it: %v", since, got)
		}
	}
	// The handler's error ends Run and is returned as is.
	stop := errors.New("enough")
	tail2, err := bus.NewTail(ctx, cfg, topic, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tail2.Close()
	if err := tail2.Run(ctx, func(context.Context, bus.Message) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
}

// tenOnTwo writes 10 messages over a new topic of two partitions and
// returns the topic, an admin client and the topic's end offsets.
func tenOnTwo(t *testing.T, cfg bus.Config) (string, *bus.Admin, map[int]int64) {
	t.Helper()
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 2, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []bus.Message
	for i := range 10 {
		msgs = append(msgs, bus.Message{Topic: topic, Key: []byte{byte('a' + i%4)}, Value: []byte("v")})
	}
	if err := p.Send(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	end, err := a.EndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(end) != 2 || end[0]+end[1] != 10 {
		t.Fatalf("end offsets %v, want two partitions summing to 10", end)
	}
	return topic, a, end
}

func testOffsets(t *testing.T, cfg bus.Config) {
	topic, a, end := tenOnTwo(t, cfg)
	ctx := context.Background()
	group := topic + "-g"
	if lag, err := a.Lag(ctx, group, topic); err != nil || lag != 10 {
		t.Fatalf("lag before consuming = %d, %v; want 10", lag, err)
	}
	got, err := consumeValues(t, cfg, group, topic, func(int) error { return nil }, 10)
	if err != nil || len(got) != 10 {
		t.Fatalf("consumed %d, %v", len(got), err)
	}
	committed, err := a.CommittedOffsets(ctx, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	for part, e := range end {
		if committed[part] != e {
			t.Errorf("partition %d committed %d, want the end %d", part, committed[part], e)
		}
	}
	if lag, err := a.Lag(ctx, group, topic); err != nil || lag != 0 {
		t.Errorf("lag after consuming = %d, %v; want 0", lag, err)
	}
}

func testCaughtUp(t *testing.T, cfg bus.Config) {
	topic, _, end := tenOnTwo(t, cfg)
	ctx := context.Background()
	group := topic + "-g"
	newConsumer := func() *bus.Consumer {
		c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: group, Topics: []string{topic}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	c := newConsumer()
	if ok, err := c.CaughtUp(ctx, topic, end); err != nil || ok {
		t.Fatalf("caught up before reading = %v, %v; want false", ok, err)
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	n := 0
	if err := c.Run(rctx, func(_ context.Context, batch []bus.Message) error {
		if n += len(batch); n == 10 {
			cancel()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.CaughtUp(ctx, topic, end); err != nil || !ok {
		t.Errorf("caught up after handling everything = %v, %v; want true", ok, err)
	}
	// A new member of the group has read nothing itself: the group's
	// commits tell.
	if ok, err := newConsumer().CaughtUp(ctx, topic, end); err != nil || !ok {
		t.Errorf("a new member: caught up = %v, %v; want true", ok, err)
	}
	later := map[int]int64{0: end[0] + 1, 1: end[1]}
	if ok, err := c.CaughtUp(ctx, topic, later); err != nil || ok {
		t.Errorf("caught up to offsets past the end = %v, %v; want false", ok, err)
	}
}

// testMessageFields: what is sent — key, value, headers (none, some, empty
// values) and time — is what ReadRange, Tail and a consumer hand out, with
// the partition and offset it was written at.
func testMessageFields(t *testing.T, cfg bus.Config) {
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 1, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Now, not a fixed date: the producer counts its delivery timeout from
	// a message's time.
	at := time.Now().Truncate(time.Millisecond)
	headers := [][]bus.Header{
		nil,
		{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}},
		{{Key: "empty"}},
		nil,
		{{Key: "c", Value: []byte("3")}, {Key: "c", Value: []byte("4")}, {Key: "d", Value: []byte("5")}},
	}
	var want []bus.Message
	for i, hs := range headers {
		want = append(want, bus.Message{Topic: topic, Partition: 0, Offset: int64(i), Key: []byte("k" + strconv.Itoa(i)),
			Value: []byte("v" + strconv.Itoa(i)), Headers: hs, Time: at.Add(time.Duration(i) * time.Millisecond)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Send(ctx, want...); err != nil {
		t.Fatal(err)
	}
	// Kafka keeps a header's empty value as empty, not null, and times in
	// milliseconds.
	opts := cmp.Options{
		cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) }),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	}
	check := func(reader string, got []bus.Message) {
		t.Helper()
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", reader, diff)
		}
	}

	var got []bus.Message
	if err := bus.ReadRange(ctx, cfg, topic, 0, 0, int64(len(want)), func(m bus.Message) error {
		got = append(got, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("ReadRange", got)

	tail, err := bus.NewTail(ctx, cfg, topic, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	got = nil
	tctx, tcancel := context.WithCancel(ctx)
	if err := tail.Run(tctx, func(_ context.Context, m bus.Message) error {
		if got = append(got, m); len(got) == len(want) {
			tcancel()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("Tail", got)

	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, BatchSize: len(want)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got = nil
	cctx, ccancel := context.WithCancel(ctx)
	if err := c.Run(cctx, func(_ context.Context, batch []bus.Message) error {
		if got = append(got, batch...); len(got) >= len(want) {
			ccancel()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("Consumer", got)
}
