package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// The live loaders against the simulator. A live TIME_RANGE is on the wall
// clock (the loader streams until its end), so around the range's end the
// simulator's clock reads the wall clock less a network latency, as the
// exchange's does seen from the loader; before that it replays the start
// of the range fast (liveClock), so a range of minutes takes seconds.

// liveRun streams tk's range through loader-producer with the simulator's
// clock started when the loader has subscribed, and waits for the loader to
// finish at the range's end.
func liveRun(t *testing.T, cfg bus.Config, clk *liveClock, sim *binancesim.Sim, url string, tk task) {
	t.Helper()
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url)
	clk.goWhenSubscribed(t, func() int { return sim.Stats().WS.Opened }, p)
	if code := p.Wait(t, time.Until(clk.end)+time.Minute); code != 0 {
		t.Fatalf("%s %s: loader exited %d: %s", tk.typ, tk.symbol, code, testkit.LastLine(p.Stderr()))
	}
	ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	if c := clk.caughtUpBy(); !c.Before(clk.end) {
		t.Fatalf("the simulator's clock caught up with the wall clock at %s, after the range's end %s: the loader subscribed too late for this test",
			c.Format(time.RFC3339Nano), clk.end.Format(time.RFC3339Nano))
	}
	// The reference is what the simulator answers once its clock has passed
	// the range's end: a latency after it on the wall clock.
	time.Sleep(time.Until(clk.end.Add(wsLatency + time.Millisecond)))
}

// minLiveTrades is the fewest trades a live comparison is worth making on.
const minLiveTrades = 50

// testDiffLiveTrades streams a minute and six seconds of aggregate trades
// (ws_trades with a TIME_RANGE): the topic must hold exactly the trades with
// a time in the range, each equal to the simulator's REST answer for its id.
// The range ends 1 ms after a trade, which the exchange sends within a tick
// of the end.
func testDiffLiveTrades(t *testing.T, cfg bus.Config) {
	const symbol = "BTCUSDT"
	launch := time.Now().UTC()
	start := launch.Add(-time.Minute).Truncate(time.Millisecond)
	// Frozen 1 ms before the start, the stream begins with the first trade
	// at or after it; the start is set again once the range is fixed.
	clk := &liveClock{start: start.Add(-time.Millisecond), speed: 60}
	sim, url := startSim(t, binancesim.Options{Clock: clk.now})
	end := launch.Add(6 * time.Second).Truncate(time.Millisecond)
	// The simulated market is quieter at some times than at others: the
	// range reaches back, half a minute at a time, until it holds enough
	// trades to compare; the clock runs faster for a longer range, so that
	// it still catches up with the wall clock in about a second.
	for {
		in, err := sim.Market().AggTrades(symbol, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) >= minLiveTrades || launch.Sub(start) >= 10*time.Minute {
			break
		}
		start = start.Add(-30 * time.Second)
	}
	near, err := sim.Market().AggTrades(symbol, end.Add(-5*time.Second), end)
	if err != nil {
		t.Fatal(err)
	}
	if len(near) > 0 {
		end = time.UnixMilli(near[len(near)-1].Time + 1).UTC()
	}
	clk.mu.Lock()
	clk.start = start.Add(-time.Millisecond)
	clk.speed = 60 * max(1, float64(launch.Sub(start))/float64(time.Minute))
	clk.end = end
	clk.mu.Unlock()
	tk := newTask(t, cfg, symbol, "ws_trades", rfc3339ms(start)+"/"+rfc3339ms(end))
	liveRun(t, cfg, clk, sim, url, tk)
	want := refAggTrades(t, url, symbol, start.UnixMilli(), end.UnixMilli())
	if len(want) < minLiveTrades {
		t.Fatalf("the simulator has %d trades in %s: widen the range", len(want), tk.timeRange)
	}
	recs := readTopic(t, cfg, tk.topic)
	compareTrades(t, tk, recs, want)
	t.Logf("%s: %d trades compared (the last at %s), %d messages", tk.timeRange, len(want), msTime(want[len(want)-1].Time), len(recs))
}

