package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// simNow is the exchange simulator's clock in these tests: the simulated
// market's trades, candles and order book are fixed at it.
var simNow = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// liveRig is one live job's stream handler, fed messages by the test: its
// REST client talks to the exchange simulator, its records go to a fake
// sender that keeps them in order.
type liveRig struct {
	t       *testing.T
	l       *live
	sim     *binancesim.Sim
	clock   *atomic.Int64 // the simulator's now, epoch ms
	sent    *fakeSender
	recv    time.Time                  // Received of the next message
	values  map[string]json.RawMessage // the records published, by key (set by keys)
	allDone int                        // calls of l.allDone
}

// newLiveRig returns the handler of a live job of type typ for BTCUSDT over
// [start, end) (zero: unbounded), resuming after h as runLive does.
func newLiveRig(t *testing.T, typ string, start, end time.Time, h recordHead) *liveRig {
	t.Helper()
	dt, err := ParseDataType(typ)
	if err != nil {
		t.Fatal(err)
	}
	r := &liveRig{t: t, clock: new(atomic.Int64), sent: newFakeSender(t, 0), recv: simNow}
	r.clock.Store(simNow.UnixMilli())
	r.sim = binancesim.New(binancesim.Options{Clock: func() time.Time { return time.UnixMilli(r.clock.Load()).UTC() }})
	url, stop := r.sim.Start()
	t.Cleanup(stop)
	job := Job{QueueID: "wf-live-test", Symbols: []string{"BTCUSDT"}, Type: dt, Start: start, End: end, Topic: "wf-live-test-data"}
	cfg := &Config{SnapshotLimit: 100, SnapshotEvery: time.Minute, EndGrace: time.Second}
	r.l = &live{job: job, cfg: cfg, rest: binance.NewClient(url, binance.ClientOptions{MaxAttempts: 1}),
		m: newMetrics(prometheus.NewRegistry()), log: zerolog.Nop(), lat: newLatencies(), syms: map[string]*liveSymbol{}}
	if !end.IsZero() {
		r.l.pending.Store(1)
		r.l.allDone = func() { r.allDone++ }
	}
	ls := r.l.newSymbol("BTCUSDT", h)
	ls.w = newSymbolWriter(context.Background(), r.sent, job.Topic, "BTCUSDT", 1, func(ack) {})
	r.l.syms["BTCUSDT"] = ls
	return r
}

// feed hands the handler one stream message, received a second after the
// one before.
func (r *liveRig) feed(data string) {
	r.t.Helper()
	r.recv = r.recv.Add(time.Second)
	if err := r.l.handle(binance.WSMessage{Stream: "test", Data: json.RawMessage(data), Received: r.recv}); err != nil {
		r.t.Fatalf("handle %s: %v", data, err)
	}
}

// keys closes the writer and returns the keys of the records published, in
// order.
func (r *liveRig) keys() []string {
	r.t.Helper()
	if err := r.l.syms["BTCUSDT"].w.close(); err != nil {
		r.t.Fatal(err)
	}
	r.sent.mu.Lock()
	defer r.sent.mu.Unlock()
	var keys []string
	r.values = map[string]json.RawMessage{}
	for _, s := range r.sent.sends {
		for _, m := range s {
			var rec struct {
				Key string `json:"_key"`
			}
			if err := json.Unmarshal(m.Value, &rec); err != nil {
				r.t.Fatalf("record %s: %v", m.Value, err)
			}
			keys = append(keys, rec.Key)
			r.values[rec.Key] = m.Value
		}
	}
	return keys
}

func checkKeys(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("records published\n got %v\nwant %v", got, want)
	}
}

func fixed(v int64) string { return fmt.Sprintf("%d.%08d", v/1e8, v%1e8) }

func aggTradeEvent(a binancesim.AggTrade) string {
	return fmt.Sprintf(`{"e":"aggTrade","E":%d,"s":"BTCUSDT","a":%d,"p":"%s","q":"%s","f":%d,"l":%d,"T":%d,"m":%t}`,
		a.Time, a.ID, fixed(a.Price), fixed(a.Qty), a.FirstTradeID, a.LastTradeID, a.Time, a.BuyerMaker)
}

