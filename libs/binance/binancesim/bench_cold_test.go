package binancesim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkColdMonthlyKlines measures the first /api/v3/klines?interval=1M request from 2017 on a fresh simulator
// whose clock is at the end of 2026: every day since the market's start (2024-01-01, about 1,070 days) is uncached,
// so the request derives each day's candle from scratch.
func BenchmarkColdMonthlyKlines(b *testing.B) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	url := "/api/v3/klines?symbol=BTCUSDT&interval=1M&limit=1000&startTime=" +
		strconv.FormatInt(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 10)
	for b.Loop() {
		b.StopTimer()
		h := New(Options{Market: DefaultMarketConfig(1), Clock: func() time.Time { return now }, WeightLimit: 1 << 40}).Handler()
		b.StartTimer()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
