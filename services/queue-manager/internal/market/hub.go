package market

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// A hub reads one live stream of a symbol — a workflow's data topics — for
// every client that watches it: the first client starts the readers, later
// ones join, and the readers stop a little after the last one left (Linger:
// a page reloaded finds them still running).
//
// A hub keeps one Model, and each client a Cursor on it; the alternative,
// the hub handing each decoded record to a Model per client, would apply
// every record once per client, need a queue per client (one that a slow
// client fills, to be bounded by dropping records and so breaking its
// book) and a copy of the hub's state for each client that joins. With one
// Model a record is decoded and applied once whoever watches; nothing
// waits on a client, since a client takes its frames on its own ticker and
// sends them outside the hub's lock; and a client that joins late reads
// the book and the kept candles straight from the state in its first
// frame. The price is that frames are built under the hub's lock, which
// costs little: the book's top is built once per change of the book
// however many read it, and a frame scans a few hundred candles at most.
type hub struct {
	key  string
	live Live

	mu    sync.Mutex
	model *Model

	// Under Feed.mu:
	subs   int
	idle   int // leaves to no subscriber: a linger timer acts on its own only
	linger *time.Timer
	cancel context.CancelFunc // stops the readers
}

// apply takes a decoded record of stream s.
func (h *hub) apply(s Stream, r binance.LiveRecord) {
	h.mu.Lock()
	h.model.Apply(s, r, time.Now())
	h.mu.Unlock()
}

// frame returns c's next frame (FrameFor).
func (h *hub) frame(c *Cursor, now time.Time, force bool) (Frame, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.model.FrameFor(c, now, force)
}

// hubKey names the hub of symbol's live stream l.
func hubKey(symbol string, l Live) string {
	topics := make([]string, 0, len(l.Topics))
	for t, s := range l.Topics {
		topics = append(topics, t+"="+strconv.Itoa(int(s)))
	}
	slices.Sort(topics)
	return symbol + "|" + l.Workflow + "|" + strings.Join(topics, ",")
}

// DefaultLinger is how long a hub's readers outlive its last client.
const DefaultLinger = 5 * time.Second

// join returns the running hub of symbol's live stream l, started for this
// client when there is none, and counts the client in.
func (f *Feed) join(symbol string, l Live) *hub {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.metrics()
	m.subscribers.Inc()
	key := hubKey(symbol, l)
	if h := f.hubs[key]; h != nil {
		h.subs++
		if h.linger != nil {
			h.linger.Stop()
			h.linger = nil
		}
		return h
	}
	h := &hub{key: key, live: l, model: NewModel(symbol, f.Depth), subs: 1, cancel: func() {}}
	if f.closed {
		return h // shutting down: no readers, the client sees a quiet stream until it goes
	}
	if f.hubs == nil {
		f.hubs = map[string]*hub{}
	}
	f.hubs[key] = h
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	m.hubs.Inc()
	log := f.Log.With().Str("symbol", symbol).Str("workflow", l.Workflow).Logger()
	log.Info().Int("topics", len(l.Topics)).Msg("market hub started")
	var readers sync.WaitGroup
	for topic, s := range l.Topics {
		decoded := m.decoded.WithLabelValues(topic)
		readers.Go(func() { f.tail(ctx, topic, s, decoded, func(r binance.LiveRecord) { h.apply(s, r) }) })
	}
	f.wg.Go(func() {
		readers.Wait()
		for topic := range l.Topics { // a workflow's topics are not read again: no series left behind
			m.decoded.DeleteLabelValues(topic)
		}
		m.hubs.Dec()
		log.Info().Msg("market hub stopped")
	})
	return h
}

// leave counts a client of h out; the last one's leaving stops h's readers
// after Linger unless another client joins meanwhile.
func (f *Feed) leave(h *hub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metrics().subscribers.Dec()
	h.subs--
	if h.subs > 0 || f.hubs[h.key] != h {
		return
	}
	h.idle++
	idle, linger := h.idle, f.Linger
	if linger <= 0 {
		linger = DefaultLinger
	}
	h.linger = time.AfterFunc(linger, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if h.subs == 0 && h.idle == idle && f.hubs[h.key] == h {
			delete(f.hubs, h.key)
			h.cancel()
		}
	})
}

// Close stops every hub's readers and waits for them. A Stream still
// running gets no more records.
func (f *Feed) Close() {
	f.mu.Lock()
	f.closed = true
	for key, h := range f.hubs {
		if h.linger != nil {
			h.linger.Stop()
		}
		h.cancel()
		delete(f.hubs, key)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// metrics returns f's metrics, unregistered ones when none were given;
// under f.mu.
func (f *Feed) metrics() *Metrics {
	if f.Metrics == nil {
		f.Metrics = NewMetrics(nil)
	}
	return f.Metrics
}

// tail reads topic from a little before now into apply until ctx ends,
// counting each record it decodes; a topic not created yet (its loader
// starting) is waited for.
func (f *Feed) tail(ctx context.Context, topic string, s Stream, decoded prometheus.Counter, apply func(binance.LiveRecord)) {
	since := time.Now().Add(-tradeLookback)
	if s == Book {
		since = time.Now().Add(-bookLookback)
	}
	var t *bus.Tail
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		t, err = bus.NewTail(pctx, f.Bus, topic, since, nil)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer func() { _ = t.Close() }()
	err := t.Run(ctx, func(_ context.Context, m bus.Message) error {
		decoded.Inc()
		r, err := binance.DecodeLive(m.Value)
		if err == nil {
			apply(r)
		}
		return nil
	})
	if err != nil {
		f.Log.Warn().Err(err).Str("topic", topic).Msg("live topic not read")
	}
}
