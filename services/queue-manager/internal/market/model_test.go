package market

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/binance"
)

var t0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func snapshot(id int64, bids, asks []Level) binance.LiveRecord {
	return binance.LiveRecord{Kind: binance.LiveSnapshot, Snapshot: binance.BookSnapshot{LastUpdateID: id, Bids: bids, Asks: asks}}
}

func diff(first, final int64, bids, asks []Level) binance.LiveRecord {
	return binance.LiveRecord{Kind: binance.LiveDiff, Diff: binance.BookDiff{FirstUpdateID: first, FinalUpdateID: final, Bids: bids, Asks: asks}}
}

func trade(id int64, ms int64, price, qty float64, buyerMaker bool) binance.LiveRecord {
	return binance.LiveRecord{Kind: binance.LiveTrade, Trade: binance.AggTrade{AggID: id, Time: t0.UnixMilli() + ms, Price: price, Qty: qty, BuyerMaker: buyerMaker}}
}

func TestBook(t *testing.T) {
	type rec struct {
		s Stream
		r binance.LiveRecord
	}
	book := []rec{{Book, snapshot(10, []Level{{99, 1}, {98, 2}, {97, 3}}, []Level{{101, 1}, {102, 1}, {103, 5}})}}
	for _, tc := range []struct {
		name       string
		recs       []rec
		depth      int
		wantBids   []Level
		wantAsks   []Level
		wantSynced bool
		wantGaps   int64
	}{
		{name: "snapshot, best first, depth cut", recs: book, depth: 2,
			wantBids: []Level{{99, 1}, {98, 2}}, wantAsks: []Level{{101, 1}, {102, 1}}, wantSynced: true},
		{name: "diff that follows on: level set and removed", depth: 2,
			recs:     append(book[:1:1], rec{Book, diff(11, 12, []Level{{99, 0}, {100, 4}}, []Level{{101, 0}})}),
			wantBids: []Level{{100, 4}, {98, 2}}, wantAsks: []Level{{102, 1}, {103, 5}}, wantSynced: true},
		{name: "diff held by the snapshot is skipped", depth: 1,
			recs:     append(book[:1:1], rec{Book, diff(5, 10, []Level{{99, 0}}, nil)}),
			wantBids: []Level{{99, 1}}, wantAsks: []Level{{101, 1}}, wantSynced: true},
		{name: "diff after missing updates: unsynced, a gap", depth: 1,
			recs:     append(book[:1:1], rec{Book, diff(14, 15, []Level{{99, 0}}, nil)}),
			wantBids: []Level{{99, 1}}, wantAsks: []Level{{101, 1}}, wantGaps: 1},
		{name: "gap record on the book: unsynced", depth: 1,
			recs:     append(book[:1:1], rec{Book, binance.LiveRecord{Kind: binance.LiveGap, Gap: binance.Gap{From: 11, To: 20, Reason: "reconnect"}}}),
			wantBids: []Level{{99, 1}}, wantAsks: []Level{{101, 1}}, wantGaps: 1},
		{name: "gap record on the trades: the book stays synced", depth: 1,
			recs:     append(book[:1:1], rec{Trades, binance.LiveRecord{Kind: binance.LiveGap, Gap: binance.Gap{From: 11, To: 20, Reason: "reconnect"}}}),
			wantBids: []Level{{99, 1}}, wantAsks: []Level{{101, 1}}, wantSynced: true, wantGaps: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel("BTCUSDT", tc.depth)
			for _, r := range tc.recs {
				m.Apply(r.s, r.r, t0)
			}
			f, ok := m.Frame(t0)
			if !ok {
				t.Fatal("no frame after records")
			}
			if diff := cmp.Diff(tc.wantBids, f.Bids); diff != "" {
				t.Errorf("bids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAsks, f.Asks); diff != "" {
				t.Errorf("asks (-want +got):\n%s", diff)
			}
			if f.Synced != tc.wantSynced || f.Gaps != tc.wantGaps {
				t.Errorf("synced %v gaps %d, want %v %d", f.Synced, f.Gaps, tc.wantSynced, tc.wantGaps)
			}
		})
	}
}

