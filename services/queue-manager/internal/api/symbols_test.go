package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
)

// exchange serves an exchangeInfo listing BTCUSDT and ETHUSDT (and a
// symbol not trading), counting the requests.
func exchange(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/exchangeInfo" {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		_, _ = w.Write([]byte(`{"serverTime":1,"rateLimits":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT"},` +
			`{"symbol":"ETHUSDT","status":"TRADING","baseAsset":"ETH","quoteAsset":"USDT"},{"symbol":"LUNAUSDT","status":"BREAK","baseAsset":"LUNA","quoteAsset":"USDT"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func request(symbol string) string {
	return `{"symbols":["` + symbol + `"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`
}

// TestUnknownSymbolIsRefused: with the exchange's list known, a symbol it
// does not list (or does not trade) is a 400 naming the symbol and where
// the known ones are; the list is fetched once within its TTL.
func TestUnknownSymbolIsRefused(t *testing.T) {
	ex, fetches := exchange(t)
	clk := &fakeClock{t: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}
	srv := serverWithSymbols(t, NewSymbolList(ex.URL, time.Hour, clk.now))
	for _, sym := range []string{"FOOBAR", "LUNAUSDT"} {
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", request(sym))
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		detail, _ := p["detail"].(string)
		if resp.StatusCode != 400 || p["field"] != "symbols[0]" || !strings.Contains(detail, sym) ||
			!strings.Contains(detail, "BTCUSDT, ETHUSDT") || !strings.Contains(detail, ex.URL+"/api/v3/exchangeInfo") {
			t.Errorf("POST %s: %d %s; want 400 naming it, the known symbols and where they come from", sym, resp.StatusCode, body)
		}
	}
	if resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", request("ETHUSDT")); resp.StatusCode != 202 {
		t.Errorf("POST ETHUSDT: %d %s", resp.StatusCode, body)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("exchangeInfo fetched %d times within its TTL, want once", n)
	}
	clk.add(2 * time.Hour)
	do(t, "POST", srv.URL+"/api/v1/workflows", request("FOOBAR"))
	if n := fetches.Load(); n != 2 {
		t.Errorf("exchangeInfo fetched %d times after its TTL, want again", n)
	}
}

// TestUnreachableExchangeAcceptsSymbols: when the list cannot be had, a
// request is accepted (its step will fail once with the loader's reason).
func TestUnreachableExchangeAcceptsSymbols(t *testing.T) {
	ex, _ := exchange(t)
	url := ex.URL
	ex.Close()
	srv := serverWithSymbols(t, NewSymbolList(url, time.Hour, nil))
	if resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", request("FOOBAR")); resp.StatusCode != 202 {
		t.Errorf("POST with the exchange unreachable: %d %s, want 202", resp.StatusCode, body)
	}
}

// serverWithSymbols serves the API of a new engine, checking symbols
// against list.
func serverWithSymbols(t *testing.T, list Symbols) *httptest.Server {
	t.Helper()
	_, repo, eng := testEngine(t)
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetSymbols(list)
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
