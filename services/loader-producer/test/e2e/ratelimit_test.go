package e2e

import (
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// testRateLimits loads trades over REST only from a simulator with a small
// weight budget, injecting 429s and a 418 ban on the way. The simulator's
// own accounting must show that the loader never went over the budget,
// never asked again before a Retry-After was over, and still delivered
// every trade.
func testRateLimits(t *testing.T, cfg bus.Config, weightLimit int, from, to string) {
	sim, url := startSim(t, binancesim.Options{WeightLimit: weightLimit})
	tk := newTask(t, cfg, "BTCUSDT", "api_trades", from+"/"+to)
	want := expectedTrades(t, sim, tk.symbol, from, to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	began := time.Now()
	// One request at a time: any request inside a Retry-After is then the
	// loader's fault, not one that was already on its way.
	p := startLoader(t, cfg, tk, url, "LOADER_ARCHIVES=false", "LOADER_CONCURRENCY=1")
	waitStat(t, p, sim, "3 aggTrades requests", func(s binancesim.Stats) bool { return s.Requests["/api/v3/aggTrades"] >= 3 })
	sim.Fail429(2, 2*time.Second)
	waitStat(t, p, sim, "the injected 429s", func(s binancesim.Stats) bool { return s.Injected429 == 2 })
	sim.Ban(3 * time.Second) // hit when the 429's Retry-After is over
	if code := p.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	took := time.Since(began)
	ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	st := sim.Stats()
	t.Logf("%d trades in %s; simulator: max weight %d of %d, 429 served %d (injected %d), 418 served %d, early retries %d, requests %v",
		len(want), took.Round(time.Millisecond), st.MaxWeightUsed, weightLimit, st.Served429, st.Injected429, st.Served418,
		st.EarlyRetries, st.Requests)
	if st.MaxWeightUsed > weightLimit {
		t.Errorf("the simulator saw %d weight in one minute, over the budget of %d", st.MaxWeightUsed, weightLimit)
	}
	if st.Served429 != 0 {
		t.Errorf("the loader earned %d 429s of its own by going over the budget", st.Served429)
	}
	if st.Served418 == 0 {
		t.Error("the injected ban was never hit: the test did not test it")
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d requests came before the Retry-After of a 429 or 418 was over", st.EarlyRetries)
	}
	checkTrades(t, cfg, tk, want)
}

// waitStat polls the simulator's accounting until ok holds.
func waitStat(t *testing.T, p *testkit.Proc, sim *binancesim.Sim, what string, ok func(binancesim.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok(sim.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute: %+v", what, sim.Stats())
		}
		select {
		case <-p.Done():
			t.Fatalf("the loader ended before %s: %s", what, testkit.LastLine(p.Stderr()))
		case <-time.After(5 * time.Millisecond):
		}
	}
}