func tradeKey(a binancesim.AggTrade) string { return fmt.Sprintf("BTCUSDT_%d", a.ID) }

// klineEvent is the stream's message of c; while c is open, its close
// price is a unit above the final one.
func klineEvent(c binancesim.Candle, closed bool) string {
	if !closed {
		c.Close += 1e8
	}
	return fmt.Sprintf(`{"e":"kline","E":%d,"s":"BTCUSDT","k":{"t":%d,"T":%d,"s":"BTCUSDT","i":"1m","o":"%s","c":"%s","h":"%s","l":"%s",`+
		`"v":"%s","n":%d,"x":%t,"q":"%.8f","V":"%s","Q":"%.8f"}}`, c.CloseTime, c.OpenTime, c.CloseTime,
		fixed(c.Open), fixed(c.Close), fixed(c.High), fixed(c.Low), fixed(c.Volume), c.Trades, closed,
		c.QuoteVolume, fixed(c.TakerBuyVolume), c.TakerBuyQuoteVolume)
}

func candleKey(c binancesim.Candle) string { return fmt.Sprintf("BTCUSDT_1m_%d", c.OpenTime) }

func depthEvent(first, final int64) string {
	return fmt.Sprintf(`{"e":"depthUpdate","E":%d,"s":"BTCUSDT","U":%d,"u":%d,"b":[["41000.00","%d.5"]],"a":[]}`,
		simNow.UnixMilli(), first, final, final%7)
}

func diffKey(final int64) string           { return fmt.Sprintf("BTCUSDT_diff_%d", final) }
func snapKey(last int64) string            { return fmt.Sprintf("BTCUSDT_%d", last) }
func gapKey(from, to int64) string         { return fmt.Sprintf("BTCUSDT_gap_%d_%d", from, to) }
func (r *liveRig) snapshotID() int64       { return r.snapshot().LastUpdateID }
func (r *liveRig) advance(d time.Duration) { r.clock.Add(d.Milliseconds()) }

