package binancesim

import (
	"math"
	"testing"
	"time"
)

// TestLongIntervalsGenerateNoTrades: 1d, 1w and 1M candles over months come from the days' summaries, so a first
// request for them generates no trade (issue: the first 1M request from 2017 generated every trade since the start,
// tens of seconds). Before, each whole-day candle was the aggregate of the day's generated trades.
func TestLongIntervalsGenerateNoTrades(t *testing.T) {
	m, err := NewMarket(DefaultMarketConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC).Add(-time.Millisecond)
	for _, iv := range []Interval{"1M", "1w", "1d"} {
		c, err := m.Candles("BTCUSDT", iv, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) == 0 || c[0].Trades == 0 {
			t.Fatalf("%s: candles %+v", iv, c)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, e := range m.data {
		if e.trades != nil {
			t.Errorf("%s day %d: trades generated for a long-interval request", m.cfg.Symbols[key.sym].Symbol, key.day)
		}
	}
}

// TestDayCandlesDerivedFromTrades: a whole-day candle, computed from the summary before any trade of the day exists,
// equals the aggregate of the day's trades, at a low rate (minutes of zero, one or two trades) and at the default
// rate (about 120 aggregate trades a minute), and a month is the aggregate of its days.
func TestDayCandlesDerivedFromTrades(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  MarketConfig
		day  time.Time
	}{
		{"low rate", testMarket(4), time.Date(2024, 12, 7, 0, 0, 0, 0, time.UTC)},
		{"default rate", DefaultMarketConfig(4), time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMarket(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, sym := range []string{"BTCUSDT", "SOLUSDT"} {
				end := tt.day.AddDate(0, 0, 1).Add(-time.Millisecond)
				days, err := m.Candles(sym, "1d", tt.day, end)
				if err != nil || len(days) != 1 {
					t.Fatalf("%s 1d: %v %+v", sym, err, days)
				}
				trades, err := m.AggTrades(sym, tt.day, end)
				if err != nil {
					t.Fatal(err)
				}
				assertAggregate(t, sym, days[0], trades)
			}
			// The month is the merge of its days (each derived from trades above).
			month, err := m.Candles("BTCUSDT", "1M", tt.day.AddDate(0, 0, 1-tt.day.Day()), tt.day)
			if err != nil || len(month) != 1 {
				t.Fatalf("1M: %v %+v", err, month)
			}
			mStart := time.UnixMilli(month[0].OpenTime).UTC()
			days, err := m.Candles("BTCUSDT", "1d", mStart, mStart.AddDate(0, 1, 0).Add(-time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var vol, trades int64
			for _, d := range days {
				vol += d.Volume
				trades += d.Trades
			}
			if month[0].Volume != vol || month[0].Trades != trades || month[0].Close != days[len(days)-1].Close {
				t.Errorf("month %+v is not the merge of its %d days", month[0], len(days))
			}
		})
	}
}

// assertAggregate checks c against an independent aggregation of trades.
func assertAggregate(t *testing.T, sym string, c Candle, trades []AggTrade) {
	t.Helper()
	if len(trades) == 0 {
		t.Fatalf("%s: no trades", sym)
	}
	w := Candle{Open: trades[0].Price, High: trades[0].Price, Low: trades[0].Price, Close: trades[len(trades)-1].Price}
	for _, a := range trades {
		w.High, w.Low = max(w.High, a.Price), min(w.Low, a.Price)
		w.Volume += a.Qty
		w.Trades += a.LastTradeID - a.FirstTradeID + 1
		q := float64(a.Price) / 1e8 * float64(a.Qty) / 1e8
		w.QuoteVolume += q
		if !a.BuyerMaker {
			w.TakerBuyVolume += a.Qty
			w.TakerBuyQuoteVolume += q
		}
	}
	if c.Open != w.Open || c.High != w.High || c.Low != w.Low || c.Close != w.Close || c.Volume != w.Volume ||
		c.Trades != w.Trades || c.TakerBuyVolume != w.TakerBuyVolume ||
		math.Abs(c.QuoteVolume-w.QuoteVolume) > 1e-9*w.QuoteVolume ||
		math.Abs(c.TakerBuyQuoteVolume-w.TakerBuyQuoteVolume) > 1e-9*w.QuoteVolume {
		t.Errorf("%s day candle %+v, want the trades' aggregate %+v", sym, c, w)
	}
}
