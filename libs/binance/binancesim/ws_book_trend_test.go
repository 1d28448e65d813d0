package binancesim

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// TestBookStreamsFollowTheTrend: over two hours in which BTCUSDT moves by thousands of ticks, what the
// <symbol>@bookTicker stream sends (web-socket-streams.md, "Individual Symbol Book Ticker Streams": u, b, B, a, A)
// and what <symbol>@depth20 sends ("Partial Book Depth Streams": the top 20 levels of each side) stay two-sided,
// twenty levels deep on both sides, ordered away from the touch, and the touch stays with the market: within 0.1 %
// of the last trade. Both streams read bookSet.top and bookSet.snapshotJSON, which the test calls at the times the
// streams would.
func TestBookStreamsFollowTheTrend(t *testing.T) {
	m, err := NewMarket(testMarket(42))
	if err != nil {
		t.Fatal(err)
	}
	bs := newBookSet(m)
	start := time.Date(2025, 2, 10, 10, 0, 0, 0, time.UTC)
	var lo, hi float64
	lastID := int64(0)
	for i := range 25 {
		now := start.Add(time.Duration(i) * 5 * time.Minute).UnixMilli()
		id, bid, ask := bs.top(0, now)
		if id <= lastID || bid.qty <= 0 || ask.qty <= 0 || bid.price >= ask.price {
			t.Fatalf("at %s: book ticker u=%d (before %d), bid %d x %d, ask %d x %d", time.UnixMilli(now).UTC().Format(time.TimeOnly),
				id, lastID, bid.price, bid.qty, ask.price, ask.qty)
		}
		lastID = id
		var snap struct {
			LastUpdateID int64       `json:"lastUpdateId"`
			Bids         [][2]string `json:"bids"`
			Asks         [][2]string `json:"asks"`
		}
		if err := json.Unmarshal(bs.snapshotJSON(0, now, 20), &snap); err != nil {
			t.Fatal(err)
		}
		if len(snap.Bids) != 20 || len(snap.Asks) != 20 || snap.Bids[0][0] != fixed(bid.price) || snap.Asks[0][0] != fixed(ask.price) {
			t.Fatalf("at %s: depth20 with %d bids and %d asks, touch %s/%s; book ticker %s/%s", time.UnixMilli(now).UTC().Format(time.TimeOnly),
				len(snap.Bids), len(snap.Asks), snap.Bids[0][0], snap.Asks[0][0], fixed(bid.price), fixed(ask.price))
		}
		for j := 1; j < 20; j++ {
			if num(t, snap.Bids[j][0]) >= num(t, snap.Bids[j-1][0]) || num(t, snap.Asks[j][0]) <= num(t, snap.Asks[j-1][0]) {
				t.Fatalf("depth20 levels out of order: bids %v, asks %v", snap.Bids, snap.Asks)
			}
		}
		trades, err := m.AggTrades("BTCUSDT", time.UnixMilli(now-10*msPerMinute), time.UnixMilli(now))
		if err != nil || len(trades) == 0 {
			t.Fatalf("no trade in the ten minutes before %d: %v", now, err)
		}
		last := float64(trades[len(trades)-1].Price)
		if mid := float64(bid.price+ask.price) / 2; math.Abs(mid-last)/last > 0.001 {
			t.Fatalf("at %s: the touch %s/%s is %.2f %% from the last trade %s", time.UnixMilli(now).UTC().Format(time.TimeOnly),
				fixed(bid.price), fixed(ask.price), 100*math.Abs(mid-last)/last, fixed(int64(last)))
		}
		if i == 0 {
			lo, hi = last, last
		}
		lo, hi = min(lo, last), max(hi, last)
	}
	// BTCUSDT's tick is 0.01 (1e6 in fixed point): the test means something only if the price moved further than a
	// partial book's 20 levels many times over.
	if ticks := (hi - lo) / 1e6; ticks < 2000 {
		t.Fatalf("the price moved only %.0f ticks: pick a livelier period", ticks)
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
