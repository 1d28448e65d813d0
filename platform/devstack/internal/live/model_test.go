package live

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// appender is a record the loader publishes: it encodes itself.
type appender interface{ AppendJSON([]byte) []byte }

// feed encodes records as the loader does and applies them to m, one every
// 100 ms from t0.
func feed(t *testing.T, m *Model, s Stream, recs ...appender) {
	t.Helper()
	for i, rec := range recs {
		r, err := Decode(s, rec.AppendJSON(nil))
		if err != nil {
			t.Fatalf("decode %T: %v", rec, err)
		}
		m.Apply(r, t0.Add(time.Duration(i)*100*time.Millisecond))
	}
}

func snap(id int64, bids, asks []binance.Level) *binance.BookSnapshot {
	return &binance.BookSnapshot{Symbol: "ETHUSDT", Time: id, LastUpdateID: id, Bids: bids, Asks: asks}
}

func diff(first, final int64, bids, asks []binance.Level) *binance.BookDiff {
	return &binance.BookDiff{Symbol: "ETHUSDT", Time: final, FirstUpdateID: first, FinalUpdateID: final, Bids: bids, Asks: asks}
}

func lv(p, q float64) binance.Level { return binance.Level{p, q} }

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		rec  appender
		want Kind
	}{
		{"trade", &binance.AggTrade{Symbol: "ETHUSDT", AggID: 7, Price: 1, Qty: 2}, KindTrade},
		{"snapshot", snap(10, []binance.Level{lv(1, 1)}, nil), KindSnapshot},
		{"diff", diff(11, 12, nil, []binance.Level{lv(2, 0)}), KindDiff},
		{"gap", &binance.Gap{Symbol: "ETHUSDT", From: 1, To: 2, Reason: "depth update sequence gap"}, KindGap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(Book, tt.rec.AppendJSON(nil))
			if err != nil || got.Kind != tt.want {
				t.Fatalf("Decode() = kind %d, %v; want kind %d", got.Kind, err, tt.want)
			}
		})
	}
	if _, err := Decode(Book, []byte(`{"_key":"x","symbol":"ETHUSDT"}`)); !errors.Is(err, ErrUnknownRecord) {
		t.Errorf("Decode(unknown) error = %v, want ErrUnknownRecord", err)
	}
	if _, err := Decode(Book, []byte(`not json`)); err == nil {
		t.Error("Decode(not json) succeeded")
	}
}

func TestTopOfBook(t *testing.T) {
	bids := []binance.Level{lv(99, 1), lv(98, 2)}
	asks := []binance.Level{lv(101, 3), lv(102, 4)}
	tests := []struct {
		name             string
		recs             []appender
		wantBid, wantAsk float64
		wantSynced       bool
		wantBookGaps     int64
	}{
		{"snapshot alone", []appender{snap(10, bids, asks)}, 99, 101, true, 0},
		{"diff improves the bid", []appender{snap(10, bids, asks), diff(11, 11, []binance.Level{lv(100, 5)}, nil)}, 100, 101, true, 0},
		{"diff removes the best ask", []appender{snap(10, bids, asks), diff(11, 12, nil, []binance.Level{lv(101, 0)})}, 99, 102, true, 0},
		// The loader publishes the diffs it applied right after a sync
		// snapshot; one the snapshot holds already must not be applied again.
		{"diff already in the snapshot", []appender{snap(10, bids, asks), diff(9, 10, []binance.Level{lv(100, 1)}, nil)}, 99, 101, true, 0},
		{"diff before any snapshot", []appender{diff(1, 2, []binance.Level{lv(100, 1)}, nil), snap(10, bids, asks)}, 99, 101, true, 0},
		{"diff overlapping the snapshot", []appender{snap(10, bids, asks), diff(8, 12, nil, []binance.Level{lv(100.5, 1)})}, 99, 100.5, true, 0},
		{"missing diff unsyncs", []appender{snap(10, bids, asks), diff(13, 14, []binance.Level{lv(100, 1)}, nil)}, 99, 101, false, 1},
		{"gap record unsyncs", []appender{snap(10, bids, asks), &binance.Gap{Symbol: "ETHUSDT", From: 11, To: 20, Reason: "depth update sequence gap"},
			diff(21, 21, []binance.Level{lv(100, 1)}, nil)}, 99, 101, false, 1},
		{"snapshot after a gap resyncs", []appender{snap(10, bids, asks), &binance.Gap{Symbol: "ETHUSDT", From: 11, To: 20, Reason: "gap"},
			snap(30, []binance.Level{lv(97, 1)}, []binance.Level{lv(103, 1)}), diff(31, 31, nil, []binance.Level{lv(102.5, 1)})}, 97, 102.5, true, 1},
		// A later snapshot replaces the book: levels it lacks are gone.
		{"snapshot replaces", []appender{snap(10, bids, asks), snap(20, []binance.Level{lv(98, 1)}, []binance.Level{lv(102, 1)})}, 98, 102, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewModel(5)
			feed(t, m, Book, tt.recs...)
			top := m.View(t0.Add(time.Second)).Top
			if !top.TwoSided() || top.Bid != tt.wantBid || top.Ask != tt.wantAsk || top.Synced != tt.wantSynced {
				t.Errorf("top = %+v, want bid %v ask %v synced %v", top, tt.wantBid, tt.wantAsk, tt.wantSynced)
			}
			if got := m.View(t0).BookGaps; got != tt.wantBookGaps {
				t.Errorf("book gaps = %d, want %d", got, tt.wantBookGaps)
			}
		})
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		name          string
		top           Top
		want, wantBps float64
	}{
		{"two-sided", Top{Bid: 99.99, Ask: 100.01, HasBid: true, HasAsk: true}, 0.02, 2},
		{"one-sided", Top{Bid: 99, HasBid: true}, 0, 0},
		{"empty", Top{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.top.Spread(); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Spread() = %v, want %v", got, tt.want)
			}
			if got := tt.top.SpreadBps(); math.Abs(got-tt.wantBps) > 1e-9 {
				t.Errorf("SpreadBps() = %v, want %v", got, tt.wantBps)
			}
		})
	}
}