func TestSpreadMidImbalance(t *testing.T) {
	m := NewModel("BTCUSDT", 2)
	m.Apply(Book, snapshot(1, []Level{{99, 3}, {98, 3}}, []Level{{101, 1}, {102, 1}}), t0)
	f, _ := m.Frame(t0)
	if f.Spread != 2 || f.Mid != 100 || f.Imbalance != 0.5 { // (6-2)/8
		t.Fatalf("spread %v mid %v imbalance %v, want 2 100 0.5", f.Spread, f.Mid, f.Imbalance)
	}
	one := NewModel("BTCUSDT", 2)
	one.Apply(Book, snapshot(1, []Level{{99, 3}}, nil), t0)
	if f, _ := one.Frame(t0); f.Spread != 0 || f.Mid != 0 || f.Imbalance != 0 {
		t.Fatalf("one-sided book: spread %v mid %v imbalance %v, want zeros", f.Spread, f.Mid, f.Imbalance)
	}
}

func TestTradesAndCandles(t *testing.T) {
	m := NewModel("BTCUSDT", 5)
	m.Apply(Trades, trade(1, 100, 10, 1, false), t0)
	m.Apply(Trades, trade(2, 900, 12, 2, true), t0)
	m.Apply(Trades, trade(3, 1200, 11, 1, false), t0)
	m.Apply(Trades, trade(4, 1500, 9, 3, false), t0)
	f, ok := m.Frame(t0)
	if !ok {
		t.Fatal("no frame")
	}
	wantTrades := []Trade{
		{ID: 4, Time: t0.UnixMilli() + 1500, Price: 9, Qty: 3, Side: "buy"},
		{ID: 3, Time: t0.UnixMilli() + 1200, Price: 11, Qty: 1, Side: "buy"},
		{ID: 2, Time: t0.UnixMilli() + 900, Price: 12, Qty: 2, Side: "sell"},
		{ID: 1, Time: t0.UnixMilli() + 100, Price: 10, Qty: 1, Side: "buy"},
	}
	if diff := cmp.Diff(wantTrades, f.Trades); diff != "" {
		t.Errorf("trades (-want +got):\n%s", diff)
	}
	wantCandles := []Candle{
		{Time: t0.UnixMilli(), Open: 10, High: 12, Low: 10, Close: 12, Volume: 3, Trades: 2},
		{Time: t0.UnixMilli() + 1000, Open: 11, High: 11, Low: 9, Close: 9, Volume: 4, Trades: 2},
	}
	if diff := cmp.Diff(wantCandles, f.Candles); diff != "" {
		t.Errorf("candles (-want +got):\n%s", diff)
	}
	if f.NewTrades != 4 || f.TradeCount != 4 {
		t.Errorf("new trades %d count %d, want 4 4", f.NewTrades, f.TradeCount)
	}

	// The next frame carries only what changed: the second candle.
	m.Apply(Trades, trade(5, 1700, 13, 1, false), t0)
	f, _ = m.Frame(t0)
	if len(f.Trades) != 1 || len(f.Candles) != 1 || f.Candles[0].Close != 13 || f.Candles[0].Trades != 3 {
		t.Fatalf("second frame: trades %v candles %v, want trade 5 and the second candle only", f.Trades, f.Candles)
	}
	if _, ok := m.Frame(t0); ok {
		t.Fatal("a frame with nothing new: want none")
	}
}

// TestFrameBounded: however many trades arrive between two frames, one
// frame carries at most MaxTrades of them (the newest) and counts them all.
func TestFrameBounded(t *testing.T) {
	m := NewModel("BTCUSDT", 5)
	const n = 20000
	for i := range int64(n) {
		m.Apply(Trades, trade(i+1, i/10, 10, 1, false), t0)
	}
	f, _ := m.Frame(t0)
	if len(f.Trades) != MaxTrades || f.Trades[0].ID != n || f.NewTrades != n {
		t.Fatalf("frame: %d trades, newest %d, new %d; want %d, %d, %d", len(f.Trades), f.Trades[0].ID, f.NewTrades, MaxTrades, n, n)
	}
	if len(f.Candles) > KeepCandles {
		t.Fatalf("%d candles, want at most %d", len(f.Candles), KeepCandles)
	}
}