// testDiffLiveCandles streams n candles of interval (ws_candles_<interval>
// with a TIME_RANGE of n whole candles): the topic must hold exactly the
// candles that open inside the range, the last one included, each equal to
// the simulator's REST kline of its open time.
func testDiffLiveCandles(t *testing.T, cfg bus.Config, symbol, interval string, n int) {
	iv := intervalLen[interval]
	// The end is a candle boundary at least 6 s away: the loader's start
	// and the clock's catching up fit before it.
	end := time.Now().UTC().Add(6 * time.Second).Add(iv - 1).Truncate(iv)
	start := end.Add(-time.Duration(n) * iv)
	clk := &liveClock{start: start, end: end, speed: 120}
	sim, url := startSim(t, binancesim.Options{Clock: clk.now})
	tk := newTask(t, cfg, symbol, "ws_candles_"+interval, rfc3339ms(start)+"/"+rfc3339ms(end))
	liveRun(t, cfg, clk, sim, url, tk)
	want := refKlines(t, url, symbol, interval, start.UnixMilli(), end.UnixMilli()-1)
	if len(want) != n {
		t.Fatalf("the simulator has %d candles in %s, want %d", len(want), tk.timeRange, n)
	}
	recs := readTopic(t, cfg, tk.topic)
	compareCandles(t, tk, recs, want, func(open int64) string {
		return "its open time " + msTime(open) + " is outside the range"
	}, nil)
	t.Logf("%s: %d candles compared, %d messages", tk.timeRange, len(want), len(recs))
}

// level sides of an order book: price -> quantity.
type side map[float64]float64

type book struct {
	id         int64 // last update id
	bids, asks side
}

func (b *book) clone() *book {
	c := &book{id: b.id, bids: make(side, len(b.bids)), asks: make(side, len(b.asks))}
	for p, q := range b.bids {
		c.bids[p] = q
	}
	for p, q := range b.asks {
		c.asks[p] = q
	}
	return c
}

func (s side) apply(levels [][2]float64) {
	for _, l := range levels {
		if l[1] == 0 {
			delete(s, l[0])
		} else {
			s[l[0]] = l[1]
		}
	}
}

