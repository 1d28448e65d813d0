package e2e

import (
	"encoding/json"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// fastClock runs speed times faster than the wall clock from start, so the
// simulated market trades fast enough for a short test.
func fastClock(start time.Time, speed float64) func() time.Time {
	t0 := time.Now()
	return func() time.Time { return start.Add(time.Duration(float64(time.Since(t0)) * speed)) }
}

// stopLive sends the stop command and waits for the interrupted event.
func stopLive(t *testing.T, cfg bus.Config, tk task, p *testkit.Proc, ev *testkit.Events, target string) protocol.Event {
	t.Helper()
	command(t, cfg, protocol.Command{Command: protocol.CommandStop, QueueID: tk.queueID, Target: target})
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("stopped loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	return ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second)
}

// testLiveTrades streams a symbol's trades, drops every WebSocket
// connection in the middle, and stops the loader: the topic must hold
// every trade from the first to the last without a hole — the ones missed
// while reconnecting fetched by id over REST — equal to the market's.
func testLiveTrades(t *testing.T, cfg bus.Config) {
	sim, url := startSim(t, binancesim.Options{Clock: fastClock(time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC), 200)})
	tk := newTask(t, cfg, "BTCUSDT", "ws_trades", "")
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, 300)
	if n := sim.DropWS(); n == 0 {
		t.Fatal("no WebSocket connection to drop")
	}
	time.Sleep(500 * time.Millisecond) // trades go on while the loader reconnects
	before, _ := messages(a, tk.topic)
	waitRecords(t, a, tk.topic, p, before+300)
	stopLive(t, cfg, tk, p, ev, "loader-producer")

	if got := testkit.Grep(p.Stderr(), "missed trades fetched over REST"); got == "" {
		t.Error("the loader did not fetch the trades missed while reconnecting (or missed none: drop earlier)")
	}
	recs := distinct(t, readTopic(t, cfg, tk.topic))
	var ids []int64
	var first, last int64 = 1 << 62, 0
	for _, r := range recs {
		if r.AggID == 0 {
			t.Fatalf("not a trade: %s", r.Raw)
		}
		ids = append(ids, r.AggID)
		first, last = min(first, r.Time), max(last, r.Time)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("trades %d..%d missing from the topic", ids[i-1]+1, ids[i]-1)
		}
	}
	want, err := sim.Market().AggTrades(tk.symbol, time.UnixMilli(first), time.UnixMilli(last))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		r, ok := recs["BTCUSDT_"+itoa(w.ID)]
		if w.ID < ids[0] || w.ID > ids[len(ids)-1] {
			continue // same millisecond as the first or last, outside what was streamed
		}
		if !ok || r.Time != w.Time {
			t.Fatalf("trade %d: topic has %s, market has %+v", w.ID, r.Raw, w)
		}
	}
	t.Logf("%d trades streamed, ids %d..%d, across a dropped connection", len(ids), ids[0], ids[len(ids)-1])
}

// bookRecord is a data-topic record of an order-book stream.
type bookRecord struct {
	Key          string       `json:"_key"`
	Symbol       string       `json:"symbol"`
	LastUpdateID int64        `json:"last_update_id"`
	First        int64        `json:"first_update_id"`
	Final        int64        `json:"final_update_id"`
	From         int64        `json:"from"`
	To           int64        `json:"to"`
	Reason       string       `json:"reason"`
	Bids         [][2]float64 `json:"bids"`
}

// testLiveOrderbook streams two order books, injects a depth gap into one,
// and checks in the topic that each symbol's records follow Binance's rules:
// a snapshot, then diffs continuing its update ids without a hole; the gap
// is announced by a gap record and followed by a fresh snapshot for that
// symbol only.
func testLiveOrderbook(t *testing.T, cfg bus.Config) {
	sim, url := startSim(t, binancesim.Options{Clock: fastClock(time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC), 20)})
	tk := newTask(t, cfg, "BTCUSDT", "ws_orderbook", "")
	tk.symbol = "BTCUSDT,ETHUSDT"
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startBinary(t, "loader-ws-orderbook", cfg, tk, url, "LOADER_SNAPSHOT_INTERVAL=1h", "LOADER_SNAPSHOT_LIMIT=100")
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, 100)
	if err := sim.InjectDepthGap("BTCUSDT", 5); err != nil {
		t.Fatal(err)
	}
	before, _ := messages(a, tk.topic)
	waitRecords(t, a, tk.topic, p, before+100)
	stopLive(t, cfg, tk, p, ev, "loader-ws-orderbook")

	// Per symbol in topic order (one partition per symbol keeps it).
	seq := map[string][]bookRecord{}
	for _, r := range readTopic(t, cfg, tk.topic) {
		var b bookRecord
		if err := json.Unmarshal(r.Raw, &b); err != nil {
			t.Fatal(err)
		}
		seq[b.Symbol] = append(seq[b.Symbol], b)
	}
	gaps := map[string]int{}
	snapshots := map[string]int{}
	for sym, recs := range seq {
		var book int64 // the update id the consumer's book is at; 0: no book
		for i, b := range recs {
			switch {
			case b.LastUpdateID > 0: // snapshot
				snapshots[sym]++
				book = b.LastUpdateID
			case b.Reason != "": // gap
				gaps[sym]++
				if book == 0 || b.From != book+1 || b.To < b.From {
					t.Fatalf("%s record %d: gap %d..%d does not follow the book at %d", sym, i, b.From, b.To, book)
				}
				book = 0
			case b.Final > 0: // diff
				if book == 0 {
					t.Fatalf("%s record %d: diff %d..%d before any snapshot", sym, i, b.First, b.Final)
				}
				if b.Final <= book || b.First > book+1 {
					t.Fatalf("%s record %d: diff %d..%d does not continue the book at %d", sym, i, b.First, b.Final, book)
				}
				book = b.Final
			default:
				t.Fatalf("%s record %d: unknown record %+v", sym, i, b)
			}
		}
	}
	if gaps["BTCUSDT"] != 1 || gaps["ETHUSDT"] != 0 {
		t.Errorf("gap records %v, want one for BTCUSDT only", gaps)
	}
	if snapshots["BTCUSDT"] != 2 || snapshots["ETHUSDT"] != 1 {
		t.Errorf("snapshots %v, want BTCUSDT 2 (start, resync) and ETHUSDT 1", snapshots)
	}
	t.Logf("records per symbol: BTCUSDT %d, ETHUSDT %d", len(seq["BTCUSDT"]), len(seq["ETHUSDT"]))
}

// waitRecords waits until topic holds at least n messages.
func waitRecords(t *testing.T, a *bus.Admin, topic string, p *testkit.Proc, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := messages(a, topic)
		if err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records after a minute, waiting for %d", got, n)
		}
		select {
		case <-p.Done():
			t.Fatalf("the loader ended early: %s", testkit.LastLine(p.Stderr()))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
