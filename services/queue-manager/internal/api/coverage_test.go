package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

type storeCoverage struct{ st store.Store }

func (c storeCoverage) Coverage(ctx context.Context, symbol, typ string, from, to int64) ([]coverage.Hour, error) {
	return coverage.Read(ctx, c.st, symbol, typ, from, to)
}

// newCoverageServer serves the API with the coverage ledger of a SQLite
// store holding hs.
func newCoverageServer(t *testing.T, hs []coverage.Hour) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := coverage.Write(context.Background(), st, hs); err != nil {
		t.Fatal(err)
	}
	repo := flow.NewRepo(st)
	eng := flow.NewEngine(repo, nopLauncher{}, nopPub{}, flow.Options{})
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetCoverage(storeCoverage{st})
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// TestCoverageServesTheLedger: the hours of the symbol and type in the
// range, their sum (an hour no loader recorded is unknown) and the holes.
func TestCoverageServesTheLedger(t *testing.T) {
	const h0 = int64(1_709_251_200_000) // 2024-03-01T00:00Z
	hs := []coverage.Hour{
		{Symbol: "BTCUSDT", Type: "ws_trades", Time: h0, State: coverage.Present, Source: "live", Records: 10},
		{Symbol: "BTCUSDT", Type: "ws_trades", Time: h0 + coverage.HourMs, State: coverage.Degraded, Source: "rest+live",
			Reason: coverage.ReasonWSGap, Backfill: coverage.BackfillClosed, Records: 12},
		{Symbol: "BTCUSDT", Type: "api_trades", Time: h0, State: coverage.Missing, Reason: coverage.ReasonNoRecords},
		{Symbol: "ETHUSDT", Type: "ws_trades", Time: h0, State: coverage.Missing, Reason: coverage.ReasonNoRecords},
	}
	srv := newCoverageServer(t, hs)
	resp, body := do(t, "GET", srv.URL+"/api/v1/coverage?symbol=BTCUSDT&type=ws_trades&from=2024-03-01&to=2024-03-01T03:00:00Z", "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	var got struct {
		Summary coverage.Summary `json:"summary"`
		Holes   []string         `json:"holes"`
		Hours   []coverage.Hour  `json:"hours"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := (coverage.Summary{Hours: 3, Present: 1, Degraded: 1, Unknown: 1}); got.Summary != want {
		t.Errorf("summary %+v, want %+v", got.Summary, want)
	}
	if d := cmp.Diff(hs[:2], got.Hours); d != "" {
		t.Errorf("hours (-want +got):\n%s", d)
	}
	if want := []string{"BTCUSDT ws_trades 2024-03-01T01:00Z degraded: websocket gap (backfill closed)"}; !cmp.Equal(got.Holes, want) {
		t.Errorf("holes %q, want %q", got.Holes, want)
	}
}

func TestCoverageBadParameters(t *testing.T) {
	srv := newCoverageServer(t, nil)
	for _, c := range []struct{ name, query, field string }{
		{"no symbol", "from=2024-03-01&to=2024-03-02", "symbol"},
		{"bad symbol", "symbol=btc%20usdt&from=2024-03-01&to=2024-03-02", "symbol"},
		{"bad type", "symbol=BTCUSDT&type=api_bananas&from=2024-03-01&to=2024-03-02", "type"},
		{"no from", "symbol=BTCUSDT&to=2024-03-02", "from"},
		{"bad to", "symbol=BTCUSDT&from=2024-03-01&to=tomorrow", "to"},
		{"inverted", "symbol=BTCUSDT&from=2024-03-02&to=2024-03-01", "to"},
		{"too long", "symbol=BTCUSDT&from=2023-01-01&to=2024-03-01", "to"},
		{"repeated", "symbol=BTCUSDT&symbol=ETHUSDT&from=2024-03-01&to=2024-03-02", "symbol"},
		{"unknown", "symbol=BTCUSDT&from=2024-03-01&to=2024-03-02&color=red", "color"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "GET", srv.URL+"/api/v1/coverage?"+c.query, "")
			var p struct{ Field string }
			_ = json.Unmarshal(body, &p)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Field != c.field {
				t.Errorf("%d %s %s, want 400 problem+json naming %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.field)
			}
		})
	}
}
