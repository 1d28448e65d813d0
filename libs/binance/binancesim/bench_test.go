package binancesim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkKlinesServe measures serving 1000 one-minute candles per request at the default trade rates, with the
// day's minutes already cached (the steady state of a paginating loader).
func BenchmarkKlinesServe(b *testing.B) {
	now := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	sim := New(Options{Market: DefaultMarketConfig(1), Clock: func() time.Time { return now }, WeightLimit: 1 << 40})
	h := sim.Handler()
	start := time.Date(2024, 3, 8, 0, 0, 0, 0, time.UTC).UnixMilli()
	url := "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000&startTime=" + strconv.FormatInt(start, 10)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "candles/s")
}

// BenchmarkGenerateDay measures generating one uncached BTCUSDT day (about 170,000 aggregate trades at the default
// rate) and deriving its minute candles.
func BenchmarkGenerateDay(b *testing.B) {
	m, err := NewMarket(DefaultMarketConfig(1))
	if err != nil {
		b.Fatal(err)
	}
	var trades int
	d := int64(0)
	for b.Loop() {
		trades += len(m.dayTrades(0, d))
		m.dayMinutes(0, d)
		d++
	}
	b.ReportMetric(float64(trades)/b.Elapsed().Seconds(), "trades/s")
}