func (r *liveRig) snapshot() binance.BookSnapshot {
	r.t.Helper()
	s, err := r.l.rest.Depth(context.Background(), "BTCUSDT", 100)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// simTrades returns the simulated market's BTCUSDT trades of the minute
// before simNow.
func simTrades(t *testing.T, sim *binancesim.Sim) []binancesim.AggTrade {
	t.Helper()
	all, err := sim.Market().AggTrades("BTCUSDT", simNow.Add(-time.Minute), simNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 12 {
		t.Fatalf("%d trades in the minute before %s, want 12 or more", len(all), simNow)
	}
	return all
}

// timeAfter returns the index of the first trade after tr[i] with a later time.
func timeAfter(tr []binancesim.AggTrade, i int) int {
	j := i + 1
	for tr[j].Time == tr[i].Time {
		j++
	}
	return j
}

func tradeKeys(tr []binancesim.AggTrade) []string {
	keys := make([]string, len(tr))
	for i, a := range tr {
		keys[i] = tradeKey(a)
	}
	return keys
}

func TestLiveTrades(t *testing.T) {
	tests := []struct {
		name string
		// start and end index the trades whose times bound the job (-1: none);
		// resumeAt the trade the data topic ends with (-1: empty).
		start, end, resumeAt int
		// failREST is how many REST requests fail from the start.
		failREST int
		// clockAt > 0 sets the simulator's now just before the first trade
		// at this one's time or later: REST lacks those.
		clockAt  int
		feed     []int // trades streamed, by index
		complete bool  // the range is over: call complete
		// want is what is published; s, e and c are the indexes of start,
		// end and clockAt, each moved to a change of time.
		want func(tr []binancesim.AggTrade, s, e, c int) []string
	}{
		{
			name: "in order, with repeats dropped", start: -1, end: -1, resumeAt: -1,
			feed: []int{0, 1, 1, 0, 2},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string { return tradeKeys(tr[0:3]) },
		},
		{
			name: "trades missed while reconnecting fetched over REST", start: -1, end: -1, resumeAt: -1,
			feed: []int{0, 5, 6},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string { return tradeKeys(tr[0:7]) },
		},
		{
			name: "trades missed and REST down: a gap record", start: -1, end: -1, resumeAt: -1, failREST: 1,
			feed: []int{0, 5, 6},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string {
				return []string{tradeKey(tr[0]), gapKey(tr[1].ID, tr[4].ID), tradeKey(tr[5]), tradeKey(tr[6])}
			},
		},
		{
			name: "trades missed and REST lacks some: a gap record for those", start: -1, end: -1, resumeAt: -1, clockAt: 3,
			feed: []int{0, 5, 6},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string {
				return append(tradeKeys(tr[0:c]), gapKey(tr[c].ID, tr[4].ID), tradeKey(tr[5]), tradeKey(tr[6]))
			},
		},
		{
			name: "resumed after the topic's last trade", start: -1, end: -1, resumeAt: 3,
			feed: []int{2, 3, 6},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string { return tradeKeys(tr[4:7]) },
		},
		{
			name: "range start: earlier trades dropped, the range's first ones fetched", start: 4, end: -1, resumeAt: -1,
			feed: []int{0, 3, 8},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string { return tradeKeys(tr[s:9]) },
		},
		{
			name: "range start and REST down: a gap record up to the first streamed trade", start: 4, end: -1, resumeAt: -1, failREST: 1,
			feed: []int{8, 9},
			want: func(tr []binancesim.AggTrade, s, e, c int) []string {
				return []string{gapKey(-1, tr[7].ID), tradeKey(tr[8]), tradeKey(tr[9])}
			},
		},
		{
			name: "range end: a later trade ends the symbol; the rest comes over REST", start: 0, end: 6, resumeAt: -1,
			feed: []int{0, 1, 9, 2}, complete: true,
			want: func(tr []binancesim.AggTrade, s, e, c int) []string { return tradeKeys(tr[s:e]) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := binancesim.New(binancesim.Options{Clock: func() time.Time { return simNow }})
			tr := simTrades(t, probe)
			// Bounds fall on a change of time, so that they cut between trades.
			idx := func(i int) int {
				if i <= 0 {
					return i
				}
				return timeAfter(tr, i-1)
			}
			var start, end time.Time
			if i := idx(tc.start); i >= 0 {
				start = time.UnixMilli(tr[i].Time).UTC()
			}
			if i := idx(tc.end); i >= 0 {
				end = time.UnixMilli(tr[i].Time).UTC()
			}
			var h recordHead
			if tc.resumeAt >= 0 {
				h = recordHead{Symbol: "BTCUSDT", AggID: tr[tc.resumeAt].ID, Time: tr[tc.resumeAt].Time}
			}
			r := newLiveRig(t, "ws_trades", start, end, h)
			if tc.failREST > 0 {
				r.sim.Fail5xx(tc.failREST, 500)
			}
			if tc.clockAt > 0 {
				r.clock.Store(tr[idx(tc.clockAt)].Time - 1)
			}
			for _, i := range tc.feed {
				r.feed(aggTradeEvent(tr[i]))
			}
			if tc.complete {
				if r.allDone != 1 {
					t.Errorf("allDone called %d times after a trade past the end, want 1", r.allDone)
				}
				if err := r.l.complete(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			checkKeys(t, r.keys(), tc.want(tr, idx(tc.start), idx(tc.end), idx(tc.clockAt)))
		})
	}
}

func TestLiveCandles(t *testing.T) {
	from := simNow.Add(-20 * time.Minute)
	probe := binancesim.New(binancesim.Options{Clock: func() time.Time { return simNow }})
	cs, err := probe.Market().Candles("BTCUSDT", "1m", from, simNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 20 {
		t.Fatalf("%d candles, want 20", len(cs))
	}
	keys := func(cs []binancesim.Candle) []string {
		var out []string
		for _, c := range cs {
			out = append(out, candleKey(c))
		}
		return out
	}
	at := func(i int) time.Time { return time.UnixMilli(cs[i].OpenTime).UTC() }
	type msg struct {
		i      int
		closed bool
	}
	tests := []struct {
		name       string
		start, end time.Time
		resume     int // open time of the topic's last candle, by index (-1: empty)
		failREST   int
		feed       []msg
		complete   bool
		wantDone   int
		want       []string
	}{
		{
			name: "open candles skipped, closed ones published", resume: -1,
			feed: []msg{{0, false}, {0, true}, {1, false}, {1, true}, {1, true}},
			want: keys(cs[0:2]),
		},
		{
			name: "candles missed while reconnecting fetched over REST", resume: -1,
			feed: []msg{{0, true}, {4, true}},
			want: keys(cs[0:5]),
		},
		{
			name: "candles missed and REST down: a gap record", resume: -1, failREST: 1,
			feed: []msg{{0, true}, {4, true}},
			want: []string{candleKey(cs[0]), gapKey(cs[1].OpenTime, cs[4].OpenTime-1), candleKey(cs[4])},
		},
		{
			name: "resumed after the topic's last candle", resume: 2,
			feed: []msg{{2, true}, {5, true}},
			want: keys(cs[3:6]),
		},
		{
			name:  "range start inside a candle: it and earlier ones dropped, the range's first ones fetched",
			start: at(3).Add(time.Second), resume: -1,
			feed: []msg{{3, true}, {7, true}},
			want: keys(cs[4:8]),
		},
		{
			name:  "range end: the next candle ends the symbol; the rest comes over REST",
			start: at(2), end: at(9), resume: -1,
			feed: []msg{{2, true}, {3, true}, {9, false}, {4, true}}, complete: true, wantDone: 1,
			want: keys(cs[2:9]),
		},
		{
			name: "range end: its last candle closed ends the symbol", start: at(2), end: at(5), resume: -1,
			feed: []msg{{2, true}, {3, true}, {4, true}, {4, true}}, complete: true, wantDone: 1,
			want: keys(cs[2:5]),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h recordHead
			if tc.resume >= 0 {
				h = recordHead{Symbol: "BTCUSDT", OpenTime: cs[tc.resume].OpenTime, Time: cs[tc.resume].OpenTime}
			}
			r := newLiveRig(t, "ws_candles_1m", tc.start, tc.end, h)
			if tc.failREST > 0 {
				r.sim.Fail5xx(tc.failREST, 500)
			}
			for _, m := range tc.feed {
				r.feed(klineEvent(cs[m.i], m.closed))
			}
			if r.allDone != tc.wantDone {
				t.Errorf("allDone called %d times, want %d", r.allDone, tc.wantDone)
			}
			if tc.complete {
				if err := r.l.complete(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			checkKeys(t, r.keys(), tc.want)
			for _, c := range cs {
				if v, ok := r.values[candleKey(c)]; ok {
					var got binance.Candle
					if err := json.Unmarshal(v, &got); err != nil {
						t.Fatal(err)
					}
					if want := float64(c.Close) / 1e8; got.Close != want {
						t.Errorf("candle %d published with close %v, want the final %v", c.OpenTime, got.Close, want)
					}
				}
			}
		})
	}
}

// TestLiveDepth follows one symbol's book through the sequencing rules:
// diffs before the snapshot, the snapshot, diffs on top, a gap, a stale
// snapshot, the resync and the periodic snapshot.
func TestLiveDepth(t *testing.T) {
	r := newLiveRig(t, "ws_orderbook", time.Time{}, time.Time{}, recordHead{})
	snap := r.snapshotID()
	var want []string

	r.feed(depthEvent(snap-5, snap-1)) // buffered, then in the snapshot
	want = append(want, snapKey(snap))
	r.feed(depthEvent(snap-1, snap+2)) // straddles the snapshot: applied
	r.feed(depthEvent(snap+3, snap+4))
	r.feed(depthEvent(snap+1, snap+4)) // already applied: dropped
	want = append(want, diffKey(snap+2), diffKey(snap+4))

	// Updates snap+5 and snap+6 are missed: a gap record, and the
	// simulator's snapshot, older than the next diff, is not used.
	r.feed(depthEvent(snap+7, snap+8))
	want = append(want, gapKey(snap+5, snap+6))
	r.feed(depthEvent(snap+9, snap+9))

	// Later, a newer snapshot resyncs the book with the diffs after it.
	r.advance(time.Minute)
	snap2 := r.snapshotID()
	if snap2 <= snap+9 {
		t.Fatalf("the simulator's book did not move on in a minute: %d, then %d", snap, snap2)
	}
	r.feed(depthEvent(snap2-1, snap2+1))
	want = append(want, snapKey(snap2), diffKey(snap2+1))
	r.feed(depthEvent(snap2+2, snap2+3))
	want = append(want, diffKey(snap2+3))

	// LOADER_SNAPSHOT_INTERVAL after the last snapshot, the book is
	// published again.
	r.recv = r.recv.Add(time.Minute)
	r.feed(depthEvent(snap2+4, snap2+4))
	want = append(want, diffKey(snap2+4), snapKey(snap2+4))

	// Another interval on, a diff already applied leaves the book where
	// the last snapshot was: no snapshot of the same key again. The next
	// one that moves it is published, with its snapshot.
	r.recv = r.recv.Add(time.Minute)
	r.feed(depthEvent(snap2+3, snap2+4))
	r.feed(depthEvent(snap2+5, snap2+5))
	want = append(want, diffKey(snap2+5), snapKey(snap2+5))

	checkKeys(t, r.keys(), want)
}

// TestLiveDepthResumed: a relaunched loader publishes a gap record from the
// topic's last update to the snapshot it restarts from.
func TestLiveDepthResumed(t *testing.T) {
	r := newLiveRig(t, "ws_orderbook", time.Time{}, time.Time{}, recordHead{})
	from := r.snapshotID() - 1000
	r = newLiveRig(t, "ws_orderbook", time.Time{}, time.Time{}, recordHead{Symbol: "BTCUSDT", FinalUpdateID: from})
	snap := r.snapshotID()
	r.feed(depthEvent(snap, snap+1))
	checkKeys(t, r.keys(), []string{gapKey(from+1, snap), snapKey(snap), diffKey(snap + 1)})
}

// TestLiveSkipsWhatItCannotUse: malformed messages and symbols the task
// does not load are skipped without ending the stream.
func TestLiveSkipsWhatItCannotUse(t *testing.T) {
	tests := []struct {
		name, typ, data string
	}{
		{"malformed trade", "ws_trades", `{"e":"aggTrade","s":"BTCUSDT"}`},
		{"trade of another symbol", "ws_trades", `{"e":"aggTrade","E":1,"s":"ETHUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1709294400000,"m":false}`},
		{"malformed kline", "ws_candles_1m", `{"e":"kline","k":{}}`},
		{"not a depth update", "ws_orderbook", `{"e":"trade"}`},
		{"depth update of another symbol", "ws_orderbook", `{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":1,"u":2,"b":[],"a":[]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newLiveRig(t, tc.typ, time.Time{}, time.Time{}, recordHead{})
			r.feed(tc.data)
			checkKeys(t, r.keys(), nil)
		})
	}
}

// TestLiveRejectsUnhandledKind: a live job of a kind the live loader has
// no case for ends with an error naming it; its messages were once taken
// for depth updates.
func TestLiveRejectsUnhandledKind(t *testing.T) {
	depth := []byte(`{"e":"depthUpdate","E":1722470400000,"s":"BTCUSDT","U":1,"u":2,"b":[["1.0","2.0"]],"a":[]}`)
	for _, k := range []Kind{APICandles, APITrades} {
		t.Run(k.String(), func(t *testing.T) {
			typ := DataType{Kind: k}
			if k == APICandles {
				typ.Interval, _ = binance.ParseInterval("5m")
			}
			if s, err := streamName(typ, "BTCUSDT"); !errors.Is(err, errUnhandled) {
				t.Errorf("streamName = %q, %v; want errUnhandled", s, err)
			}
			l := &live{job: Job{Type: typ, Symbols: []string{"BTCUSDT"}}, m: newMetrics(prometheus.NewRegistry()),
				log: zerolog.Nop(), lat: newLatencies(), syms: map[string]*liveSymbol{}}
			err := l.handle(binance.WSMessage{Stream: "btcusdt@depth@100ms", Data: depth})
			if !errors.Is(err, errUnhandled) || !strings.Contains(err.Error(), "TYPE: "+typ.String()) {
				t.Errorf("handle = %v, want errUnhandled naming TYPE %s", err, typ)
			}
		})
	}
	for _, typ := range []string{"ws_trades", "ws_orderbook", "ws_candles_1m"} {
		d, err := ParseDataType(typ)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := streamName(d, "BTCUSDT"); err != nil {
			t.Errorf("streamName(%s): %v", typ, err)
		}
	}
}
