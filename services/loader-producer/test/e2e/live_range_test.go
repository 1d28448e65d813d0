package e2e

import (
	"encoding/json"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// liveRange returns a range of n seconds starting at the next whole second
// at least lead from now, in TIME_RANGE's RFC 3339 form.
func liveRange(lead time.Duration, n int) (from, to time.Time, tr string) {
	from = time.Now().Add(lead).Truncate(time.Second).Add(time.Second).UTC()
	to = from.Add(time.Duration(n) * time.Second)
	return from, to, from.Format(time.RFC3339) + "/" + to.Format(time.RFC3339)
}

// runRange streams typ over a short range on the wall clock and returns the
// data topic's records once the loader finished.
func runRange(t *testing.T, cfg bus.Config, typ string, lead time.Duration, seconds int) (sim *binancesim.Sim, from, to time.Time, raw [][]byte) {
	t.Helper()
	// The wall clock, so that the range is the loader's and the market's;
	// a busier BTCUSDT than the default's 2 trades/s, so that a few seconds
	// hold dozens.
	market := binancesim.DefaultMarketConfig(1)
	market.Symbols[0].AggTradesPerSecond = 20
	sim, url := startSim(t, binancesim.Options{Market: market})
	from, to, tr := liveRange(lead, seconds)
	tk := newTask(t, cfg, "BTCUSDT", typ, tr)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url, "LOADER_END_GRACE=3s")
	fin := ev.WaitFor(t, protocol.StatusFinished, time.Duration(seconds)*time.Second+time.Minute)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	for _, r := range readTopic(t, cfg, tk.topic) {
		raw = append(raw, r.Raw)
	}
	t.Logf("%s %s: %d records; %s", typ, tr, len(raw), fin.Message)
	return sim, from, to, raw
}

// testLiveCandlesRange: ws_candles with a TIME_RANGE stores exactly the
// candles that open inside it, the last one too (its closing event comes
// after the range's end), each equal to the market's.
func testLiveCandlesRange(t *testing.T, cfg bus.Config) {
	sim, from, to, raw := runRange(t, cfg, "ws_candles_1s", 2*time.Second, 4)
	want, err := sim.Market().Candles("BTCUSDT", "1s", from, to.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]binance.Candle{}
	for _, r := range raw {
		var c binance.Candle
		if err := json.Unmarshal(r, &c); err != nil || c.Interval != "1s" {
			t.Fatalf("not a candle: %s", r)
		}
		got[c.OpenTime] = c
	}
	if len(got) != len(want) || len(want) != 4 {
		t.Errorf("%d candles stored, want the %d that open in the range", len(got), len(want))
	}
	px := func(v int64) float64 { return float64(v) / 1e8 }
	for _, w := range want {
		g, ok := got[w.OpenTime]
		if !ok {
			t.Errorf("candle %s missing", time.UnixMilli(w.OpenTime).UTC().Format(time.RFC3339))
			continue
		}
		if g.CloseTime != w.CloseTime || g.Open != px(w.Open) || g.High != px(w.High) || g.Low != px(w.Low) ||
			g.Close != px(w.Close) || g.Volume != px(w.Volume) || g.Trades != w.Trades || g.TakerBuyBase != px(w.TakerBuyVolume) {
			t.Errorf("candle %d: stored %+v, market %+v", w.OpenTime, g, w)
		}
	}
}

// testLiveTradesRange: ws_trades with a TIME_RANGE stores exactly the
// trades of the range, those of its last moments too, and those before the
// stream started when the range began earlier.
func testLiveTradesRange(t *testing.T, cfg bus.Config) {
	for _, c := range []struct {
		name string
		lead time.Duration
	}{{"ahead", 2 * time.Second}, {"started 3 s ago", -3 * time.Second}} {
		t.Run(c.name, func(t *testing.T) { checkTradesRange(t, cfg, c.lead) })
	}
}

func checkTradesRange(t *testing.T, cfg bus.Config, lead time.Duration) {
	sim, from, to, raw := runRange(t, cfg, "ws_trades", lead, 5)
	want, err := sim.Market().AggTrades("BTCUSDT", from, to.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]binance.AggTrade{}
	for _, r := range raw {
		var a binance.AggTrade
		if err := json.Unmarshal(r, &a); err != nil || a.AggID == 0 {
			t.Fatalf("not a trade: %s", r)
		}
		got[a.AggID] = a
	}
	if len(want) == 0 {
		t.Fatal("the market has no trades in the range")
	}
	if len(got) != len(want) {
		t.Errorf("%d trades stored, the market has %d in the range", len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok || g.Time != w.Time || g.BuyerMaker != w.BuyerMaker {
			t.Errorf("trade %d (time %d): stored %+v", w.ID, w.Time, g)
		}
	}
}

// testLiveRelaunch kills a ws_trades loader and starts it again, as
// queue-manager relaunches a failed step: the relaunched process reads its
// data topic's tail and fetches what it missed over REST, leaving no hole.
func testLiveRelaunch(t *testing.T, cfg bus.Config) {
	_, url := startSim(t, binancesim.Options{Clock: fastClock(time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC), 200)})
	tk := newTask(t, cfg, "BTCUSDT", "ws_trades", "")
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := startLoader(t, cfg, tk, url)
	waitRecords(t, a, tk.topic, p, 300)
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 10*time.Second)
	time.Sleep(time.Second) // the market trades on while no loader runs
	before, _ := messages(a, tk.topic)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p = startLoader(t, cfg, tk, url)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	waitRecords(t, a, tk.topic, p, before+300)
	stopLive(t, cfg, tk, p, ev, "loader-producer")
	if testkit.Grep(p.Stderr(), "resuming after the data topic's last record") == "" {
		t.Error("the relaunched loader did not read its data topic back")
	}
	var ids []int64
	for _, r := range distinct(t, readTopic(t, cfg, tk.topic)) {
		if r.AggID == 0 {
			t.Fatalf("not a trade (a gap record?): %s", r.Raw)
		}
		ids = append(ids, r.AggID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("trades %d..%d missing after the relaunch", ids[i-1]+1, ids[i]-1)
		}
	}
	t.Logf("%d trades, ids %d..%d, across a kill and a relaunch", len(ids), ids[0], ids[len(ids)-1])
}
