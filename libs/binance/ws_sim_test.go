package binance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// simEpoch is where the simulated clocks of these tests start.
var simEpoch = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

// simTime is a simulator clock that runs scale times faster than the wall clock from simEpoch and can be paused.
type simTime struct {
	mu     sync.Mutex
	base   time.Time // simulated time at wall
	wall   time.Time
	scale  float64
	paused bool
}

func newSimTime(scale float64) *simTime {
	return &simTime{base: simEpoch, wall: time.Now(), scale: scale}
}

func (c *simTime) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *simTime) nowLocked() time.Time {
	if c.paused {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.wall)) * c.scale))
}

// Pause stops the clock; nothing happens in the simulator until Resume.
func (c *simTime) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.paused = c.nowLocked(), true
}

// startWSSim starts a simulator of BTCUSDT and ETHUSDT (one and half a trade per second) on clock.
func startWSSim(t testing.TB, clock func() time.Time, ws binancesim.WSOptions) (*binancesim.Sim, string) {
	t.Helper()
	cfg := binancesim.DefaultMarketConfig(7)
	cfg.Start = simEpoch.AddDate(0, 0, -2)
	if clock().Sub(cfg.Start) > 48*time.Hour { // the wall clock
		cfg.Start = clock().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	}
	cfg.Symbols = cfg.Symbols[:2]
	cfg.Symbols[0].AggTradesPerSecond, cfg.Symbols[1].AggTradesPerSecond = 1, 0.5
	cfg.Correlation = [][]float64{{1, 0.8}, {0.8, 1}}
	sim := binancesim.New(binancesim.Options{Market: cfg, Clock: clock, WS: ws})
	base, stop := sim.Start()
	t.Cleanup(stop)
	return sim, base
}

// stateLog records OnState events.
type stateLog struct {
	mu     sync.Mutex
	events []WSState
}

func (l *stateLog) add(s WSState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (l *stateLog) kinds() []WSStateKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []WSStateKind
	for _, e := range l.events {
		out = append(out, e.Kind)
	}
	return out
}

func (l *stateLog) all() []WSState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

var errEnough = errors.New("enough messages")

// runUntil runs c with fn until fn returns errEnough, failing the test on any other end or after timeout.
func runUntil(t *testing.T, c *WSClient, timeout time.Duration, fn func(WSMessage) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.Run(ctx, fn); !errors.Is(err, errEnough) {
		t.Fatalf("Run ended with %v; stats %+v", err, c.Stats())
	}
}

func TestWSRotationLosesNothing(t *testing.T) {
	sim, base := startWSSim(t, time.Now, binancesim.WSOptions{Rate: 1000, MaxLifetime: 1500 * time.Millisecond})
	var log stateLog
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@aggTrade"},
		RotateAfter: 600 * time.Millisecond, RotateOverlap: 150 * time.Millisecond, OnState: log.add})
	if err != nil {
		t.Fatal(err)
	}
	const rotations = 4
	var ids []int64
	conns := map[int]bool{}
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		a, err := ParseAggTradeEvent(m.Data)
		if err != nil {
			return err
		}
		if m.Reconnected {
			return fmt.Errorf("message %d flagged as after a reconnect; states %v", a.AggID, log.kinds())
		}
		ids = append(ids, a.AggID)
		conns[m.Conn] = true
		if c.Stats().Rotations >= rotations {
			return errEnough
		}
		return nil
	})
	for i, id := range ids {
		if id != ids[0]+int64(i) {
			t.Fatalf("message %d has agg id %d, want %d: ids missing or repeated around it: %v", i, id, ids[0]+int64(i),
				ids[max(0, i-3):min(len(ids), i+3)])
		}
	}
	st := c.Stats()
	if st.Duplicates == 0 {
		t.Error("no duplicates dropped: the connections never overlapped")
	}
	if len(conns) < rotations {
		t.Errorf("messages came over %d connections, want at least %d", len(conns), rotations)
	}
	if slices.Contains(log.kinds(), WSReconnecting) || st.Reconnects != 0 {
		t.Errorf("states %v: a rotation must not reconnect", log.kinds())
	}
	if ws := sim.Stats().WS; ws.LifetimeCuts != 0 {
		t.Errorf("the server cut %d connections at their lifetime: the client rotated too late", ws.LifetimeCuts)
	}
	t.Logf("%d messages over %d connections, %d duplicates dropped", len(ids), len(conns), st.Duplicates)
}

