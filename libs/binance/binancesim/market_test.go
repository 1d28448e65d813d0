package binancesim

import (
	"math"
	"testing"
	"time"
)

// TestCandlesDerivedFromTrades rebuilds candles from AggTrades independently of the market's own aggregation.
func TestCandlesDerivedFromTrades(t *testing.T) {
	m, err := NewMarket(testMarket(3))
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 1, 31, 23, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 1, 0, 0, 0, time.UTC).Add(-time.Millisecond)
	for _, iv := range []Interval{"1s", "1m", "5m", "1h"} {
		t.Run(string(iv), func(t *testing.T) {
			trades, err := m.AggTrades("BTCUSDT", from, to)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Candles("BTCUSDT", iv, from, to)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64]*Candle{}
			for _, a := range trades {
				open := a.Time / intervalMs[iv] * intervalMs[iv]
				c := want[open]
				if c == nil {
					c = &Candle{Open: a.Price, High: a.Price, Low: a.Price}
					want[open] = c
				}
				c.High, c.Low, c.Close = max(c.High, a.Price), min(c.Low, a.Price), a.Price
				c.Volume += a.Qty
				c.Trades += a.LastTradeID - a.FirstTradeID + 1
				if !a.BuyerMaker {
					c.TakerBuyVolume += a.Qty
				}
				c.QuoteVolume += float64(a.Price) / 1e8 * float64(a.Qty) / 1e8
			}
			if n := (to.UnixMilli() - from.UnixMilli() + 1) / intervalMs[iv]; int64(len(got)) != n {
				t.Fatalf("got %d candles, want %d", len(got), n)
			}
			for _, c := range got {
				if c.CloseTime != c.OpenTime+intervalMs[iv]-1 {
					t.Fatalf("candle %d closes at %d", c.OpenTime, c.CloseTime)
				}
				w := want[c.OpenTime]
				if w == nil {
					if c.Trades != 0 || c.Volume != 0 || c.Open != c.Close {
						t.Fatalf("empty candle %d = %+v", c.OpenTime, c)
					}
					continue
				}
				if c.Open != w.Open || c.High != w.High || c.Low != w.Low || c.Close != w.Close || c.Volume != w.Volume ||
					c.Trades != w.Trades || c.TakerBuyVolume != w.TakerBuyVolume ||
					math.Abs(c.QuoteVolume-w.QuoteVolume) > 1e-6*w.QuoteVolume {
					t.Fatalf("candle %d = %+v, want %+v", c.OpenTime, c, *w)
				}
			}
		})
	}
}

func TestTradeIDsContiguousAcrossDays(t *testing.T) {
	m, err := NewMarket(testMarket(5))
	if err != nil {
		t.Fatal(err)
	}
	trades, err := m.AggTrades("ETHUSDT", time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(trades) == 0 || trades[0].ID != 1 || trades[0].FirstTradeID != 1 {
		t.Fatalf("first trade = %+v, want ids starting at 1", trades)
	}
	for i := 1; i < len(trades); i++ {
		p, c := trades[i-1], trades[i]
		if c.ID != p.ID+1 || c.FirstTradeID != p.LastTradeID+1 || c.LastTradeID < c.FirstTradeID || c.Time < p.Time {
			t.Fatalf("trade %+v after %+v", c, p)
		}
	}
	// The same ids come back when the later day is computed first, from a fresh market.
	fresh, err := NewMarket(testMarket(5))
	if err != nil {
		t.Fatal(err)
	}
	late, err := fresh.AggTrades("ETHUSDT", time.Date(2024, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := late[len(late)-1], trades[len(trades)-1]; got != want {
		t.Errorf("last trade = %+v, want %+v", got, want)
	}
}

// TestCorrelation checks hourly log returns follow the configured correlation matrix.
func TestCorrelation(t *testing.T) {
	identity := testMarket(9)
	identity.Correlation = [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}
	tests := []struct {
		name     string
		cfg      MarketConfig
		min, max float64
	}{
		{"default 0.8", testMarket(9), 0.7, 0.9},
		{"identity", identity, -0.15, 0.15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMarket(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
			to := from.AddDate(0, 0, 40)
			returns := func(sym string) []float64 {
				c, err := m.Candles(sym, "1h", from, to)
				if err != nil {
					t.Fatal(err)
				}
				var r []float64
				for i := 1; i < len(c); i++ {
					r = append(r, math.Log(float64(c[i].Close)/float64(c[i-1].Close)))
				}
				return r
			}
			if got := pearson(returns("BTCUSDT"), returns("ETHUSDT")); got < tt.min || got > tt.max {
				t.Errorf("BTC/ETH hourly correlation = %.3f, want within [%.2f, %.2f]", got, tt.min, tt.max)
			}
		})
	}
}

func pearson(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i] / float64(len(a))
		mb += b[i] / float64(len(b))
	}
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func TestNewMarketErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*MarketConfig)
	}{
		{"not positive definite", func(c *MarketConfig) { c.Correlation[0][1], c.Correlation[1][0] = 1.5, 1.5 }},
		{"not symmetric", func(c *MarketConfig) { c.Correlation[0][1] = 0.1 }},
		{"wrong size", func(c *MarketConfig) { c.Correlation = c.Correlation[:2] }},
		{"zero price", func(c *MarketConfig) { c.Symbols[0].StartPrice = 0 }},
		{"too many decimals", func(c *MarketConfig) { c.Symbols[1].QtyDecimals = 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testMarket(1)
			tt.modify(&cfg)
			if _, err := NewMarket(cfg); err == nil {
				t.Error("NewMarket returned no error")
			}
		})
	}
}

func TestIntervalFloor(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		interval Interval
		t, want  string
	}{
		{"1s", "2025-01-31T23:59:59.999Z", "2025-01-31T23:59:59Z"},
		{"5m", "2025-01-31T23:59:59.999Z", "2025-01-31T23:55:00Z"},
		{"4h", "2025-01-31T03:00:00Z", "2025-01-31T00:00:00Z"},
		{"1d", "2025-01-31T23:00:00Z", "2025-01-31T00:00:00Z"},
		{"1w", "2025-02-02T23:00:00Z", "2025-01-27T00:00:00Z"}, // Sunday -> Monday before
		{"1w", "2025-01-27T00:00:00Z", "2025-01-27T00:00:00Z"},
		{"1M", "2024-02-29T12:00:00Z", "2024-02-01T00:00:00Z"},
		{"1s", "1969-12-31T23:59:59.500Z", "1969-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		if got := tt.interval.Floor(at(tt.t)); got != at(tt.want) {
			t.Errorf("%s.Floor(%s) = %s, want %s", tt.interval, tt.t, time.UnixMilli(got).UTC().Format(time.RFC3339), tt.want)
		}
	}
	if got := Interval("1M").Next(at("2024-12-01T00:00:00Z")); got != at("2025-01-01T00:00:00Z") {
		t.Errorf("1M.Next(2024-12) = %d", got)
	}
}
