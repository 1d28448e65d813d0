package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeBinance serves klines, aggTrades, depth and exchangeInfo from generated
// data, and accounts request weight per minute window like Binance does, on
// the test's fake clock.
type fakeBinance struct {
	t      *testing.T
	now    func() time.Time
	budget int

	klineStart, klineEnd int64 // 1m klines exist for open times in [klineStart, klineEnd)
	trades               int64 // agg trades have ids 0..trades-1; ids divisible by 7 are invalid rows

	// fail, when set, may answer request n (1-based) itself and return true.
	fail func(n int, w http.ResponseWriter, r *http.Request) bool

	mu       sync.Mutex
	requests int
	arrivals []time.Time
	used     map[time.Time]int
}

func newFakeBinance(t *testing.T, now func() time.Time) (*fakeBinance, *httptest.Server) {
	f := &fakeBinance{t: t, now: now, budget: 6000, used: map[time.Time]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeBinance) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeBinance) Arrivals() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.arrivals...)
}

func (f *fakeBinance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	weight := map[string]int{"/api/v3/klines": 2, "/api/v3/aggTrades": 4, "/api/v3/exchangeInfo": 20}[r.URL.Path]
	if r.URL.Path == "/api/v3/depth" {
		limit, _ := strconv.Atoi(q.Get("limit"))
		weight = DepthWeight(limit)
	}
	now := f.now()
	window := now.Truncate(time.Minute)
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.arrivals = append(f.arrivals, now)
	f.used[window] += weight
	used := f.used[window]
	f.mu.Unlock()
	w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(used))
	if used > f.budget {
		f.t.Errorf("window %s: used weight %d exceeds the budget %d", window.Format(time.TimeOnly), used, f.budget)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if f.fail != nil && f.fail(n, w, r) {
		return
	}
	var body any
	switch r.URL.Path {
	case "/api/v3/klines":
		body = f.klines(q)
	case "/api/v3/aggTrades":
		body = f.aggTrades(q)
	case "/api/v3/depth":
		body = map[string]any{"lastUpdateId": 42, "bids": [][2]string{{"0.35210000", "672.00000000"}},
			"asks": [][2]string{{"0.35290000", "10968.00000000"}, {"0.35300000", "1.5"}}}
	case "/api/v3/exchangeInfo":
		body = map[string]any{"rateLimits": []RateLimit{{Type: "REQUEST_WEIGHT", Interval: "MINUTE", IntervalNum: 1, Limit: f.budget}},
			"symbols": []SymbolInfo{{Symbol: "BTCUSDT", Status: "TRADING"}}}
	default:
		http.NotFound(w, r)
		return
	}
	if err := json.NewEncoder(w).Encode(body); err != nil {
		f.t.Errorf("encode: %v", err)
	}
}

func qInt(q map[string][]string, name string, def int64) int64 {
	if v, ok := q[name]; ok {
		n, _ := strconv.ParseInt(v[0], 10, 64)
		return n
	}
	return def
}

func (f *fakeBinance) klines(q map[string][]string) [][]any {
	start := max(qInt(q, "startTime", f.klineStart), f.klineStart)
	end := qInt(q, "endTime", f.klineEnd)
	limit := qInt(q, "limit", 500)
	rows := [][]any{}
	// Binance aligns kline open times to the interval.
	for ot := (start + 59_999) / 60_000 * 60_000; ot < f.klineEnd && ot <= end && int64(len(rows)) < limit; ot += 60_000 {
		p := strconv.FormatFloat(float64(ot/60_000%1000)+0.5, 'f', 8, 64)
		rows = append(rows, []any{ot, p, p, p, p, "1.00000000", ot + 59_999, "2.5", 3, "0.5", "1.25", "0"})
	}
	return rows
}

func (f *fakeBinance) aggTrades(q map[string][]string) []map[string]any {
	limit := qInt(q, "limit", 500)
	from := qInt(q, "fromId", -1)
	if from < 0 {
		st := qInt(q, "startTime", 0)
		from = max((st-testEpoch.UnixMilli())/10, 0)
	}
	rows := []map[string]any{}
	for id := from; id < f.trades && int64(len(rows)) < limit; id++ {
		row := map[string]any{"a": id, "p": "100.5", "q": "0.25", "f": id * 2, "l": id*2 + 1,
			"T": testEpoch.UnixMilli() + id*10, "m": id%2 == 0, "M": true}
		if id%7 == 0 {
			row["p"], row["q"], row["f"], row["l"] = "0", "0", -1, -1
		}
		rows = append(rows, row)
	}
	return rows
}