func TestWSReconnectsAfterDropWithBackoff(t *testing.T) {
	sim, base := startWSSim(t, time.Now, binancesim.WSOptions{Rate: 300})
	var log stateLog
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return Sleep(ctx, d)
	}
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@aggTrade", "ethusdt@aggTrade"},
		BackoffFirst: 80 * time.Millisecond, BackoffMax: time.Second, Rand: func() float64 { return 0.5 },
		Sleep: sleep, OnState: log.add})
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		stream      string
		id          int64
		conn        int
		reconnected bool
	}
	var got []msg
	after := 0
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		a, err := ParseAggTradeEvent(m.Data)
		if err != nil {
			return err
		}
		got = append(got, msg{m.Stream, a.AggID, m.Conn, m.Reconnected})
		if len(got) == 100 {
			if n := sim.DropWS(); n != 1 {
				return fmt.Errorf("DropWS dropped %d connections, want 1", n)
			}
		}
		if m.Conn != got[0].conn {
			after++
		}
		if after == 100 {
			return errEnough
		}
		return nil
	})
	first, second := got[0].conn, got[len(got)-1].conn
	if first == second {
		t.Fatal("all messages came over one connection")
	}
	flagged := map[string]int{}
	last := map[string]int64{}
	for i, m := range got {
		if m.reconnected {
			flagged[m.stream]++
			if m.conn != second || (i > 0 && got[i-1].conn == second && got[i-1].stream == m.stream) {
				t.Errorf("message %d (%s, conn %d) flagged, but it is not the stream's first after the reconnect", i, m.stream, m.conn)
			}
		}
		if m.id <= last[m.stream] {
			t.Errorf("%s: id %d after %d", m.stream, m.id, last[m.stream])
		}
		last[m.stream] = m.id
	}
	if diff := cmp.Diff(map[string]int{"btcusdt@aggTrade": 1, "ethusdt@aggTrade": 1}, flagged); diff != "" {
		t.Errorf("Reconnected messages per stream (-want +got):\n%s", diff)
	}
	var reconnecting *WSState
	for _, s := range log.all() {
		if s.Kind == WSReconnecting {
			reconnecting = &s
			break
		}
	}
	if reconnecting == nil || reconnecting.Err == nil {
		t.Fatalf("states %v: no reconnecting state with its error", log.all())
	}
	const wantDelay = 60 * time.Millisecond // the first backoff: half of 80 ms plus half of the other half
	mu.Lock()
	defer mu.Unlock()
	if reconnecting.Delay != wantDelay || !slices.Contains(slept, wantDelay) {
		t.Errorf("reconnect delay %v, slept %v; want %v", reconnecting.Delay, slept, wantDelay)
	}
	if ws := sim.Stats().WS; ws.Opened != 2 || ws.Dropped != 1 {
		t.Errorf("sim opened %d connections and dropped %d, want 2 and 1", ws.Opened, ws.Dropped)
	}
}

func TestWSAnswersPingsWhileSilentClientsAreCut(t *testing.T) {
	// Four pings a second: the pongs stay within the five messages a client may send per second.
	const interval = 250 * time.Millisecond
	sim, base := startWSSim(t, time.Now, binancesim.WSOptions{PingInterval: interval, PongTimeout: 2 * interval})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A client that never reads never answers a ping.
	silent, _, err := websocket.Dial(ctx, base+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.CloseNow()

	var log stateLog
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@depth@100ms"}, OnState: log.add})
	if err != nil {
		t.Fatal(err)
	}
	var lastConn int
	messages := 0
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		lastConn = m.Conn
		messages++
		if ws := sim.Stats().WS; ws.PongTimeouts >= 1 && ws.PingsSent >= 8 {
			return errEnough
		}
		return nil
	})
	ws := sim.Stats().WS
	if ws.PongTimeouts != 1 || ws.RateCuts != 0 {
		t.Errorf("%d connections cut for unanswered pings and %d for too many messages, want 1 (the silent one) and 0",
			ws.PongTimeouts, ws.RateCuts)
	}
	if got := log.kinds(); !slices.Equal(got, []WSStateKind{WSConnected}) || lastConn != 1 {
		t.Errorf("client states %+v, last message over connection %d; want one connection throughout", log.all(), lastConn)
	}
	_, _, err = silent.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
		t.Errorf("the silent client read %v (status %v), want the server's close for a missing pong", err, got)
	}
	t.Logf("%d pings sent, %d messages", ws.PingsSent, messages)
}

