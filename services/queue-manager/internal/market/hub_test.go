package market

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// testBroker is an in-process broker that counts, per topic, the requests
// that position a new reader (ListOffsets: a reader already running makes
// none), and can refuse them.
type testBroker struct {
	cfg       bus.Config
	prod      *bus.Producer
	mu        sync.Mutex
	positions map[string]int
	refuse    atomic.Bool
}

func newTestBroker(t testing.TB, topics ...string) *testBroker {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	b := &testBroker{positions: map[string]int{},
		cfg: bus.Config{BootstrapServers: c.ListenAddrs()[0], SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 10 * time.Second}}
	c.ControlKey(int16(kmsg.ListOffsets), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		b.mu.Lock()
		for _, tp := range req.(*kmsg.ListOffsetsRequest).Topics {
			b.positions[tp.Topic]++
		}
		b.mu.Unlock()
		if b.refuse.Load() {
			return nil, errors.New("positioning refused by the test"), true
		}
		return nil, nil, false
	})
	if b.prod, err = bus.NewProducer(b.cfg, bus.ProducerOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.prod.Close() })
	return b
}

// positioned returns how many positioning requests named each topic.
func (b *testBroker) positioned(topics ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, t := range topics {
		n += b.positions[t]
	}
	return n
}

func (b *testBroker) publish(t testing.TB, ctx context.Context, topic string, vs ...any) {
	t.Helper()
	msgs := make([]bus.Message, len(vs))
	for i, v := range vs {
		val, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = bus.Message{Topic: topic, Key: []byte("k"), Value: val}
	}
	if err := b.prod.Send(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// market publishes a book (snapshot and diff: bids 100, 99, 98; asks 102)
// and n trades from id first on, one a millisecond from now.
func (b *testBroker) market(t *testing.T, ctx context.Context, tradeTopic, bookTopic string, first, n int64) {
	t.Helper()
	now := time.Now().UnixMilli()
	if bookTopic != "" {
		b.publish(t, ctx, bookTopic,
			binance.BookSnapshot{Symbol: "ETHUSDT", Time: now, LastUpdateID: 100, Bids: []Level{{99, 1}, {98, 1}}, Asks: []Level{{101, 2}}},
			binance.BookDiff{Symbol: "ETHUSDT", Time: now, FirstUpdateID: 101, FinalUpdateID: 102, Bids: []Level{{100, 3}}, Asks: []Level{{101, 0}, {102, 1}}})
	}
	trades := make([]any, n)
	for i := range n {
		trades[i] = binance.AggTrade{Symbol: "ETHUSDT", Time: now + i, AggID: first + i, Price: 100, Qty: 0.5}
	}
	b.publish(t, ctx, tradeTopic, trades...)
}

// client is one Stream running in the background.
type client struct {
	frames chan Frame
	done   chan error
	stop   context.CancelFunc
}

// watch starts a client of f on symbol ETHUSDT; send, when not nil, is
// called with each frame before it is handed on.
func watch(ctx context.Context, f *Feed, send func(Frame)) *client {
	ctx, cancel := context.WithCancel(ctx)
	c := &client{frames: make(chan Frame, 1024), done: make(chan error, 1), stop: cancel}
	go func() {
		c.done <- f.Stream(ctx, "ETHUSDT", func(fr Frame) error {
			if send != nil {
				send(fr)
			}
			select {
			case c.frames <- fr:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	return c
}

// until returns the first frame ok accepts.
func (c *client) until(t testing.TB, ctx context.Context, what string, ok func(Frame) bool) Frame {
	t.Helper()
	var last Frame
	for {
		select {
		case last = <-c.frames:
			if ok(last) {
				return last
			}
		case <-ctx.Done():
			t.Fatalf("never saw %s; last frame: %+v", what, last)
		}
	}
}

// leave stops the client and waits for its Stream to return.
func (c *client) leave(t testing.TB) {
	t.Helper()
	c.stop()
	if err := <-c.done; err != nil {
		t.Fatalf("Stream: %v", err)
	}
}

func seesAll(n int64) func(Frame) bool {
	return func(f Frame) bool { return f.TradeCount == n && len(f.Asks) > 0 && f.Asks[0][0] == 102 }
}

// hubFeed returns a feed on b that finds live (through the pointer, so a
// test can change it) and counts into m.
func hubFeed(b *testBroker, live *atomic.Pointer[Live], m *Metrics, linger time.Duration) *Feed {
	return &Feed{Bus: b.cfg, Every: 10 * time.Millisecond, Resolve: 20 * time.Millisecond, Linger: linger, Metrics: m, Log: zerolog.Nop(),
		Find: func(context.Context, string) (Live, error) { return *live.Load(), nil }}
}

func liveOf(wf, trades, book string) *atomic.Pointer[Live] {
	var p atomic.Pointer[Live]
	p.Store(&Live{Workflow: wf, Topics: map[string]Stream{trades: Trades, book: Book}})
	return &p
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("never: %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

const trades1, book1 = "wf-1-trades-data", "wf-1-book-data"

// TestHubShared: two clients of one symbol share one set of readers: the
// second positions no reader of its own and every record is decoded once.
func TestHubShared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := newTestBroker(t, trades1, book1)
	const n = 300
	b.market(t, ctx, trades1, book1, 1, n)
	m := NewMetrics(nil)
	f := hubFeed(b, liveOf("wf-1", trades1, book1), m, 0)
	defer f.Close()

	a := watch(ctx, f, nil)
	a.until(t, ctx, "the book and every trade (first client)", seesAll(n))
	before := b.positioned(trades1, book1)
	second := watch(ctx, f, nil)
	got := second.until(t, ctx, "the book and every trade (second client)", seesAll(n))
	if !got.Live || got.Workflow != "wf-1" {
		t.Fatalf("second client's frame %+v: want live, workflow wf-1", got)
	}
	if after := b.positioned(trades1, book1); after != before {
		t.Fatalf("the second client positioned readers of its own: %d positioning requests, want the first client's %d", after, before)
	}
	if got := testutil.ToFloat64(m.decoded.WithLabelValues(trades1)); got != n {
		t.Errorf("trade records decoded %v, want %d (once each)", got, n)
	}
	if got := testutil.ToFloat64(m.hubs); got != 1 {
		t.Errorf("hubs %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.subscribers); got != 2 {
		t.Errorf("subscribers %v, want 2", got)
	}
	a.leave(t)
	second.leave(t)
	if got := testutil.ToFloat64(m.subscribers); got != 0 {
		t.Errorf("subscribers after both left %v, want 0", got)
	}
}

// TestHubLateJoiner: a client that joins a running hub gets the book and
// the candles in its first frame, from the hub's state: it reads nothing
// again (the broker refuses to position new readers by then).
func TestHubLateJoiner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := newTestBroker(t, trades1, book1)
	const n = 300
	b.market(t, ctx, trades1, book1, 1, n)
	f := hubFeed(b, liveOf("wf-1", trades1, book1), nil, 0)
	defer f.Close()

	early := watch(ctx, f, nil)
	candles := map[int64]Candle{}
	early.until(t, ctx, "the book and every trade", func(fr Frame) bool {
		for _, c := range fr.Candles {
			candles[c.Time] = c
		}
		return seesAll(n)(fr)
	})
	b.refuse.Store(true)
	late := watch(ctx, f, nil)
	first := late.until(t, ctx, "a first frame", func(Frame) bool { return true })
	if len(first.Bids) != 3 || first.Bids[0] != (Level{100, 3}) || len(first.Asks) != 1 || first.Asks[0] != (Level{102, 1}) || !first.Synced {
		t.Fatalf("late client's first frame: bids %v asks %v synced %v; want the book as it stands: bids 100, 99, 98, ask 102, synced", first.Bids, first.Asks, first.Synced)
	}
	if first.TradeCount != n || len(first.Trades) != MaxTrades || first.Trades[0].ID != n {
		t.Fatalf("late client's first frame: %d trades counted, %d carried, newest %v; want %d, %d, %d", first.TradeCount, len(first.Trades), first.Trades, n, MaxTrades, n)
	}
	if len(first.Candles) != len(candles) || len(first.MinuteCandles) == 0 {
		t.Fatalf("late client's first frame: %d 1 s and %d 1 m candles, want the %d 1 s candles kept and the minutes", len(first.Candles), len(first.MinuteCandles), len(candles))
	}
	for _, c := range first.Candles {
		if candles[c.Time] != c {
			t.Fatalf("late client's candle %+v, the first client's %+v", c, candles[c.Time])
		}
	}
}

// TestHubStopsWithTheLastClient: the readers outlive the last client by
// Linger (a client back in time reads nothing again), then stop; the next
// client starts new ones.
func TestHubStopsWithTheLastClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := newTestBroker(t, trades1, book1)
	const n = 100
	b.market(t, ctx, trades1, book1, 1, n)

	t.Run("back within the linger", func(t *testing.T) {
		m := NewMetrics(nil)
		f := hubFeed(b, liveOf("wf-1", trades1, book1), m, time.Hour)
		a := watch(ctx, f, nil)
		a.until(t, ctx, "the book and every trade", seesAll(n))
		a.leave(t)
		before := b.positioned(trades1, book1)
		again := watch(ctx, f, nil)
		again.until(t, ctx, "the book and every trade again", seesAll(n))
		if after := b.positioned(trades1, book1); after != before {
			t.Fatalf("a client back within the linger positioned new readers (%d requests, want %d)", after, before)
		}
		again.leave(t)
		if got := testutil.ToFloat64(m.hubs); got != 1 {
			t.Fatalf("hubs %v while lingering, want 1", got)
		}
		f.Close()
		if got := testutil.ToFloat64(m.hubs); got != 0 {
			t.Fatalf("hubs %v after Close, want 0", got)
		}
	})

	t.Run("gone", func(t *testing.T) {
		m := NewMetrics(nil)
		f := hubFeed(b, liveOf("wf-1", trades1, book1), m, time.Millisecond)
		defer f.Close()
		a, other := watch(ctx, f, nil), watch(ctx, f, nil)
		a.until(t, ctx, "the book and every trade", seesAll(n))
		other.until(t, ctx, "the book and every trade", seesAll(n))
		a.leave(t)
		if got := testutil.ToFloat64(m.hubs); got != 1 {
			t.Fatalf("hubs %v with a client left, want 1", got)
		}
		other.leave(t)
		waitFor(t, ctx, "the readers stopped after the last client left", func() bool { return testutil.ToFloat64(m.hubs) == 0 })
		if n := testutil.CollectAndCount(m.decoded); n != 0 {
			t.Errorf("%d records-decoded series left after the hub stopped, want none (a series per workflow topic for good)", n)
		}
		before := b.positioned(trades1, book1)
		next := watch(ctx, f, nil)
		next.until(t, ctx, "the book and every trade from new readers", seesAll(n))
		if after := b.positioned(trades1, book1); after == before {
			t.Fatal("the next client found the stopped readers still there: no new positioning")
		}
		next.leave(t)
	})
}

// TestHubSlowClient: a client whose send never returns holds up neither
// the readers nor another client.
func TestHubSlowClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := newTestBroker(t, trades1, book1)
	f := hubFeed(b, liveOf("wf-1", trades1, book1), nil, 0)
	defer f.Close()
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := watch(ctx, f, func(Frame) {
		once.Do(func() { close(stuck) })
		<-release
	})
	defer func() { close(release); slow.leave(t) }()
	<-stuck
	fast := watch(ctx, f, nil)
	const n = 500
	b.market(t, ctx, trades1, book1, 1, n)
	fast.until(t, ctx, "every trade while the other client is stuck", seesAll(n))
}

// TestHubFollowsTheWorkflow: when another workflow streams the symbol, its
// clients move to that workflow's topics and the old readers stop.
func TestHubFollowsTheWorkflow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const trades2, book2 = "wf-2-trades-data", "wf-2-book-data"
	b := newTestBroker(t, trades1, book1, trades2, book2)
	b.market(t, ctx, trades1, book1, 1, 100)
	b.market(t, ctx, trades2, book2, 1, 250)
	live := liveOf("wf-1", trades1, book1)
	m := NewMetrics(nil)
	f := hubFeed(b, live, m, time.Millisecond)
	defer f.Close()
	a, other := watch(ctx, f, nil), watch(ctx, f, nil)
	for _, c := range []*client{a, other} {
		if fr := c.until(t, ctx, "wf-1's market", seesAll(100)); fr.Workflow != "wf-1" {
			t.Fatalf("frame of workflow %q, want wf-1", fr.Workflow)
		}
	}
	live.Store(&Live{Workflow: "wf-2", Topics: map[string]Stream{trades2: Trades, book2: Book}})
	for _, c := range []*client{a, other} {
		c.until(t, ctx, "wf-2's market", func(fr Frame) bool { return fr.Workflow == "wf-2" && seesAll(250)(fr) })
	}
	waitFor(t, ctx, "wf-1's readers stopped", func() bool { return testutil.ToFloat64(m.hubs) == 1 })
	if got := testutil.ToFloat64(m.subscribers); got != 2 {
		t.Fatalf("subscribers %v, want 2", got)
	}
	a.leave(t)
	other.leave(t)
}

// TestFeedFinderFailing: while the finder fails, the client is told now
// and then that nothing is live, and the feed keeps asking.
func TestFeedFinderFailing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var asked atomic.Int32
	f := &Feed{Every: time.Millisecond, Resolve: time.Millisecond, Log: zerolog.Nop(),
		Find: func(context.Context, string) (Live, error) { asked.Add(1); return Live{}, errors.New("store down") }}
	defer f.Close()
	c := watch(ctx, f, nil)
	fr := c.until(t, ctx, "a frame", func(Frame) bool { return true })
	if fr.Live || fr.Bids == nil {
		t.Fatalf("frame %+v: want not live, empty lists", fr)
	}
	waitFor(t, ctx, "the finder asked again", func() bool { return asked.Load() > 1 })
	c.leave(t)
}
