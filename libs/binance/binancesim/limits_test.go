package binancesim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestWeightAccounting follows rest-api.md "LIMITS" / "IP Limits": weight is counted per IP per minute, every
// response carries X-MBX-USED-WEIGHT-1M, and over the limit the answer is 429 with Retry-After and errors.md's -1003
// TOO_MANY_REQUESTS.
func TestWeightAccounting(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{WeightLimit: 10})
	klines := vals("symbol", "BTCUSDT", "interval", "1m", "limit", "2")
	for i := 1; i <= 5; i++ {
		r := get(t, base, "/api/v3/klines", klines)
		if r.status != http.StatusOK || r.header.Get("X-MBX-USED-WEIGHT-1M") != strconv.Itoa(2*i) {
			t.Fatalf("request %d: status %d, used weight %q, want 200 and %d", i, r.status, r.header.Get("X-MBX-USED-WEIGHT-1M"), 2*i)
		}
	}
	r := get(t, base, "/api/v3/klines", klines)
	var body apiErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("decode 429 body %s: %v", r.body, err)
	}
	// The clock is at 12:00:30, so the window ends in 30 s.
	if r.status != http.StatusTooManyRequests || body.Code != -1003 || r.header.Get("Retry-After") != "30" ||
		r.header.Get("X-MBX-USED-WEIGHT-1M") != "12" {
		t.Fatalf("over budget: %d %+v Retry-After %q used %q, want 429 -1003 30 12", r.status, body,
			r.header.Get("Retry-After"), r.header.Get("X-MBX-USED-WEIGHT-1M"))
	}

	clk.Add(30 * time.Second) // the next minute window
	r = get(t, base, "/api/v3/ping", nil)
	if r.status != http.StatusOK || r.header.Get("X-MBX-USED-WEIGHT-1M") != "1" {
		t.Fatalf("after rollover: %d used %q, want 200 and 1", r.status, r.header.Get("X-MBX-USED-WEIGHT-1M"))
	}
	st := sim.Stats()
	if st.MaxWeightUsed != 12 || st.Served429 != 1 || st.Served418 != 0 || st.Requests["/api/v3/klines"] != 6 || st.Requests["/api/v3/ping"] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// TestEndpointWeights follows the "Weight" of each endpoint in rest-api.md "Market Data endpoints".
func TestEndpointWeights(t *testing.T) {
	tests := []struct {
		path   string
		params []string
		weight string
	}{
		{"/api/v3/ping", nil, "1"},
		{"/api/v3/time", nil, "1"},
		{"/api/v3/exchangeInfo", nil, "20"},
		{"/api/v3/klines", []string{"symbol", "BTCUSDT", "interval", "1d"}, "2"},
		{"/api/v3/aggTrades", []string{"symbol", "BTCUSDT"}, "4"},
		{"/api/v3/depth", []string{"symbol", "BTCUSDT", "limit", "100"}, "5"},
		{"/api/v3/depth", []string{"symbol", "BTCUSDT", "limit", "500"}, "25"},
		{"/api/v3/depth", []string{"symbol", "BTCUSDT", "limit", "1000"}, "50"},
		{"/api/v3/depth", []string{"symbol", "BTCUSDT", "limit", "5000"}, "250"},
	}
	for _, tt := range tests {
		t.Run(tt.path+tt.weight, func(t *testing.T) {
			_, base, _ := newTestSim(t, Options{})
			r := get(t, base, tt.path, vals(tt.params...))
			if got := r.header.Get("X-MBX-USED-WEIGHT-1M"); r.status != http.StatusOK || got != tt.weight {
				t.Errorf("status %d weight %q, want 200 and %s", r.status, got, tt.weight)
			}
		})
	}
}

// TestAutomaticBan follows rest-api.md "IP Limits": an IP that keeps sending after 429s is banned, with 418 and a
// Retry-After up to the ban's end.
func TestAutomaticBan(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{WeightLimit: 2, BanAfter429: 2, BanDuration: 2 * time.Minute})
	var statuses []int
	for range 6 {
		statuses = append(statuses, get(t, base, "/api/v3/ping", nil).status)
	}
	want := []int{200, 200, 429, 429, 418, 418}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", statuses, want)
		}
	}
	r := get(t, base, "/api/v3/time", nil)
	if r.status != http.StatusTeapot || r.header.Get("Retry-After") != "120" {
		t.Errorf("banned: %d Retry-After %q, want 418 and 120", r.status, r.header.Get("Retry-After"))
	}
	clk.Add(2 * time.Minute)
	if r := get(t, base, "/api/v3/ping", nil); r.status != http.StatusOK {
		t.Errorf("after the ban: %d, want 200", r.status)
	}
	st := sim.Stats()
	if st.Served429 != 2 || st.Served418 != 3 {
		t.Errorf("stats = %+v, want 2 429s and 3 418s", st)
	}
}