// top returns the n best levels, bids high to low, asks low to high.
func (s side) top(n int, bids bool) [][2]float64 {
	out := make([][2]float64, 0, len(s))
	for p, q := range s {
		out = append(out, [2]float64{p, q})
	}
	slices.SortFunc(out, func(x, y [2]float64) int {
		if bids {
			x, y = y, x
		}
		switch {
		case x[0] < y[0]:
			return -1
		case x[0] > y[0]:
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}

// depthEvent is a depthUpdate of the simulator's own stream.
type depthEvent struct {
	time, first, final int64
	bids, asks         [][2]float64
}

// depthFeed is a WebSocket connection of the test's own to the simulator's
// depth streams: the simulator's diffs, decoded here.
type depthFeed struct {
	mu    sync.Mutex
	diffs map[string][]depthEvent
	err   error
	more  chan struct{}
}

// dialDepth subscribes to the 100 ms depth streams of symbols; the stream
// starts at the books' update ids when it returns.
func dialDepth(t *testing.T, base string, symbols []string) *depthFeed {
	t.Helper()
	names := make([]string, len(symbols))
	for i, s := range symbols {
		names[i] = strings.ToLower(s) + "@depth@100ms"
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, _, err := websocket.Dial(ctx, wsURL(base)+"/stream?streams="+strings.Join(names, "/"), nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	f := &depthFeed{diffs: map[string][]depthEvent{}, more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.Read(ctx)
			if err == nil {
				err = f.add(data)
			}
			if err != nil {
				f.mu.Lock()
				f.err = err
				f.mu.Unlock()
				f.notify()
				return
			}
			f.notify()
		}
	}()
	t.Cleanup(func() { cancel(); _ = c.CloseNow(); <-done })
	return f
}

func (f *depthFeed) notify() {
	select {
	case f.more <- struct{}{}:
	default:
	}
}

var depthKeys = []string{"e", "E", "s", "U", "u", "b", "a"}

// add decodes one combined-stream message with exact keys.
func (f *depthFeed) add(msg []byte) error {
	var env struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	}
	if err := decodeExact(msg, &env); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(env.Data, &m); err != nil {
		return err
	}
	if len(m) != len(depthKeys) {
		return fmt.Errorf("depth event with %d keys, want %v: %s", len(m), depthKeys, env.Data)
	}
	for _, k := range depthKeys {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("depth event without %q: %s", k, env.Data)
		}
	}
	var sym string
	if err := json.Unmarshal(m["s"], &sym); err != nil {
		return err
	}
	var d depthEvent
	for _, v := range []struct {
		key string
		dst *int64
	}{{"E", &d.time}, {"U", &d.first}, {"u", &d.final}} {
		n, err := strconv.ParseInt(string(m[v.key]), 10, 64)
		if err != nil {
			return fmt.Errorf("depth event %s: %w", v.key, err)
		}
		*v.dst = n
	}
	var err error
	if d.bids, err = parseLevels(m["b"]); err != nil {
		return err
	}
	if d.asks, err = parseLevels(m["a"]); err != nil {
		return err
	}
	f.mu.Lock()
	f.diffs[sym] = append(f.diffs[sym], d)
	f.mu.Unlock()
	return nil
}

// parseLevels decodes Binance's [["price","qty"], ...].
func parseLevels(raw json.RawMessage) ([][2]float64, error) {
	var rows [][]string
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	out := make([][2]float64, len(rows))
	for i, r := range rows {
		if len(r) != 2 {
			return nil, fmt.Errorf("level %v: want [price, qty]", r)
		}
		for j := range 2 {
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				return nil, err
			}
			out[i][j] = v
		}
	}
	return out, nil
}

// upTo waits until the feed holds symbol's diffs up to update id final and
// returns them.
func (f *depthFeed) upTo(t *testing.T, symbol string, final int64) []depthEvent {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		ds, err := f.diffs[symbol], f.err
		f.mu.Unlock()
		if n := len(ds); n > 0 && ds[n-1].final >= final {
			return ds
		}
		if err != nil {
			t.Fatalf("the test's own depth stream: %v", err)
		}
		select {
		case <-f.more:
		case <-timeout:
			t.Fatalf("the test's own depth stream of %s did not reach update id %d within 30 s", symbol, final)
		}
	}
}

// restBook returns the simulator's whole order book of symbol from
// /api/v3/depth, decoded here.
func restBook(t *testing.T, base, symbol string) *book {
	t.Helper()
	const limit = 5000
	body := simGet(t, base, "/api/v3/depth", map[string][]string{"symbol": {symbol}, "limit": {strconv.Itoa(limit)}})
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["lastUpdateId"] == nil || m["bids"] == nil || m["asks"] == nil {
		t.Fatalf("depth %s: want lastUpdateId, bids and asks: %.200s", symbol, body)
	}
	b := &book{id: parseInt(t, "depth "+symbol, m["lastUpdateId"]), bids: side{}, asks: side{}}
	bids, err := parseLevels(m["bids"])
	if err != nil {
		t.Fatal(err)
	}
	asks, err := parseLevels(m["asks"])
	if err != nil {
		t.Fatal(err)
	}
	if len(bids) >= limit || len(asks) >= limit {
		t.Fatalf("depth %s: %d bids, %d asks: the snapshot may not be the whole book", symbol, len(bids), len(asks))
	}
	b.bids.apply(bids)
	b.asks.apply(asks)
	return b
}

// Order-book records of the data topic.
type (
	storedSnapshot struct {
		Key          string       `json:"_key"`
		Symbol       string       `json:"symbol"`
		Time         int64        `json:"time"`
		LastUpdateID int64        `json:"last_update_id"`
		Bids         [][2]float64 `json:"bids"`
		Asks         [][2]float64 `json:"asks"`
	}
	storedDiff struct {
		Key    string       `json:"_key"`
		Symbol string       `json:"symbol"`
		Time   int64        `json:"time"`
		First  int64        `json:"first_update_id"`
		Final  int64        `json:"final_update_id"`
		Bids   [][2]float64 `json:"bids"`
		Asks   [][2]float64 `json:"asks"`
	}
)

