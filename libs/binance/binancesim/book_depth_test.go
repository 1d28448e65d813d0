package binancesim

import (
	"strconv"
	"testing"
	"time"
)

// TestBookStaysDeepWhileThePriceTrends: over two hours in which BTCUSDT moves by thousands of ticks, /api/v3/depth
// with limit 5000 (rest-api.md "Order book": up to 5000 levels) keeps answering thousands of levels on each side
// (the book keeps 4000 per side, so that limit 5000 is the whole book; random cancellations near the touch leave a
// few holes), bid below ask. Before, the levels the price crossed were removed and never replaced: the side the
// price moved into ran out after 1000 ticks and the book became one-sided.
func TestBookStaysDeepWhileThePriceTrends(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{})
	type book struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	px := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var first, lo, hi float64
	minLevels := bookLevels
	for i := range 25 {
		if i > 0 {
			clk.Add(5 * time.Minute) // within bookMaxCatch: the book is advanced step by step, not rebuilt
		}
		b := decode[book](t, get(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "5000")))
		if len(b.Bids) < 3500 || len(b.Asks) < 3500 {
			t.Fatalf("at %s: %d bids and %d asks, want at least 3500 each", clk.Now().Format(time.TimeOnly), len(b.Bids), len(b.Asks))
		}
		minLevels = min(minLevels, len(b.Bids), len(b.Asks))
		bid, ask := px(b.Bids[0][0]), px(b.Asks[0][0])
		if bid >= ask {
			t.Fatalf("at %s: best bid %v, best ask %v", clk.Now().Format(time.TimeOnly), bid, ask)
		}
		if i == 0 {
			first, lo, hi = bid, bid, bid
		}
		lo, hi = min(lo, bid), max(hi, bid)
	}
	// BTCUSDT's tick is 0.01: the test is meaningful only if the price moved further than the old 1000 levels.
	if ticks := (hi - lo) * 100; ticks < 2000 {
		t.Fatalf("the price moved only %.0f ticks (from %v): pick a livelier period", ticks, first)
	}
	t.Logf("price range %v..%v, fewest levels on a side %d", lo, hi, minLevels)
	_ = sim
}