func TestRates(t *testing.T) {
	m := NewModel("BTCUSDT", 5)
	for s := range 5 {
		for range 10 {
			m.Apply(Trades, trade(1, 0, 1, 1, false), t0.Add(time.Duration(s)*time.Second))
		}
	}
	f, _ := m.Frame(t0.Add(5 * time.Second))
	if f.TradesPerSec != 10 {
		t.Fatalf("trades/s %v, want 10", f.TradesPerSec)
	}
}

// TestMarks: a gap and the re-sync after it are marked once each, at their
// times, in the next frame only.
func TestMarks(t *testing.T) {
	m := NewModel("BTCUSDT", 1)
	m.Apply(Book, snapshot(10, []Level{{99, 1}}, []Level{{101, 1}}), t0)
	m.Frame(t0)
	lost := diff(14, 15, nil, nil)
	lost.Diff.Time = 1000
	m.Apply(Book, lost, t0)
	again := snapshot(20, []Level{{99, 1}}, []Level{{101, 1}})
	again.Snapshot.Time = 2000
	m.Apply(Book, again, t0)
	f, _ := m.Frame(t0)
	want := []Mark{{Time: 1000, Kind: "gap", Reason: "book updates lost between the loader and here"}, {Time: 2000, Kind: "resync", Reason: "book taken again from a snapshot"}}
	if diff := cmp.Diff(want, f.Marks); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	m.Apply(Trades, trade(1, 0, 1, 1, false), t0)
	if f, _ := m.Frame(t0); len(f.Marks) != 0 {
		t.Errorf("marks %v in the frame after: want none", f.Marks)
	}
}

// TestMinuteCandles: the same trades make 1 m candles beside the 1 s ones,
// and a frame carries only the minutes that changed.
func TestMinuteCandles(t *testing.T) {
	m := NewModel("BTCUSDT", 5)
	m.Apply(Trades, trade(1, 100, 10, 1, false), t0)
	m.Apply(Trades, trade(2, 30_000, 12, 2, true), t0)
	m.Apply(Trades, trade(3, 59_999, 11, 1, false), t0)
	m.Apply(Trades, trade(4, 60_000, 9, 3, false), t0)
	f, _ := m.Frame(t0)
	want := []Candle{
		{Time: t0.UnixMilli(), Open: 10, High: 12, Low: 10, Close: 11, Volume: 4, Trades: 3},
		{Time: t0.UnixMilli() + 60_000, Open: 9, High: 9, Low: 9, Close: 9, Volume: 3, Trades: 1},
	}
	if diff := cmp.Diff(want, f.MinuteCandles); diff != "" {
		t.Errorf("1 m candles (-want +got):\n%s", diff)
	}
	if len(f.Candles) != 4 {
		t.Errorf("%d 1 s candles, want 4", len(f.Candles))
	}

	m.Apply(Trades, trade(5, 61_000, 8, 1, false), t0)
	f, _ = m.Frame(t0)
	want = []Candle{{Time: t0.UnixMilli() + 60_000, Open: 9, High: 9, Low: 8, Close: 8, Volume: 4, Trades: 2}}
	if diff := cmp.Diff(want, f.MinuteCandles); diff != "" {
		t.Errorf("second frame's 1 m candles (-want +got):\n%s", diff)
	}

	// Many minutes: at most KeepMinuteCandles are kept, the newest.
	for i := range int64(KeepMinuteCandles + 10) {
		m.Apply(Trades, trade(6+i, 120_000+i*60_000, 10, 1, false), t0)
	}
	f, _ = m.Frame(t0)
	if len(f.MinuteCandles) != KeepMinuteCandles {
		t.Fatalf("%d 1 m candles, want %d", len(f.MinuteCandles), KeepMinuteCandles)
	}
	if last := f.MinuteCandles[len(f.MinuteCandles)-1].Time; last != t0.UnixMilli()+120_000+(KeepMinuteCandles+9)*60_000 {
		t.Errorf("newest 1 m candle at %d, want the last minute", last)
	}
}
