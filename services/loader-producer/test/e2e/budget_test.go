package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestEmbeddedSharedBudget: four loaders share one IP's weight budget.
func TestEmbeddedSharedBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the simulator's next weight window (up to two minutes)")
	}
	testSharedBudget(t, plain(t))
}

// testSharedBudget runs four loaders at once against one simulator, which
// counts request weight per client address as Binance does per IP: they
// all come from 127.0.0.1, like loader Jobs behind one egress address.
// Together they need more weight than one minute's budget, each alone
// less. Each learns the others' use from X-MBX-USED-WEIGHT-1M and keeps
// BINANCE_WEIGHT_MARGIN_PERCENT (default 10 %) free, so the simulator must
// never count more than the budget in a minute, never answer 429, and
// every loader must deliver every trade.
func testSharedBudget(t *testing.T, cfg bus.Config) {
	const budget = 480
	sim, url := startSim(t, binancesim.Options{WeightLimit: budget})
	const from, to = "2024-03-05T00:00:00Z", "2024-03-05T06:00:00Z"
	symbols := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"}
	tasks := make([]task, len(symbols))
	procs := make([]*testkit.Proc, len(symbols))
	wants := make([][]binancesim.AggTrade, len(symbols))
	for i, s := range symbols {
		tasks[i] = newTask(t, cfg, s, "api_trades", from+"/"+to)
		wants[i] = expectedTrades(t, sim, s, from, to)
	}
	began := time.Now()
	for i, tk := range tasks {
		// Four loaders with two requests in flight each: at most 32 weight
		// the others have not seen yet, within the 48 of the margin.
		procs[i] = startLoader(t, cfg, tk, url, "LOADER_ARCHIVES=false", "LOADER_CONCURRENCY=2")
	}
	var wg sync.WaitGroup
	codes := make([]int, len(procs))
	for i, p := range procs {
		wg.Go(func() { codes[i] = p.Wait(t, 5*time.Minute) })
	}
	wg.Wait()
	took := time.Since(began)
	for i, code := range codes {
		if code != 0 {
			t.Fatalf("loader %s exited %d: %s", symbols[i], code, testkit.LastLine(procs[i].Stderr()))
		}
	}
	st := sim.Stats()
	charged := 4*st.Requests["/api/v3/aggTrades"] + 20*st.Requests["/api/v3/exchangeInfo"]
	t.Logf("4 loaders in %s: %d weight in all, at most %d of %d in one minute; 429 %d, 418 %d; requests %v",
		took.Round(time.Millisecond), charged, st.MaxWeightUsed, budget, st.Served429, st.Served418, st.Requests)
	if charged <= budget {
		t.Fatalf("the loaders needed %d weight, within one minute's %d: the test did not test sharing", charged, budget)
	}
	if st.MaxWeightUsed > budget {
		t.Errorf("the simulator counted %d weight in one minute from the loaders' address, over the budget of %d", st.MaxWeightUsed, budget)
	}
	if st.Served429 != 0 || st.Served418 != 0 {
		t.Errorf("the loaders earned %d 429s and %d 418s", st.Served429, st.Served418)
	}
	for i, tk := range tasks {
		checkTrades(t, cfg, tk, wants[i])
	}
}