// nonNil makes an empty list compare equal to a missing one.
func nonNil(l [][2]float64) [][2]float64 {
	if l == nil {
		return [][2]float64{}
	}
	return l
}

// testDiffOrderbook streams two order books with the published snapshots
// cut to 20 levels and as the whole book (the default).
func testDiffOrderbook(t *testing.T, cfg bus.Config) {
	cases := []struct {
		name  string
		depth int // levels per side of a published snapshot
		env   []string
	}{
		// The loader syncs from the whole book in both cases: the simulator's book is 4000 levels deep per side, one
		// per tick, and a snapshot of fewer levels leaves the levels beyond it unknown until they change, so a move
		// past them would show a hollow book (web-socket-streams.md, "How to manage a local order book correctly").
		{"20-level snapshots", 20, []string{"LOADER_BOOK_DEPTH=20", "LOADER_SNAPSHOT_LIMIT=5000"}},
		{"whole-book snapshots", 5000, []string{"LOADER_SNAPSHOT_LIMIT=5000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { diffOrderbook(t, cfg, c.depth, c.env...) })
	}
}

// diffOrderbook streams ws_orderbook for two symbols and checks, per symbol:
// every published diff equals the simulator's diff of the same update ids;
// every snapshot equals the best levels of the simulator's book at its
// update id; and the book a consumer rebuilds from the first snapshot and
// the diffs by Binance's rules equals the simulator's book, at every later
// snapshot and at the end, over the prices the first snapshot covers (all
// of them when it is the whole book).
//
// The reference book is the simulator's whole book (/api/v3/depth, limit
// 5000) taken with the clock stopped, then the simulator's own diffs from a
// WebSocket connection of the test opened at the same update id; it is
// checked against the simulator's whole book again at the end.
func diffOrderbook(t *testing.T, cfg bus.Config, depth int, env ...string) {
	symbols := []string{"BTCUSDT", "ETHUSDT"}
	clk := &bookClock{at: time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC), since: time.Now()} // stopped
	sim, url := startSim(t, binancesim.Options{Clock: clk.now})
	feed := dialDepth(t, url, symbols)
	first := map[string]*book{}
	for _, s := range symbols {
		first[s] = restBook(t, url, s)
	}
	tk := newTask(t, cfg, "BTCUSDT", "ws_orderbook", "")
	tk.symbol = strings.Join(symbols, ",")
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url, append([]string{"LOADER_SNAPSHOT_INTERVAL=300ms"}, env...)...)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	clk.run(20)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, 1500)
	clk.run(0)
	last := map[string]*book{}
	refDiffs := map[string][]depthEvent{}
	for _, s := range symbols {
		last[s] = restBook(t, url, s)
		refDiffs[s] = feed.upTo(t, s, last[s].id)
	}
	stopLive(t, cfg, tk, p, ev, "loader-producer")
	if n := sim.Stats().WS.GapsInjected; n != 0 {
		t.Fatalf("%d depth gaps in the simulator", n)
	}

	bySymbol := map[string][]record{}
	for _, r := range readTopic(t, cfg, tk.topic) {
		bySymbol[r.Symbol] = append(bySymbol[r.Symbol], r)
	}
	for _, s := range symbols {
		ref := newRefBook(t, s, first[s], refDiffs[s])
		// The reference itself: its diffs continue the first snapshot without
		// a hole and end at the simulator's last book.
		end := ref.clone()
		end.advance(last[s].id)
		if !end.equal(last[s]) {
			t.Fatalf("ws_orderbook %s: the simulator's diffs from update id %d do not lead to its book at %d: the reference is broken",
				s, first[s].id, last[s].id)
		}
		checkBookRecords(t, tk, s, bySymbol[s], ref, depth)
	}
}

