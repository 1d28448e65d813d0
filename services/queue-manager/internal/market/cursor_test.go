package market

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCursors: readers of one model each get what changed since their own
// last frame, and a reader that comes late gets the book and every kept
// candle in its first frame, the newest trades and the whole count.
func TestCursors(t *testing.T) {
	m := NewModel("BTCUSDT", 2)
	var early, late Cursor
	m.Apply(Book, snapshot(10, []Level{{99, 1}}, []Level{{101, 1}}), t0)
	m.Apply(Trades, trade(1, 100, 10, 1, false), t0)
	m.Apply(Trades, trade(2, 1100, 11, 1, false), t0)
	if f, _ := m.FrameFor(&early, t0, false); len(f.Candles) != 2 || f.NewTrades != 2 {
		t.Fatalf("early's first frame: %d candles, %d new trades; want 2 and 2", len(f.Candles), f.NewTrades)
	}
	m.Apply(Trades, trade(3, 1200, 12, 1, false), t0)
	lost := diff(14, 15, nil, nil)
	lost.Diff.Time = 1000
	m.Apply(Book, lost, t0)

	f, ok := m.FrameFor(&late, t0, false)
	if !ok {
		t.Fatal("late's first frame not made")
	}
	wantCandles := []Candle{
		{Time: t0.UnixMilli(), Open: 10, High: 10, Low: 10, Close: 10, Volume: 1, Trades: 1},
		{Time: t0.UnixMilli() + 1000, Open: 11, High: 12, Low: 11, Close: 12, Volume: 2, Trades: 2},
	}
	if diff := cmp.Diff(wantCandles, f.Candles); diff != "" {
		t.Errorf("late's first candles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Level{{99, 1}}, f.Bids); diff != "" {
		t.Errorf("late's first bids (-want +got):\n%s", diff)
	}
	if len(f.Trades) != 3 || f.Trades[0].ID != 3 || f.NewTrades != 3 || f.TradeCount != 3 || len(f.Marks) != 1 || f.Synced {
		t.Errorf("late's first frame %+v: want trades 3, 2, 1, all counted, the gap marked, unsynced", f)
	}

	// early gets only what came after its first frame.
	f, _ = m.FrameFor(&early, t0, false)
	if diff := cmp.Diff(wantCandles[1:], f.Candles); diff != "" {
		t.Errorf("early's second candles (-want +got):\n%s", diff)
	}
	if len(f.Trades) != 1 || f.Trades[0].ID != 3 || f.NewTrades != 1 || f.TradeCount != 3 || len(f.Marks) != 1 {
		t.Errorf("early's second frame %+v: want trade 3 only, one new of 3, the gap", f)
	}

	// Nothing new for either: no frame, unless forced (the quiet frame).
	if _, ok := m.FrameFor(&early, t0, false); ok {
		t.Error("early: a frame with nothing new")
	}
	if f, ok := m.FrameFor(&late, t0, true); !ok || len(f.Trades) != 0 || len(f.Candles) != 0 || len(f.Marks) != 0 || len(f.Bids) != 1 {
		t.Errorf("late's forced frame %+v (made %v): want the book and nothing new", f, ok)
	}
}

// TestRingKeepsNewest: past its size a ring keeps the newest values, in
// order.
func TestRingKeepsNewest(t *testing.T) {
	r := newRing[int](3)
	for i := range 5 {
		r.add(int64(i+1), i+1)
	}
	if diff := cmp.Diff([]int{3, 4, 5}, r.since(0)); diff != "" {
		t.Errorf("since 0 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{5}, r.since(4)); diff != "" {
		t.Errorf("since 4 (-want +got):\n%s", diff)
	}
}
