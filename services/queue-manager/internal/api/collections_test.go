package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/storetest"
)

// failingCounter answers every count with err.
type failingCounter struct{ err error }

func (f failingCounter) Count(context.Context, string) (int64, error) { return 0, f.err }

// newCollectionsServer serves the API on a SQLite store with counts from
// counter (nil: the store's).
func newCollectionsServer(t *testing.T, counter Counter) (*httptest.Server, store.Store) {
	t.Helper()
	st, repo, eng := testEngine(t)
	if counter == nil {
		counter = st
	}
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetCounter(counter)
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, st
}

// TestCollectionsCounted: the collections the workflows' store steps write,
// each once with every workflow that writes it, in symbol, type, day order;
// a stored one with its count, one not created yet as not stored.
func TestCollectionsCounted(t *testing.T) {
	srv, st := newCollectionsServer(t, nil)
	for _, body := range []string{
		`{"symbols":["ETHUSDT","BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-08-02","steps":["load","store"]}`,
		`{"symbols":["BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-08-03","steps":["load","store"]}`,
		`{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`,
	} {
		if resp, b := do(t, http.MethodPost, srv.URL+"/api/v1/workflows", body); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create: %d %s", resp.StatusCode, b)
		}
	}
	const btc = "btcusdt_api_candles_5m_2024_08_01"
	if err := st.EnsureCollection(t.Context(), store.MarketData(btc)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upsert(t.Context(), btc, storetest.Candles("BTCUSDT", 7)); err != nil {
		t.Fatal(err)
	}

	resp, b := do(t, http.MethodGet, srv.URL+"/api/v1/collections", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	var got struct {
		Collections []Collection `json:"collections"`
		Truncated   bool         `json:"truncated"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for i := range got.Collections {
		if len(got.Collections[i].Workflows) == 0 {
			t.Errorf("%s: no workflow named", got.Collections[i].Name)
		}
		got.Collections[i].Workflows = []string{strings.Repeat("w", len(got.Collections[i].Workflows))}
	}
	want := []Collection{
		{Name: btc, Symbol: "BTCUSDT", Type: "api_candles_5m", Day: "2024-08-01", Stored: true, Count: 7, Workflows: []string{"ww"}},
		{Name: "ethusdt_api_candles_5m_2024_08_01", Symbol: "ETHUSDT", Type: "api_candles_5m", Day: "2024-08-01", Workflows: []string{"w"}},
	}
	if diff := cmp.Diff(want, got.Collections); diff != "" || got.Truncated {
		t.Errorf("collections (-want +got):\n%s\ntruncated %v", diff, got.Truncated)
	}

	// One symbol's.
	resp, b = do(t, http.MethodGet, srv.URL+"/api/v1/collections?symbol=ETHUSDT", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "ethusdt_") || strings.Contains(string(b), "btcusdt_") {
		t.Errorf("?symbol=ETHUSDT: %d %s, want ETHUSDT's collection only", resp.StatusCode, b)
	}
}

// TestCollectionsBadRequest: a bad parameter is a 400 problem naming it; a
// store that cannot count is a 503 problem.
func TestCollectionsBadRequest(t *testing.T) {
	srv, _ := newCollectionsServer(t, nil)
	for _, tc := range []struct{ query, field string }{
		{"?symbol=BTC-USDT", "symbol"},
		{"?symbol=BTCUSDT&symbol=ETHUSDT", "symbol"},
		{"?day=2024-08-01", "day"},
	} {
		resp, b := do(t, http.MethodGet, srv.URL+"/api/v1/collections"+tc.query, "")
		var p struct{ Field string }
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" || p.Field != tc.field {
			t.Errorf("%s: %d %s %s, want a 400 problem on %s", tc.query, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.field)
		}
	}

	down, _ := newCollectionsServer(t, failingCounter{err: errors.Join(store.ErrUnavailable, errors.New("connection refused"))})
	if resp, b := do(t, http.MethodPost, down.URL+"/api/v1/workflows",
		`{"symbols":["BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-08-02","steps":["load","store"]}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, http.MethodGet, down.URL+"/api/v1/collections", ""); resp.StatusCode != http.StatusServiceUnavailable ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("store down: %d %s, want a 503 problem", resp.StatusCode, b)
	}
}