// refBook is the simulator's book advanced by its own diffs.
type refBook struct {
	t      *testing.T
	symbol string
	b      *book
	diffs  []depthEvent
	next   int
	final  map[int64]depthEvent // the diffs by final update id
}

func newRefBook(t *testing.T, symbol string, first *book, diffs []depthEvent) *refBook {
	t.Helper()
	r := &refBook{t: t, symbol: symbol, b: first.clone(), diffs: diffs, final: map[int64]depthEvent{}}
	prev := first.id
	for _, d := range diffs {
		if d.first != prev+1 {
			t.Fatalf("ws_orderbook %s: the simulator's own diffs jump from update id %d to %d", symbol, prev, d.first)
		}
		prev = d.final
		r.final[d.final] = d
	}
	return r
}

func (r *refBook) clone() *refBook {
	c := *r
	c.b = r.b.clone()
	return &c
}

// advance applies the diffs up to update id id, failing unless one ends there.
func (r *refBook) advance(id int64) {
	r.t.Helper()
	for r.next < len(r.diffs) && r.diffs[r.next].final <= id {
		d := r.diffs[r.next]
		r.b.bids.apply(d.bids)
		r.b.asks.apply(d.asks)
		r.b.id = d.final
		r.next++
	}
	if r.b.id != id {
		r.t.Fatalf("ws_orderbook %s: no diff of the simulator ends at update id %d (the reference is at %d)", r.symbol, id, r.b.id)
	}
}

func (r *refBook) equal(b *book) bool {
	return r.b.id == b.id && mapsEqual(r.b.bids, b.bids) && mapsEqual(r.b.asks, b.asks)
}

func mapsEqual(a, b side) bool {
	if len(a) != len(b) {
		return false
	}
	for p, q := range a {
		if b[p] != q {
			return false
		}
	}
	return true
}