func TestKlinesPaginates(t *testing.T) {
	clock := newAutoClock()
	fake, srv := newFakeBinance(t, clock.Now)
	start := testEpoch.Truncate(time.Minute).UnixMilli()
	fake.klineStart, fake.klineEnd = start, start+2500*60_000
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})

	var got []Candle
	err := c.Klines(context.Background(), "BTCUSDT", mustInterval(t, "1m"), start, start+3000*60_000, func(k Candle) error {
		got = append(got, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2500 {
		t.Fatalf("%d candles, want 2500", len(got))
	}
	for i, k := range got {
		if want := start + int64(i)*60_000; k.OpenTime != want {
			t.Fatalf("candle %d opens at %d, want %d", i, k.OpenTime, want)
		}
	}
	if got, want := fake.Requests(), 3; got != want {
		t.Errorf("%d requests, want %d (pages of 1000)", got, want)
	}

	got = got[:0]
	end := start + 1500*60_000 // end is exclusive
	if err := c.Klines(context.Background(), "BTCUSDT", mustInterval(t, "1m"), start+60_000, end, func(k Candle) error {
		got = append(got, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1499 || got[0].OpenTime != start+60_000 || got[len(got)-1].OpenTime != end-60_000 {
		t.Errorf("got %d candles, want 1499 from %d to %d", len(got), start+60_000, end-60_000)
	}
}

func TestAggTradesSkipsInvalidRowsAndPaginates(t *testing.T) {
	clock := newAutoClock()
	fake, srv := newFakeBinance(t, clock.Now)
	fake.trades = 2500
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})

	var got []AggTrade
	if err := c.AggTrades(context.Background(), "BTCUSDT", 0, 0, func(a AggTrade) error {
		got = append(got, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := 2500 - (2500+6)/7 // ids divisible by 7 are invalid
	if len(got) != want {
		t.Fatalf("%d trades, want %d", len(got), want)
	}
	next := int64(1)
	for _, a := range got {
		if next%7 == 0 {
			next++
		}
		if a.AggID != next || a.Price != 100.5 || a.FirstID != a.AggID*2 {
			t.Fatalf("trade %+v, want id %d with price 100.5", a, next)
		}
		next++
	}

	t.Run("stops at endMs and finds the first id by time", func(t *testing.T) {
		ctx := context.Background()
		from, ok, err := c.FirstAggTradeID(ctx, "BTCUSDT", testEpoch.UnixMilli()+1000, testEpoch.UnixMilli()+60_000)
		if err != nil || !ok || from != 100 {
			t.Fatalf("FirstAggTradeID = %d, %v, %v; want 100, true, nil", from, ok, err)
		}
		var ids []int64
		if err := c.AggTrades(ctx, "BTCUSDT", from, testEpoch.UnixMilli()+1100, func(a AggTrade) error {
			ids = append(ids, a.AggID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		wantIDs := []int64{100, 101, 102, 103, 104, 106, 107, 108, 109} // 105 invalid, 110 at endMs
		if fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
			t.Errorf("ids %v, want %v", ids, wantIDs)
		}
	})
}

func TestRetryAfter429IsObeyed(t *testing.T) {
	clock := newManualClock()
	fake, srv := newFakeBinance(t, clock.Now)
	fake.klineStart, fake.klineEnd = testEpoch.UnixMilli(), testEpoch.UnixMilli()+60_000*10
	fake.fail = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})
	done := make(chan error, 1)
	go func() {
		done <- c.Klines(context.Background(), "BTCUSDT", mustInterval(t, "1m"), fake.klineStart, fake.klineEnd,
			func(Candle) error { return nil })
	}()
	deadlines := clock.WaitSleepers(t, 1)
	if got, want := deadlines[0].Sub(testEpoch), 2*time.Second; got != want {
		t.Errorf("waits %v after the 429, want %v", got, want)
	}
	if got := fake.Requests(); got != 1 {
		t.Errorf("%d requests before Retry-After passed, want 1", got)
	}
	clock.Advance(2 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	arrivals := fake.Arrivals()
	if len(arrivals) != 2 || arrivals[1].Sub(arrivals[0]) != 2*time.Second {
		t.Errorf("arrivals %v, want two, 2s apart", arrivals)
	}
}

func TestTeapotBlocksAllRequests(t *testing.T) {
	clock := newManualClock()
	fake, srv := newFakeBinance(t, clock.Now)
	banEnd := testEpoch.Add(120 * time.Second)
	fake.fail = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTeapot)
			return true
		}
		if now := clock.Now(); now.Before(banEnd) {
			t.Errorf("request %d at %s during the ban until %s", n, now, banEnd)
		}
		return false
	}
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})
	ctx := context.Background()
	const others = 10
	errs := make(chan error, others+1)
	go func() { _, err := c.Depth(ctx, "BTCUSDT", 100); errs <- err }()
	clock.WaitSleepers(t, 1) // the first caller got the 418 and waits
	for range others {
		go func() { _, err := c.Depth(ctx, "BTCUSDT", 100); errs <- err }()
	}
	for _, until := range clock.WaitSleepers(t, others+1) {
		if !until.Equal(banEnd) {
			t.Errorf("a caller waits until %s, want the ban end %s", until, banEnd)
		}
	}
	if got := fake.Requests(); got != 1 {
		t.Fatalf("%d requests reached the server during the ban, want 1", got)
	}
	clock.Advance(120 * time.Second)
	for range others + 1 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := fake.Requests(); got != others+2 {
		t.Errorf("%d requests, want %d", got, others+2)
	}
}

func TestLimiterKeepsServerWeightWithinBudget(t *testing.T) {
	clock := newManualClock()
	fake, srv := newFakeBinance(t, clock.Now)
	fake.budget = 40 // announced by exchangeInfo
	fake.klineStart, fake.klineEnd = testEpoch.UnixMilli(), testEpoch.UnixMilli()+60_000*10
	// Another client on the same IP already spent weight in this window: the
	// header must teach the limiter about it.
	fake.used[testEpoch.Truncate(time.Minute)] = 12
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})
	ctx := context.Background()
	if _, err := c.ExchangeInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Limiter().Budget(); got != 40 {
		t.Fatalf("budget %d after exchangeInfo, want 40", got)
	}
	const callers = 60
	errs := make(chan error, callers)
	clock.RunAll(callers, func() {
		errs <- c.Klines(ctx, "BTCUSDT", mustInterval(t, "1m"), fake.klineStart, fake.klineEnd, func(Candle) error { return nil })
	})
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// 12 + 20 + 60*2 = 152 weight at 40 a minute: the fourth window is the first
	// that can finish the work, and the limiter must not waste a window.
	if got, want := clock.Now(), testEpoch.Truncate(time.Minute).Add(3*time.Minute); !got.Equal(want) {
		t.Errorf("all requests done at %s, want %s", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
}

func TestServerErrorsGiveUpWithClearError(t *testing.T) {
	clock := newAutoClock()
	fake, srv := newFakeBinance(t, clock.Now)
	fake.fail = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"code":-1000,"msg":"An unknown error occurred while processing the request."}`))
		return true
	}
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: 4,
		BackoffFirst: 100 * time.Millisecond, BackoffMax: 250 * time.Millisecond, Rand: func() float64 { return 0.5 }})
	err := c.Klines(context.Background(), "BTCUSDT", mustInterval(t, "5m"), 0, 1, func(Candle) error { return nil })
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want an *APIError", err)
	}
	if apiErr.Endpoint != "/api/v3/klines" || apiErr.Status != 500 || apiErr.Attempts != 4 || apiErr.Code != -1000 {
		t.Errorf("error %+v, want /api/v3/klines, status 500, 4 attempts, code -1000", apiErr)
	}
	if got := fake.Requests(); got != 4 {
		t.Errorf("%d requests, want 4", got)
	}
	// Delays 100, 200, 250 (capped) ms, each half fixed plus half jitter at 0.5.
	want := []time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 187500 * time.Microsecond}
	if got := clock.Slept(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoff sleeps %v, want %v", got, want)
	}
	t.Log(err)
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	clock := newAutoClock()
	fake, srv := newFakeBinance(t, clock.Now)
	fake.fail = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":-1121,"msg":"Invalid symbol."}`))
		return true
	}
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})
	_, err := c.ExchangeInfo(context.Background(), "NOPEUSDT")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != -1121 {
		t.Fatalf("error = %v, want status 400 code -1121", err)
	}
	if got := fake.Requests(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func TestConnectionErrorsAreRetriedThenReported(t *testing.T) {
	clock := newAutoClock()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: 3})
	_, err := c.Depth(context.Background(), "BTCUSDT", 5000)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 0 || apiErr.Attempts != 3 || apiErr.Err == nil {
		t.Fatalf("error = %v, want no response after 3 attempts", err)
	}
	if got := len(clock.Slept()); got != 2 {
		t.Errorf("%d backoff sleeps, want 2", got)
	}
}

func TestDepth(t *testing.T) {
	clock := newAutoClock()
	fake, srv := newFakeBinance(t, clock.Now)
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep})
	got, err := c.Depth(context.Background(), "NKNUSDT", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUpdateID != 42 || len(got.Bids) != 1 || got.Asks[1] != (Level{0.353, 1.5}) || got.Time != testEpoch.UnixMilli() {
		t.Errorf("snapshot %+v", got)
	}
	if used := fake.used[testEpoch.Truncate(time.Minute)]; used != 50 {
		t.Errorf("depth limit 1000 cost %d weight, want 50", used)
	}
}

func TestDepthWeight(t *testing.T) {
	for _, tt := range []struct{ limit, want int }{{5, 5}, {100, 5}, {101, 25}, {500, 25}, {1000, 50}, {1001, 250}, {5000, 250}} {
		if got := DepthWeight(tt.limit); got != tt.want {
			t.Errorf("DepthWeight(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}