func trade(id int64, price float64, buyerMaker bool) *binance.AggTrade {
	return &binance.AggTrade{Symbol: "ETHUSDT", Time: t0.UnixMilli() + id, AggID: id, Price: price, Qty: 0.5, BuyerMaker: buyerMaker}
}

func TestTrades(t *testing.T) {
	tests := []struct {
		name                  string
		recs                  []appender
		wantIDs               []int64 // newest first
		wantBreaks, wantGaps  int64
		wantFirst, wantLastID int64
	}{
		{"in order, the last 3 kept", []appender{trade(1, 10, false), trade(2, 11, true), trade(3, 12, false), trade(4, 13, false)},
			[]int64{4, 3, 2}, 0, 0, 1, 4},
		{"a missing id is a break", []appender{trade(1, 10, false), trade(3, 12, false)}, []int64{3, 1}, 1, 0, 1, 3},
		{"a reported gap is not a break", []appender{trade(1, 10, false), &binance.Gap{Symbol: "ETHUSDT", From: 2, To: 5, Reason: "missed"},
			trade(6, 12, false)}, []int64{6, 1}, 0, 1, 1, 6},
		{"a repeated id is a break", []appender{trade(1, 10, false), trade(1, 10, false)}, []int64{1, 1}, 1, 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewModel(3)
			feed(t, m, Trades, tt.recs...)
			v := m.View(t0.Add(time.Second))
			var ids []int64
			for _, tr := range v.Trades {
				ids = append(ids, tr.AggID)
			}
			if !equal(ids, tt.wantIDs) || v.IDBreaks != tt.wantBreaks || v.TradeGaps != tt.wantGaps || v.FirstID != tt.wantFirst || v.LastID != tt.wantLastID {
				t.Errorf("trades %v breaks %d gaps %d ids %d..%d; want %v breaks %d gaps %d ids %d..%d",
					ids, v.IDBreaks, v.TradeGaps, v.FirstID, v.LastID, tt.wantIDs, tt.wantBreaks, tt.wantGaps, tt.wantFirst, tt.wantLastID)
			}
			if v.Top.HasBid || v.BookGaps != 0 {
				t.Errorf("trades changed the book: %+v, %d book gaps", v.Top, v.BookGaps)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRate(t *testing.T) {
	r := NewRate(5 * time.Second)
	if got := r.PerSecond(t0); got != 0 {
		t.Errorf("empty rate = %v, want 0", got)
	}
	// 10 events a second for 10 s.
	for i := range 100 {
		r.Add(t0.Add(time.Duration(i)*100*time.Millisecond), 1)
	}
	tests := []struct {
		name string
		at   time.Duration
		want float64
	}{
		{"steady over the window", 9900 * time.Millisecond, 10},
		{"half a window after the last", 12400 * time.Millisecond, 5},
		{"a window after the last", 15 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.PerSecond(t0.Add(tt.at)); math.Abs(got-tt.want) > 0.21 {
				t.Errorf("PerSecond() = %v, want %v", got, tt.want)
			}
		})
	}
	// Before a whole window, the rate is over the time since the first event.
	early := NewRate(5 * time.Second)
	for i := range 20 {
		early.Add(t0.Add(time.Duration(i)*100*time.Millisecond), 1)
	}
	if got := early.PerSecond(t0.Add(2 * time.Second)); math.Abs(got-10) > 1e-9 {
		t.Errorf("PerSecond() 2 s in = %v, want 10", got)
	}
}

func TestRender(t *testing.T) {
	m := NewModel(2)
	feed(t, m, Book, snap(10, []binance.Level{lv(2300.5, 1.25)}, []binance.Level{lv(2300.75, 0.5)}))
	feed(t, m, Trades, trade(1, 2300.6, false), trade(2, 2300.55, true))
	v := m.View(t0.Add(time.Second))
	line := Line(v, "ETHUSDT")
	for _, want := range []string{"12:00:01 ETHUSDT", "bid 2300.5 ask 2300.75", "spread 0.25 (1.09 bps)", "last 2300.55 x 0.5 sell", "trades 2 gaps 0"} {
		if !strings.Contains(line, want) {
			t.Errorf("Line() = %q, want it to contain %q", line, want)
		}
	}
	full := strings.Join(Lines(v, "ETHUSDT"), "\n")
	for _, want := range []string{"bid 2300.5 x 1.25", "ask 2300.75 x 0.5", "synced", "gaps: none", "2300.6", "buy"} {
		if !strings.Contains(full, want) {
			t.Errorf("Lines() =\n%s\nwant it to contain %q", full, want)
		}
	}
	var b strings.Builder
	s := &Screen{Out: &b, TTY: true, Symbol: "ETHUSDT"}
	s.Draw(v, "header")
	s.Draw(v, "header")
	if n := strings.Count(b.String(), "\x1b[2K"); n != 2*(len(Lines(v, "ETHUSDT"))+1) {
		t.Errorf("two draws cleared %d lines, want %d", n, 2*(len(Lines(v, "ETHUSDT"))+1))
	}
	if !strings.Contains(b.String(), "\x1b[8A") {
		t.Errorf("the second draw did not move the cursor up over the first: %q", b.String())
	}
}