// recordingSleep stands in for real latency: it records the durations and blocks until the request is cancelled.
type recordingSleep struct {
	mu      sync.Mutex
	slept   []time.Duration
	entered chan struct{}
}

func (s *recordingSleep) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.slept = append(s.slept, d)
	s.mu.Unlock()
	s.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*Sim)
		check  func(t *testing.T, resp *http.Response, err error)
		stats  func(Stats) int
	}{
		{"429", func(s *Sim) { s.Fail429(2, 7*time.Second) }, wantStatus(429, "7"), func(s Stats) int { return s.Injected429 }},
		{"418", func(s *Sim) { s.Ban(90 * time.Second) }, wantStatus(418, "90"), func(s Stats) int { return s.Served418 }},
		{"5xx", func(s *Sim) { s.Fail5xx(2, 503) }, wantStatus(503, ""), func(s Stats) int { return s.Injected5xx }},
		{"drop", func(s *Sim) { s.Drop(2) }, wantError, func(s Stats) int { return s.Dropped }},
		{"slow", func(s *Sim) { s.Slow(2, time.Hour) }, wantError, func(s Stats) int { return s.Slowed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sleeper := &recordingSleep{entered: make(chan struct{}, 10)}
			sim, base, _ := newTestSim(t, Options{Sleep: sleeper.Sleep})
			if r := get(t, base, "/api/v3/ping", nil); r.status != http.StatusOK {
				t.Fatalf("before the fault: %d", r.status)
			}
			tt.inject(sim)
			// No keep-alive: Go's client silently retries an idempotent request whose reused connection dropped.
			client := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
			for range 2 {
				resp, err := client.Get(base + "/api/v3/ping")
				tt.check(t, resp, err)
				if err == nil {
					resp.Body.Close()
				}
			}
			if tt.name == "slow" {
				for range 2 {
					<-sleeper.entered // the server reached the latency, whatever the client's timeout did
				}
			}
			if got := tt.stats(sim.Stats()); got != 2 {
				t.Errorf("stats counted %d faults, want 2", got)
			}
			if tt.name == "slow" {
				sleeper.mu.Lock()
				if len(sleeper.slept) != 2 || sleeper.slept[0] != time.Hour {
					t.Errorf("slept %v, want two hours", sleeper.slept)
				}
				sleeper.mu.Unlock()
			}
			if tt.name == "418" {
				sim.ClearFaults()
			}
			if r := get(t, base, "/api/v3/ping", nil); r.status != http.StatusOK {
				t.Errorf("after the fault: %d, want 200", r.status)
			}
		})
	}
}

func wantStatus(status int, retryAfter string) func(*testing.T, *http.Response, error) {
	return func(t *testing.T, resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		var body apiErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("decode error body: %v", err)
		}
		if resp.Header.Get("X-MBX-USED-WEIGHT-1M") != "1" {
			t.Errorf("X-MBX-USED-WEIGHT-1M = %q, want the 1 used before the fault", resp.Header.Get("X-MBX-USED-WEIGHT-1M"))
		}
		if resp.StatusCode != status || resp.Header.Get("Retry-After") != retryAfter || body.Code >= 0 {
			t.Errorf("got %d Retry-After %q %+v, want %d Retry-After %q and a negative code", resp.StatusCode,
				resp.Header.Get("Retry-After"), body, status, retryAfter)
		}
	}
}

func wantError(t *testing.T, resp *http.Response, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got status %d, want a transport error", resp.StatusCode)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("unexpected cancellation: %v", err)
	}
}

func TestEarlyRetries(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{})
	sim.Fail429(1, 3*time.Second)
	if r := get(t, base, "/api/v3/ping", nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
		t.Fatalf("injected 429: status %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	get(t, base, "/api/v3/ping", nil) // too early
	clk.Add(2 * time.Second)
	get(t, base, "/api/v3/time", nil) // still too early
	if n := sim.Stats().EarlyRetries; n != 2 {
		t.Fatalf("EarlyRetries = %d after two requests inside Retry-After, want 2", n)
	}
	clk.Add(time.Second)
	get(t, base, "/api/v3/ping", nil)
	sim.Ban(time.Minute)
	get(t, base, "/api/v3/ping", nil) // the 418 itself is not early
	clk.Add(time.Minute)
	get(t, base, "/api/v3/ping", nil)
	if n := sim.Stats().EarlyRetries; n != 2 {
		t.Errorf("EarlyRetries = %d, want still 2 after waiting as told", n)
	}
}