func TestWSSplitsStreamsAndKeepsTheMessageLimit(t *testing.T) {
	sim, base := startWSSim(t, time.Now, binancesim.WSOptions{Rate: 50})
	// 1100 streams: connection 0 takes the first 1024 and ends with btcusdt (subscribed by message), connection 1
	// the rest with ethusdt. The x-symbols do not exist and carry nothing, as on Binance.
	var streams []string
	for i := range 1023 {
		streams = append(streams, fmt.Sprintf("x%04dusdt@trade", i))
	}
	streams = append(streams, "btcusdt@aggTrade")
	for i := 1023; i < 1098; i++ {
		streams = append(streams, fmt.Sprintf("x%04dusdt@trade", i))
	}
	streams = append(streams, "ethusdt@aggTrade")
	c, err := NewWSClient(WSOptions{URL: base, Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	// A short URL budget makes connection 0 send six SUBSCRIBE requests, more than a second's worth.
	c.maxURLStreams = 200
	c.plan(streams)
	if c.Connections() != 2 || len(c.shards[0].batches) != 6 {
		t.Fatalf("%d connections, %d SUBSCRIBE batches on the first; want 2 and 6", c.Connections(), len(c.shards[0].batches))
	}
	seen := map[string]bool{}
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		seen[m.Stream] = true
		if seen["btcusdt@aggTrade"] && seen["ethusdt@aggTrade"] {
			return errEnough
		}
		return nil
	})
	ws := sim.Stats().WS
	if ws.Opened != 2 || ws.MaxStreamsPerConn != MaxStreamsPerConn {
		t.Errorf("sim saw %d connections with at most %d streams, want 2 with %d", ws.Opened, ws.MaxStreamsPerConn, MaxStreamsPerConn)
	}
	if ws.MaxIncomingPerSecond > MaxMessagesPerSecond || ws.RateCuts != 0 {
		t.Errorf("a connection sent %d messages in a second (%d cut), want at most %d", ws.MaxIncomingPerSecond, ws.RateCuts, MaxMessagesPerSecond)
	}
}

// depthBook is an order book fed from the stream and synced over REST, as the order-book loader does.
type depthBook struct {
	book       *OrderBook
	applied    int
	gaps       []Gap
	syncs      int
	everSynced bool
	lostSync   bool // unsynced after its first sync without a gap
}