// checkBookRecords walks one symbol's records in topic order.
func checkBookRecords(t *testing.T, tk task, symbol string, recs []record, ref *refBook, depth int) {
	t.Helper()
	d := newDiffReport(t, tk.typ+" "+symbol)
	var cons *book             // the consumer's book; nil before the first snapshot
	lo, hi := math.Inf(-1), 0. // the prices the first snapshot covers: bids >= lo, asks <= hi
	var snapshots, diffs int
	for i, r := range recs {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			t.Fatal(err)
		}
		if r.MsgKey != symbol {
			t.Errorf("%s %s record %d: message key %q, want the symbol", tk.typ, symbol, i, r.MsgKey)
		}
		switch {
		case m["last_update_id"] != nil:
			var s storedSnapshot
			if err := decodeExact(r.Raw, &s); err != nil {
				t.Fatalf("%s %s record %d: %v", tk.typ, symbol, i, err)
			}
			snapshots++
			key := symbol + "_" + itoa(s.LastUpdateID)
			ref.advance(s.LastUpdateID)
			n := min(depth, len(ref.b.bids))
			na := min(depth, len(ref.b.asks))
			d.compare("snapshot "+key, []field{{"_key", s.Key}, {"symbol", s.Symbol}, {"bids", nonNil(s.Bids)}, {"asks", nonNil(s.Asks)}},
				[]field{{"_key", key}, {"symbol", symbol}, {"bids", ref.b.bids.top(n, true)}, {"asks", ref.b.asks.top(na, false)}})
			if cons == nil {
				cons = &book{id: s.LastUpdateID, bids: side{}, asks: side{}}
				cons.bids.apply(s.Bids)
				cons.asks.apply(s.Asks)
				if len(s.Bids) >= depth && len(s.Asks) >= depth && depth < len(ref.b.bids) {
					lo, hi = s.Bids[len(s.Bids)-1][0], s.Asks[len(s.Asks)-1][0]
				} else {
					hi = math.Inf(1)
				}
				continue
			}
			if cons.id != s.LastUpdateID {
				d.errorf("snapshot "+key, "published after diffs up to update id %d, not %d", cons.id, s.LastUpdateID)
				continue
			}
			// A snapshot of the synced book is as of the diff that ends at
			// its update id; the first one comes from REST, which has no
			// time (the loader stamps its own clock).
			if w, ok := ref.final[s.LastUpdateID]; ok {
				d.compare("snapshot "+key, []field{{"time", s.Time}}, []field{{"time", w.time}})
			} else {
				d.errorf("snapshot "+key, "no diff of the simulator ends at update id %d", s.LastUpdateID)
			}
			compareBooks(d, "book at snapshot "+key, cons, ref.b, lo, hi)
		case m["first_update_id"] != nil:
			var x storedDiff
			if err := decodeExact(r.Raw, &x); err != nil {
				t.Fatalf("%s %s record %d: %v", tk.typ, symbol, i, err)
			}
			diffs++
			key := symbol + "_diff_" + itoa(x.Final)
			w, ok := ref.final[x.Final]
			if !ok {
				d.errorf(key, "no diff of the simulator ends at update id %d", x.Final)
				continue
			}
			d.compare(key, []field{{"_key", x.Key}, {"symbol", x.Symbol}, {"time", x.Time}, {"first_update_id", x.First},
				{"final_update_id", x.Final}, {"bids", nonNil(x.Bids)}, {"asks", nonNil(x.Asks)}},
				[]field{{"_key", key}, {"symbol", symbol}, {"time", w.time}, {"first_update_id", w.first},
					{"final_update_id", w.final}, {"bids", nonNil(w.bids)}, {"asks", nonNil(w.asks)}})
			// Binance's rules: drop what the book has, apply what continues it.
			switch {
			case cons == nil:
				d.errorf(key, "a diff before any snapshot")
			case x.Final <= cons.id:
			case x.First > cons.id+1:
				d.errorf(key, "diff %d..%d leaves a hole after the book's update id %d", x.First, x.Final, cons.id)
				cons = nil
			default:
				cons.bids.apply(x.Bids)
				cons.asks.apply(x.Asks)
				cons.id = x.Final
			}
		default:
			d.errorf(string(m["_key"]), "unexpected record (no gap was injected): %s", r.Raw)
		}
	}
	if cons == nil {
		t.Fatalf("%s %s: no book to compare: %d snapshots, %d diffs", tk.typ, symbol, snapshots, diffs)
	}
	ref.advance(cons.id)
	compareBooks(d, "book at the last diff "+itoa(cons.id), cons, ref.b, lo, hi)
	if !math.IsInf(hi, 1) {
		// Outside the first snapshot's prices the consumer's book has only
		// the levels diffs touched: its best levels may not be the
		// simulator's (issue #22, item 5). Told, not asserted.
		same := slices.Equal(cons.bids.top(depth, true), ref.b.bids.top(depth, true)) &&
			slices.Equal(cons.asks.top(depth, false), ref.b.asks.top(depth, false))
		t.Logf("%s %s: the consumer's best %d levels at the end equal the simulator's: %t", tk.typ, symbol, depth, same)
	}
	d.done(len(recs))
	t.Logf("%s %s: %d snapshots and %d diffs compared; the consumer's book ends at update id %d", tk.typ, symbol, snapshots, diffs, cons.id)
}

// compareBooks reports the levels within [lo, hi] (bids >= lo, asks <= hi)
// where the consumer's book differs from the reference.
func compareBooks(d *diffReport, what string, got, want *book, lo, hi float64) {
	d.t.Helper()
	var g, w []field
	add := func(name string, gs, ws side, in func(float64) bool) {
		prices := map[float64]bool{}
		for p := range gs {
			prices[p] = true
		}
		for p := range ws {
			prices[p] = true
		}
		ps := make([]float64, 0, len(prices))
		for p := range prices {
			if in(p) && gs[p] != ws[p] {
				ps = append(ps, p)
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			n := fmt.Sprintf("%s %v qty (0: none)", name, p)
			g, w = append(g, field{n, gs[p]}), append(w, field{n, ws[p]})
		}
	}
	add("bid", got.bids, want.bids, func(p float64) bool { return p >= lo })
	add("ask", got.asks, want.asks, func(p float64) bool { return p <= hi })
	d.compare(what, g, w)
}
