package e2e

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

const fixed = 1e8 // the simulator's fixed-point scale

// testCandles loads [from, to) of interval candles and checks the topic
// holds exactly the simulator's candles, with progress and finished events.
func testCandles(t *testing.T, cfg bus.Config, interval, from, to string, extraEnv ...string) {
	sim, url := startSim(t, binancesim.Options{})
	tk := newTask(t, cfg, "BTCUSDT", "api_candles_"+interval, from+"/"+to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url, extraEnv...)
	if code := p.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	want, err := sim.Market().Candles(tk.symbol, binancesim.Interval(interval), mustTime(t, from), mustTime(t, to).Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fin := ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	if fin.RecordsWritten != int64(len(want)) {
		t.Errorf("finished event says %d records, the simulator has %d", fin.RecordsWritten, len(want))
	}
	checkProgress(t, ev.All())

	recs := readTopic(t, cfg, tk.topic)
	if len(recs) != len(want) {
		t.Errorf("topic holds %d messages, want %d (one per candle)", len(recs), len(want))
	}
	got := distinct(t, recs)
	if len(got) != len(want) {
		t.Fatalf("topic holds %d distinct candles, the simulator has %d", len(got), len(want))
	}
	step := want[1].OpenTime - want[0].OpenTime
	for i, c := range want {
		key := tk.symbol + "_" + interval + "_" + strconv.FormatInt(c.OpenTime, 10)
		r, ok := got[key]
		if !ok {
			t.Fatalf("candle %s missing from the topic", key)
		}
		if i > 0 && c.OpenTime-want[i-1].OpenTime != step {
			t.Fatalf("the simulator's own candles are not contiguous at %d", c.OpenTime)
		}
		if r.OpenTime != c.OpenTime || r.Time != c.OpenTime || r.Open != float64(c.Open)/fixed || r.High != float64(c.High)/fixed ||
			r.Low != float64(c.Low)/fixed || r.Close != float64(c.Close)/fixed || math.Abs(r.Volume-float64(c.Volume)/fixed) > 1e-9 ||
			r.Trades != c.Trades {
			t.Fatalf("candle %s differs from the simulator's:\n got %s\nwant %+v", key, r.Raw, c)
		}
	}
}

// checkProgress wants loading events with a rising share of the range,
// ending at 100 %.
func checkProgress(t *testing.T, evs []protocol.Event) {
	t.Helper()
	var pct []float64
	for _, e := range evs {
		if e.Status == protocol.StatusLoading {
			pct = append(pct, e.Percent)
		}
	}
	if len(pct) == 0 {
		t.Fatal("no progress (loading) event")
	}
	if !slices.IsSorted(pct) {
		t.Errorf("progress went backwards: %v", pct)
	}
	if last := pct[len(pct)-1]; last != 100 {
		t.Errorf("last progress event says %.2f %%, want 100", last)
	}
}

// expectedTrades returns the simulator's trades of [from, to).
func expectedTrades(t testing.TB, sim *binancesim.Sim, symbol, from, to string) []binancesim.AggTrade {
	t.Helper()
	want, err := sim.Market().AggTrades(symbol, mustTime(t, from), mustTime(t, to).Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// checkTrades fails unless the topic holds exactly want: same ids, prices
// and quantities, with consecutive aggregate ids.
func checkTrades(t *testing.T, cfg bus.Config, tk task, want []binancesim.AggTrade) {
	t.Helper()
	got := distinct(t, readTopic(t, cfg, tk.topic))
	if len(got) != len(want) {
		t.Fatalf("topic holds %d distinct trades, the simulator has %d", len(got), len(want))
	}
	for i, a := range want {
		if i > 0 && a.ID != want[i-1].ID+1 {
			t.Fatalf("the simulator's trade ids are not consecutive at %d", a.ID)
		}
		r, ok := got[tk.symbol+"_"+strconv.FormatInt(a.ID, 10)]
		if !ok {
			t.Fatalf("trade %d missing from the topic (a hole after %d)", a.ID, a.ID-1)
		}
		if r.AggID != a.ID || r.Time != a.Time || !strings.Contains(string(r.Raw), `"price":`+strconv.FormatFloat(float64(a.Price)/fixed, 'f', -1, 64)+",") {
			t.Fatalf("trade %d differs from the simulator's:\n got %s\nwant %+v", a.ID, r.Raw, a)
		}
	}
}

// testTrades loads the aggregate trades of [from, to) and checks the topic.
func testTrades(t *testing.T, cfg bus.Config, from, to string, minTrades int, extraEnv ...string) {
	sim, url := startSim(t, binancesim.Options{})
	tk := newTask(t, cfg, "BTCUSDT", "api_trades", from+"/"+to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	began := time.Now()
	p := startLoader(t, cfg, tk, url, extraEnv...)
	if code := p.Wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	took := time.Since(began)
	want := expectedTrades(t, sim, tk.symbol, from, to)
	if len(want) < minTrades {
		t.Fatalf("range holds %d trades, the test wants at least %d: widen it", len(want), minTrades)
	}
	fin := ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	if fin.RecordsWritten != int64(len(want)) {
		t.Errorf("finished event says %d records, the simulator has %d", fin.RecordsWritten, len(want))
	}
	checkProgress(t, ev.All())
	checkTrades(t, cfg, tk, want)
	t.Logf("%d trades in %s (%.0f/s); simulator requests %v", len(want), took.Round(time.Millisecond),
		float64(len(want))/took.Seconds(), sim.Stats().Requests)
}

// testKillRestart kills a trades loader mid-run and starts it again with the
// same queue id: the topic ends complete and gap-free.
func testKillRestart(t *testing.T, cfg bus.Config, from, to string) {
	sim, url := startSim(t, binancesim.Options{})
	tk := newTask(t, cfg, "BTCUSDT", "api_trades", from+"/"+to)
	want := expectedTrades(t, sim, tk.symbol, from, to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	// Small batches and one download at a time make many sends to kill between.
	env := []string{"LOADER_BATCH_SIZE=2000", "LOADER_CONCURRENCY=1"}
	p := startLoader(t, cfg, tk, url, env...)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := messages(a, tk.topic)
		if err != nil {
			t.Fatal(err)
		}
		if n >= int64(len(want))/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records after 2 minutes", n)
		}
		select {
		case <-p.Done():
			t.Fatalf("the loader ended before it could be killed (%d records): %s", n, testkit.LastLine(p.Stderr()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 10*time.Second)
	before, _ := messages(a, tk.topic)
	if before >= int64(len(want)) {
		t.Fatalf("the kill came too late: %d of %d records were already there", before, len(want))
	}
	p2 := startLoader(t, cfg, tk, url, env...)
	if code := p2.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("restarted loader exited %d: %s", code, testkit.LastLine(p2.Stderr()))
	}
	if !strings.Contains(p2.Stderr(), `"resume_from"`) {
		t.Error("the restarted loader did not log where it resumed")
	}
	started := 0
	for _, e := range ev.All() {
		if e.Status == protocol.StatusStarted {
			started++
			if started == 2 && !strings.Contains(e.Message, "resuming") {
				t.Errorf("second started event does not say it resumes: %q", e.Message)
			}
		}
	}
	checkTrades(t, cfg, tk, want)
	after, _ := messages(a, tk.topic)
	t.Logf("killed at %d of %d records; %d messages at the end (%d re-sent)", before, len(want), after, after-int64(len(want)))
}

func messages(a *bus.Admin, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := a.EndOffsets(ctx, topic)
	var n int64
	for _, e := range ends {
		n += e
	}
	return n, err
}