func TestWSDepthGapResyncsOnlyThatSymbol(t *testing.T) {
	clk := newSimTime(10)
	sim, base := startWSSim(t, clk.Now, binancesim.WSOptions{})
	rest := NewClient(base, ClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	books := map[string]*depthBook{"BTCUSDT": {book: NewOrderBook("BTCUSDT")}, "ETHUSDT": {book: NewOrderBook("ETHUSDT")}}
	resync := func(b *depthBook, symbol string) error {
		for range 5 {
			snap, err := rest.Depth(ctx, symbol, 1000)
			if err != nil {
				return err
			}
			_, err = b.book.Sync(snap)
			if errors.Is(err, ErrStaleSnapshot) {
				continue
			}
			if err != nil {
				return err
			}
			b.syncs++
			b.everSynced = true
			return nil
		}
		return fmt.Errorf("%s: no usable snapshot in 5 tries", symbol)
	}
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@depth@100ms", "ethusdt@depth@100ms"}})
	if err != nil {
		t.Fatal(err)
	}
	feed, stopFeed := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(feed, func(m WSMessage) error {
			d, err := ParseDepthUpdate(m.Data)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			b := books[d.Symbol]
			applied, err := b.book.Push(d)
			var gap *GapError
			switch {
			case errors.As(err, &gap):
				b.gaps = append(b.gaps, gap.Record(m.Received.UnixMilli()))
				return resync(b, d.Symbol)
			case err != nil:
				return err
			case !b.book.Synced():
				if b.everSynced {
					b.lostSync = true
				}
				return resync(b, d.Symbol)
			}
			b.applied += len(applied)
			return nil
		})
	}()
	// waitFor polls the books until cond holds; the feed ending early fails the test.
	waitFor := func(what string, cond func(btc, eth *depthBook) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			ok := cond(books["BTCUSDT"], books["ETHUSDT"])
			mu.Unlock()
			if ok {
				return
			}
			select {
			case err := <-done:
				t.Fatalf("waiting for %s: the feed ended: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: timed out", what)
			}
		}
	}
	waitFor("both books", func(btc, eth *depthBook) bool { return btc.applied >= 20 && eth.applied >= 20 })
	if err := sim.InjectDepthGap("BTCUSDT", 3); err != nil {
		t.Fatal(err)
	}
	var ethBefore int
	waitFor("the resync", func(btc, eth *depthBook) bool { ethBefore = eth.applied; return btc.syncs == 2 })
	waitFor("more diffs", func(btc, eth *depthBook) bool { return btc.applied >= 40 && eth.applied >= ethBefore+20 })

	// Freeze the market and compare each book with /api/v3/depth at the same update id.
	clk.Pause()
	for _, symbol := range []string{"BTCUSDT", "ETHUSDT"} {
		want, err := rest.Depth(ctx, symbol, 20)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(symbol+" to reach the REST book", func(btc, eth *depthBook) bool {
			return books[symbol].book.LastUpdateID() >= want.LastUpdateID
		})
		mu.Lock()
		got := books[symbol].book.Snapshot(20, want.Time)
		mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: local book differs from /api/v3/depth (-want +got):\n%s", symbol, diff)
		}
	}
	stopFeed()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the feed ended with %v, want context.Canceled", err)
	}

	mu.Lock()
	defer mu.Unlock()
	btc, eth := books["BTCUSDT"], books["ETHUSDT"]
	if len(btc.gaps) != 1 || btc.gaps[0].To-btc.gaps[0].From+1 != 3 {
		t.Fatalf("BTCUSDT gaps %+v, want one of 3 update ids", btc.gaps)
	}
	key := fmt.Sprintf(`"_key":"BTCUSDT_gap_%d_%d"`, btc.gaps[0].From, btc.gaps[0].To)
	if rec := string(btc.gaps[0].AppendJSON(nil)); !strings.Contains(rec, key) || !strings.Contains(rec, "sequence gap") {
		t.Errorf("gap record %s, want key %s and the reason", rec, key)
	}
	if len(eth.gaps) != 0 || eth.lostSync || eth.syncs != 1 || btc.lostSync {
		t.Errorf("ETHUSDT: gaps %v, lost sync %v, synced %d times; BTCUSDT lost sync %v: only BTCUSDT may resync, for its gap",
			eth.gaps, eth.lostSync, eth.syncs, btc.lostSync)
	}
	if got := sim.Stats().WS.GapsInjected; got != 1 {
		t.Errorf("sim applied %d gaps, want 1", got)
	}
}

