package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestBounds: a workflow with more steps than WORKFLOW_MAX_STEPS or a time
// range longer than WORKFLOW_MAX_SPAN is a 400 naming the field; an owner
// with WORKFLOW_MAX_ACTIVE workflows in flight gets a 429 with Retry-After
// until one ends.
func TestBounds(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	repo := flow.NewRepo(st)
	eng := flow.NewEngine(repo, nopLauncher{}, nopPub{},
		flow.Options{Bounds: flow.Bounds{MaxSteps: 10, MaxSpan: 31 * 24 * time.Hour, MaxActive: 2}, StopGrace: time.Nanosecond})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	New(eng, repo, nil, zerolog.Nop()).Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	for _, c := range []struct{ name, body, field string }{
		{"too many steps", `{"symbols":["BTCUSDT","ETHUSDT","BNBUSDT"],"types":["api_trades","api_candles_5m"],"time_range":"2024-08-01:2024-08-02"}`, "symbols"},
		{"too long", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2020-01-01:2024-08-02"}`, "time_range"},
	} {
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", c.body)
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != 400 || p["field"] != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.name, resp.StatusCode, body, c.field)
		}
	}

	one := `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-09-01"}`
	var ids []string
	for range 2 {
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", one)
		if resp.StatusCode != 202 {
			t.Fatalf("within the bounds: %d %s", resp.StatusCode, body)
		}
		var w flow.Workflow
		_ = json.Unmarshal(body, &w)
		if w.Owner == nil || w.Owner.Subject != flow.Anonymous {
			t.Errorf("owner %+v, want %q", w.Owner, flow.Anonymous)
		}
		ids = append(ids, w.ID)
	}
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", one)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(body), "WORKFLOW_MAX_ACTIVE") {
		t.Errorf("third in flight: %d Retry-After %q %s, want a 429 problem naming WORKFLOW_MAX_ACTIVE",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another owner has its own allowance.
	if _, err := eng.Submit(flow.WithActor(context.Background(), flow.Actor{Subject: "alice"}), flow.Request{Symbols: []string{"BTCUSDT"},
		Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-09-01", Steps: []string{"load"}}); err != nil {
		t.Errorf("alice's first workflow: %v", err)
	}
	// Once one has ended, the owner may submit again.
	if resp, body := do(t, "POST", srv.URL+"/api/v1/workflows/"+ids[0]+"/stop", ""); resp.StatusCode != 202 {
		t.Fatalf("stop: %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", one)
		if resp.StatusCode == 202 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a stop: %d %s", resp.StatusCode, body)
		}
		eng.Tick(context.Background()) // the stop grace has passed: the runs are removed, the workflow ends
		time.Sleep(10 * time.Millisecond)
	}
}
