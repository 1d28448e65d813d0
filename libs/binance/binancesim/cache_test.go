package binancesim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestGenerationDoesNotStallOtherRequests: while one request is inside the generation of a day (held there by
// the test), requests for cached data, the server time and the depth book are answered. Before, one lock was held
// for the whole generation and every request waited for it.
func TestGenerationDoesNotStallOtherRequests(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{})
	cached := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	get(t, base, "/api/v3/klines", vals("symbol", "BTCUSDT", "interval", "1m", "startTime", ms(cached), "limit", "10"))

	entered, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	sim.market.beforeGen = func(s int, d int64) {
		if held.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
	}
	slow := make(chan response, 1)
	go func() {
		slow <- get(t, base, "/api/v3/klines", vals("symbol", "ETHUSDT", "interval", "1d",
			"startTime", ms(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)), "limit", "30"))
	}()
	<-entered
	done := make(chan struct{})
	go func() {
		defer close(done)
		get(t, base, "/api/v3/klines", vals("symbol", "BTCUSDT", "interval", "1m", "startTime", ms(cached), "limit", "10"))
		get(t, base, "/api/v3/time", nil)
		get(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "5"))
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a deadlock detector, not a timing threshold
		close(release)
		t.Fatal("requests for cached data waited for another request's generation")
	}
	close(release)
	if r := <-slow; r.status != http.StatusOK {
		t.Fatalf("the generating request: %d %s", r.status, r.body)
	}
}

// BenchmarkCachedReadWhileGenerating measures reads of a cached day while other goroutines keep generating
// uncached days, the situation of a loader paginating recent minutes while another asks for years of daily candles.
func BenchmarkCachedReadWhileGenerating(b *testing.B) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	sim := New(Options{Market: DefaultMarketConfig(1), Clock: func() time.Time { return now }, WeightLimit: 1 << 40})
	h := sim.Handler()
	start := time.Date(2025, 5, 30, 0, 0, 0, 0, time.UTC).UnixMilli()
	url := "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=100&startTime=" + strconv.FormatInt(start, 10)
	serve := func(u string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		if rec.Code != http.StatusOK {
			b.Errorf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve(url)
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for {
			select {
			case <-stop:
				return
			default:
			}
			serve("/api/v3/klines?symbol=ETHUSDT&interval=1d&limit=1&startTime=" + strconv.FormatInt(day.UnixMilli(), 10))
			day = day.AddDate(0, 0, 1)
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		serve(url)
	}
	close(stop)
	<-finished
}