func TestWSSimPayloadsMatchTheMarket(t *testing.T) {
	clk := newSimTime(60)
	sim, base := startWSSim(t, clk.Now, binancesim.WSOptions{})
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@aggTrade", "btcusdt@trade", "btcusdt@kline_1m",
		"btcusdt@depth@100ms", "ethusdt@depth"}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		aggs    []AggTrade
		trades  []AggTrade
		closed  []Candle
		updates int
		diffs   = map[string][]BookDiff{}
	)
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		var err error
		switch {
		case strings.HasSuffix(m.Stream, "@aggTrade"):
			var a AggTrade
			a, err = ParseAggTradeEvent(m.Data)
			aggs = append(aggs, a)
		case strings.HasSuffix(m.Stream, "@trade"):
			var a AggTrade
			a, err = ParseTradeEvent(m.Data)
			trades = append(trades, a)
		case strings.Contains(m.Stream, "@kline_"):
			var k Candle
			var x bool
			k, x, err = ParseKlineEvent(m.Data)
			if x {
				closed = append(closed, k)
			} else {
				updates++
			}
		default:
			var d BookDiff
			d, err = ParseDepthUpdate(m.Data)
			diffs[m.Stream] = append(diffs[m.Stream], d)
		}
		if err != nil {
			return fmt.Errorf("%s: %w: %s", m.Stream, err, m.Data)
		}
		if len(closed) >= 2 {
			return errEnough
		}
		return nil
	})

	// Aggregate trades: exactly the market's, in id order, without holes.
	from, to := time.UnixMilli(aggs[0].Time), time.UnixMilli(aggs[len(aggs)-1].Time)
	market, err := sim.Market().AggTrades("BTCUSDT", from, to)
	if err != nil {
		t.Fatal(err)
	}
	var want []AggTrade
	for _, a := range market {
		if a.ID >= aggs[0].AggID && a.ID <= aggs[len(aggs)-1].AggID {
			want = append(want, AggTrade{Symbol: "BTCUSDT", Time: a.Time, AggID: a.ID, Price: float64(a.Price) / 1e8,
				Qty: float64(a.Qty) / 1e8, FirstID: a.FirstTradeID, LastID: a.LastTradeID, BuyerMaker: a.BuyerMaker})
		}
	}
	if len(aggs) < 50 {
		t.Errorf("only %d agg trades streamed", len(aggs))
	}
	if diff := cmp.Diff(want, aggs); diff != "" {
		t.Errorf("streamed agg trades differ from Market.AggTrades (-want +got):\n%s", diff)
	}
	// Raw trades: every id of the aggregate trades, once, at their price.
	byID := map[int64]AggTrade{}
	for _, a := range want {
		for id := a.FirstID; id <= a.LastID; id++ {
			byID[id] = a
		}
	}
	for i, tr := range trades {
		if i > 0 && tr.AggID != trades[i-1].AggID+1 {
			t.Fatalf("trade ids %d then %d", trades[i-1].AggID, tr.AggID)
		}
		if a, ok := byID[tr.AggID]; ok && (a.Price != tr.Price || a.Time != tr.Time || tr.Qty <= 0) {
			t.Errorf("trade %+v does not match its aggregate %+v", tr, a)
		}
	}
	// Closed klines equal the REST view of the same minute.
	for _, k := range closed {
		open := time.UnixMilli(k.OpenTime)
		cs, err := sim.Market().Candles("BTCUSDT", "1m", open, open)
		if err != nil || len(cs) != 1 {
			t.Fatalf("Market.Candles: %v, %d candles", err, len(cs))
		}
		m := cs[0]
		want := Candle{Symbol: "BTCUSDT", Interval: "1m", Time: m.OpenTime, OpenTime: m.OpenTime, CloseTime: m.CloseTime,
			Open: float64(m.Open) / 1e8, High: float64(m.High) / 1e8, Low: float64(m.Low) / 1e8, Close: float64(m.Close) / 1e8,
			Volume: float64(m.Volume) / 1e8, Trades: m.Trades, TakerBuyBase: float64(m.TakerBuyVolume) / 1e8,
			QuoteVolume: k.QuoteVolume, TakerBuyQuote: k.TakerBuyQuote} // 8-decimal strings of float sums
		if diff := cmp.Diff(want, k); diff != "" {
			t.Errorf("closed kline differs from Market.Candles (-want +got):\n%s", diff)
		}
	}
	if updates == 0 {
		t.Error("no kline updates before the close")
	}
	// Depth diffs follow each other without holes, on both speeds.
	for stream, ds := range diffs {
		if len(ds) < 2 {
			t.Errorf("%s: %d diffs", stream, len(ds))
		}
		for i := 1; i < len(ds); i++ {
			if ds[i].FirstUpdateID != ds[i-1].FinalUpdateID+1 {
				t.Errorf("%s: diff %d starts at %d after %d", stream, i, ds[i].FirstUpdateID, ds[i-1].FinalUpdateID)
			}
		}
	}
}
