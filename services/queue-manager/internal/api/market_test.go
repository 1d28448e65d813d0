package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/market"
)

// frames is a Market that sends its frames for any symbol, then ends.
type frames struct{ asked []string }

func (f *frames) Stream(_ context.Context, symbol string, send func(market.Frame) error) error {
	f.asked = append(f.asked, symbol)
	for _, n := range []int64{1, 2} {
		if err := send(market.Frame{Symbol: symbol, Live: true, TradeCount: n}); err != nil {
			return err
		}
	}
	return nil
}

func newMarketServer(t *testing.T, v TokenVerifier, m Market) (*httptest.Server, *API, *flow.Engine) {
	t.Helper()
	_, repo, eng := testEngine(t)
	a := New(eng, repo, nil, zerolog.Nop())
	if v != nil {
		a.Protect(v, Limits{})
	}
	a.SetMarket(m)
	r := chi.NewRouter()
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, a, eng
}

func TestMarketStream(t *testing.T) {
	m := &frames{}
	srv, _, _ := newMarketServer(t, people, m)
	for _, tc := range []struct {
		name, path, token string
		want              int
		field             string
	}{
		{"viewer reads", "/api/v1/market/BTCUSDT/stream", "viewer", 200, ""},
		{"no token", "/api/v1/market/BTCUSDT/stream", "", 401, ""},
		{"no role", "/api/v1/market/BTCUSDT/stream", "norole", 403, ""},
		{"not a symbol", "/api/v1/market/btc-usdt/stream", "viewer", 400, "symbol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.token != "" {
				hdr = bearerOf(tc.token)
			}
			resp, body := do(t, http.MethodGet, srv.URL+tc.path, "", hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want != 200 {
				if p := problemOf(t, resp.Header.Get("Content-Type"), body); tc.field != "" && p["field"] != tc.field {
					t.Fatalf("problem %v, want field %s", p, tc.field)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Fatalf("Content-Type %q, want text/event-stream", ct)
			}
			if n := strings.Count(string(body), "event: market\ndata: {"); n != 2 || !strings.Contains(string(body), `"trade_count":2`) {
				t.Fatalf("body %q: want the two frames as market events", body)
			}
		})
	}
	if len(m.asked) != 1 || m.asked[0] != "BTCUSDT" {
		t.Fatalf("market asked for %v, want BTCUSDT once (refused requests never reach it)", m.asked)
	}
}

// TestLiveStreams: the market feed follows the data topics of a running
// workflow's live load steps of the symbol, and nothing once it ended.
func TestLiveStreams(t *testing.T) {
	_, a, eng := newMarketServer(t, nil, &frames{})
	ctx := context.Background()
	if _, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02"}); err != nil {
		t.Fatal(err)
	}
	if l, err := a.LiveStreams(ctx, "BTCUSDT"); err != nil || l.Workflow != "" {
		t.Fatalf("history only: LiveStreams = %+v, %v; want none", l, err)
	}
	wf, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"ws_trades", "ws_orderbook"}, Steps: []string{"load", "store"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.LiveStreams(ctx, "BTCUSDT")
	if err != nil || l.Workflow != wf.ID || len(l.Topics) != 2 {
		t.Fatalf("LiveStreams = %+v, %v; want workflow %s with two topics", l, err, wf.ID)
	}
	for _, s := range wf.Steps {
		if s.Kind != flow.KindLoad {
			continue
		}
		want, _ := market.StreamOf(s.Type)
		if got, ok := l.Topics[protocol.DataTopic(s.QueueID)]; !ok || got != want {
			t.Fatalf("topics %v: want %s as stream %d", l.Topics, protocol.DataTopic(s.QueueID), want)
		}
	}
	if l, _ := a.LiveStreams(ctx, "ETHUSDT"); l.Workflow != "" {
		t.Fatalf("another symbol: %+v, want none", l)
	}
	if _, err := eng.Stop(ctx, wf.ID); err != nil {
		t.Fatal(err)
	}
	if l, _ := a.LiveStreams(ctx, "BTCUSDT"); l.Workflow != "" {
		t.Fatalf("after stop: %+v, want none", l)
	}
}
