package binancesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testMarket is small enough for fast tests: 2024-12-01 onwards, a few trades per minute.
func testMarket(seed uint64) MarketConfig {
	cfg := DefaultMarketConfig(seed)
	cfg.Start = time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	rates := []float64{0.05, 0.04, 0.02, 0.02}
	for i := range cfg.Symbols {
		cfg.Symbols[i].AggTradesPerSecond = rates[i]
	}
	return cfg
}

// newTestSim starts a simulator whose clock reads 2025-02-10 12:00:30 UTC.
func newTestSim(t *testing.T, opts Options) (*Sim, string, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2025, 2, 10, 12, 0, 30, 0, time.UTC)}
	if opts.Market.Symbols == nil {
		opts.Market = testMarket(42)
	}
	if opts.Clock == nil {
		opts.Clock = clk.Now
	}
	sim := New(opts)
	base, stop := sim.Start()
	t.Cleanup(stop)
	return sim, base, clk
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, base, path string, params url.Values) response {
	t.Helper()
	u := base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

type apiErrorBody struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// fixed formats an 8-decimal fixed-point value independently of the code under test.
func fixed(v int64) string { return strconv.FormatFloat(float64(v)/1e8, 'f', 8, 64) }

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}
