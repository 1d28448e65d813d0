package binancesim_test

// The Binance client (package binance) against the simulator: the two meet
// at Binance's HTTP API, so these tests check both against each other and
// against the simulator's own accounting.

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// fakeClock is shared by the simulator and the client: sleeping advances it,
// so rate-limit waits take no wall time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

func fixed8(v int64) float64 { return float64(v) / 1e8 }

func simAndClient(t *testing.T, budget int, clock *fakeClock) (*binancesim.Sim, *binance.Client) {
	t.Helper()
	mc := binancesim.DefaultMarketConfig(42)
	sim := binancesim.New(binancesim.Options{Market: mc, Clock: clock.Now, WeightLimit: budget})
	url, stop := sim.Start()
	t.Cleanup(stop)
	c := binance.NewClient(url, binance.ClientOptions{Now: clock.Now, Sleep: clock.Sleep,
		Limiter: binance.NewLimiter(budget, clock.Now, clock.Sleep), Rand: func() float64 { return 0.5 }})
	return sim, c
}

func TestClientKlinesMatchTheMarket(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}
	sim, c := simAndClient(t, 6000, clock)
	from := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(36 * time.Hour)                                                      // 2,160 candles: three pages
	want, err := sim.Market().Candles("BTCUSDT", "1m", from, to.Add(-time.Millisecond)) // open times in [from, to]
	if err != nil {
		t.Fatal(err)
	}
	iv, err := binance.ParseInterval("1m")
	if err != nil {
		t.Fatal(err)
	}
	var got []binance.Candle
	err = c.Klines(context.Background(), "BTCUSDT", iv, from.UnixMilli(), to.UnixMilli(), func(k binance.Candle) error {
		got = append(got, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 2160 {
		t.Fatalf("client read %d candles, market has %d, want 2160", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.OpenTime != w.OpenTime || g.Time != w.OpenTime || g.Trades != w.Trades ||
			math.Abs(g.Close-fixed8(w.Close)) > 1e-9 || math.Abs(g.Volume-fixed8(w.Volume)) > 1e-9 {
			t.Fatalf("candle %d: client %+v, market %+v", i, g, w)
		}
	}
	if st := sim.Stats(); st.MaxWeightUsed > 6000 || st.Served429 != 0 {
		t.Errorf("simulator saw weight %d and %d 429s", st.MaxWeightUsed, st.Served429)
	}
}

func TestClientAggTradesMatchTheMarket(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}
	sim, c := simAndClient(t, 6000, clock)
	from := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
	to := from.Add(30 * time.Minute)
	want, err := sim.Market().AggTrades("BTCUSDT", from, to)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, ok, err := c.FirstAggTradeID(ctx, "BTCUSDT", from.UnixMilli(), to.UnixMilli())
	if err != nil || !ok {
		t.Fatalf("FirstAggTradeID = %d, %v, %v", first, ok, err)
	}
	var got []binance.AggTrade
	err = c.AggTrades(ctx, "BTCUSDT", first, to.UnixMilli(), func(a binance.AggTrade) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("client read %d trades, market has %d", len(got), len(want))
	}
	for i := range want {
		if got[i].AggID != want[i].ID || got[i].Time != want[i].Time || math.Abs(got[i].Price-fixed8(want[i].Price)) > 1e-9 {
			t.Fatalf("trade %d: client %+v, market %+v", i, got[i], want[i])
		}
	}
}

// TestClientStaysWithinTheWeightBudget: many concurrent paginated reads with
// a small budget; the simulator's own accounting must never see it exceeded,
// and injected 429s and a 418 ban are waited out as told.
func TestClientStaysWithinTheWeightBudget(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}
	const budget = 40
	sim, c := simAndClient(t, budget, clock)
	iv, _ := binance.ParseInterval("1m")
	from := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	sim.Fail429(2, 3*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	counts := make([]int, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := from.Add(time.Duration(g) * 24 * time.Hour)
			errs <- c.Klines(context.Background(), "BTCUSDT", iv, start.UnixMilli(), start.Add(24*time.Hour).UnixMilli(), func(binance.Candle) error {
				counts[g]++
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for g, n := range counts {
		if n != 1440 {
			t.Errorf("reader %d got %d candles, want 1440", g, n)
		}
	}
	st := sim.Stats()
	if st.MaxWeightUsed > budget {
		t.Errorf("the simulator saw %d weight in one minute, budget %d", st.MaxWeightUsed, budget)
	}
	if st.Served429 != 0 || st.Injected429 != 2 {
		t.Errorf("429s: %d for the budget (want 0), %d injected (want 2)", st.Served429, st.Injected429)
	}

	// A ban stops every request until it ends; the read then completes.
	sim.Ban(90 * time.Second)
	before := clock.Now()
	n := 0
	err := c.Klines(context.Background(), "ETHUSDT", iv, from.UnixMilli(), from.Add(time.Hour).UnixMilli(), func(binance.Candle) error { n++; return nil })
	if err != nil || n != 60 {
		t.Fatalf("read during a ban: %d candles, %v", n, err)
	}
	if waited := clock.Now().Sub(before); waited < 90*time.Second {
		t.Errorf("the client waited %s of a 90s ban", waited)
	}
	if st := sim.Stats(); st.Served418 < 1 || st.MaxWeightUsed > budget {
		t.Errorf("after the ban: %d 418s served (want at least 1), max weight %d", st.Served418, st.MaxWeightUsed)
	}
}
