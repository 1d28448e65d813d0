package binancesim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkLongIntervalKlines measures /api/v3/klines for long intervals (rest-api.md "Kline/Candlestick data":
// 1d, 1w and 1M, a startTime in 2017, up to 1000 candles). "warm" serves days whose whole-day candles are known (the
// steady state); "cold 1d" serves one day that was never generated per request: a whole-day candle is aggregated
// from the day's summary (no trade is generated), so a range of N uncached days costs N times that
// (BenchmarkColdMonthlyKlines measures a whole first request).
func BenchmarkLongIntervalKlines(b *testing.B) {
	now := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	sim := New(Options{Market: DefaultMarketConfig(1), Clock: func() time.Time { return now }, WeightLimit: 1 << 40})
	h := sim.Handler()
	serve := func(b *testing.B, url string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	from2017 := strconv.FormatInt(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 10)
	serve(b, "/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1000&startTime="+from2017) // every day of the market once
	for _, iv := range []string{"1M", "1w", "1d"} {
		b.Run("warm "+iv+" from 2017", func(b *testing.B) {
			url := "/api/v3/klines?symbol=BTCUSDT&interval=" + iv + "&limit=1000&startTime=" + from2017
			for b.Loop() {
				serve(b, url)
			}
		})
	}
	b.Run("cold 1d", func(b *testing.B) {
		day := time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC) // the market's days are 2024-01-01 onwards
		cold := New(Options{Market: DefaultMarketConfig(1), Clock: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
			WeightLimit: 1 << 40}).Handler()
		for b.Loop() {
			day = day.AddDate(0, 0, 1)
			rec := httptest.NewRecorder()
			cold.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1&startTime="+
				strconv.FormatInt(day.UnixMilli(), 10), nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
