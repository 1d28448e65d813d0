package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

type nopLauncher struct{}

func (nopLauncher) Launch(context.Context, launch.Spec) error              { return nil }
func (nopLauncher) Stop(context.Context, string) error                     { return nil }
func (nopLauncher) Runs(context.Context) ([]launch.Status, error)          { return nil, nil }
func (nopLauncher) Watch(ctx context.Context, _ func(launch.Status)) error { <-ctx.Done(); return nil }

type nopPub struct{}

func (nopPub) Publish(context.Context, string, []byte, []byte) error { return nil }

func newServer(t *testing.T) (*httptest.Server, *flow.Engine) {
	t.Helper()
	return newServerAt(t, filepath.Join(t.TempDir(), "qm.db"), nil)
}

// newServerAt serves the API of an engine on the store at path, with the
// clock now (nil: time.Now).
func newServerAt(t *testing.T, path string, now func() time.Time) (*httptest.Server, *flow.Engine) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	repo := flow.NewRepo(st)
	eng := flow.NewEngine(repo, nopLauncher{}, nopPub{}, flow.Options{})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	New(eng, repo, now, zerolog.Nop()).Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, eng
}

func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const good = `{"symbols":["BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-09-01","steps":["load","store","graph","train"]}`

func TestBadRequests(t *testing.T) {
	srv, _ := newServer(t)
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"not JSON", `{"symbols":`, 400, "body"},
		{"two values", good + good, 400, "body"},
		{"unknown field", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","color":"red"}`, 400, "color"},
		{"wrong type", `{"symbols":"BTCUSDT","types":["api_trades"]}`, 400, "symbols"},
		{"no symbols", `{"types":["api_trades"],"time_range":"2024-08-01:2024-08-02"}`, 400, "symbols"},
		{"bad symbol", `{"symbols":["btc usdt"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02"}`, 400, "symbols[0]"},
		{"bad type", `{"symbols":["BTCUSDT"],"types":["api_bananas"],"time_range":"2024-08-01:2024-08-02"}`, 400, "types[0]"},
		{"monthly candles", `{"symbols":["BTCUSDT"],"types":["api_trades","api_candles_1M"],"time_range":"2024-08-01:2024-09-01"}`, 400, "types[1]"},
		{"bad range", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"last month"}`, 400, "time_range"},
		{"inverted range", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-09-01:2024-08-01"}`, 400, "time_range"},
		{"future range", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2099-01-01:2099-02-01"}`, 400, "time_range"},
		{"bad step", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load","dance"]}`, 400, "steps[1]"},
		{"oversized", `{"symbols":["` + strings.Repeat("A", MaxBody) + `"]}`, 400, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", c.body)
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var p map[string]any
			if err := json.Unmarshal(body, &p); err != nil || p["field"] != c.field || p["status"] != float64(c.status) || p["detail"] == "" {
				t.Errorf("problem %s, want field %q", body, c.field)
			}
			if detail, _ := p["detail"].(string); !strings.HasPrefix(detail, c.field+": ") {
				t.Errorf("detail %q, want it to start with the field, %q", detail, c.field+": ")
			}
		})
	}
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, "Content-Type", "text/plain")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Content-Type") {
		t.Errorf("text/plain body: %d %s", resp.StatusCode, body)
	}
	// Nothing was half-created.
	resp, body = do(t, "GET", srv.URL+"/api/v1/workflows", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"workflows":[]`) {
		t.Errorf("after only bad requests: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"?status=sleeping", "?limit=0", "?limit=x", "?limit=", "?limit=501"} {
		if resp, body := do(t, "GET", srv.URL+"/api/v1/workflows"+q, ""); resp.StatusCode != 400 {
			t.Errorf("list %s: %d %s", q, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/workflows/wf-nope", ""); resp.StatusCode != 404 {
		t.Errorf("unknown workflow: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "PUT", srv.URL+"/api/v1/workflows", good); resp.StatusCode != 405 {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
}

func TestLifecycleOverHTTP(t *testing.T) {
	srv, eng := newServer(t)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, "Idempotency-Key", "k1")
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var w flow.Workflow
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Location") != "/api/v1/workflows/"+w.ID || len(w.Steps) != 4 || w.State != flow.Running {
		t.Fatalf("created %s at %s", body, resp.Header.Get("Location"))
	}
	// A retry with the same key returns the same workflow, a different body is refused.
	resp, body = do(t, "POST", srv.URL+"/api/v1/workflows", good, "Idempotency-Key", "k1")
	if resp.StatusCode != 200 || !strings.Contains(string(body), w.ID) {
		t.Errorf("retry: %d %s", resp.StatusCode, body)
	}
	other := strings.Replace(good, "api_candles_5m", "api_trades", 1)
	if resp, _ = do(t, "POST", srv.URL+"/api/v1/workflows", other, "Idempotency-Key", "k1"); resp.StatusCode != 422 {
		t.Errorf("key reused with another body: %d", resp.StatusCode)
	}
	// Live events: the current state first, then changes.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/workflows/"+w.ID+"/events", nil)
	sse, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	events := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(sse.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- name
			}
		}
		close(events)
	}()
	if e := <-events; e != "workflow" {
		t.Fatalf("first event %q", e)
	}
	load := w.Steps[0]
	if err := eng.OnEvent(context.Background(), protocol.Event{QueueID: load.QueueID, Producer: load.TelemetryID, Status: protocol.StatusLoading,
		RecordsWritten: 5, Percent: 10, Timestamp: protocol.Timestamp(time.Now())}); err != nil {
		t.Fatal(err)
	}
	if e := <-events; e != "progress" {
		t.Fatalf("after a loading event: %q", e)
	}
	if resp, _ := do(t, "DELETE", srv.URL+"/api/v1/workflows/"+w.ID, ""); resp.StatusCode != 409 {
		t.Errorf("delete a running workflow: %d", resp.StatusCode)
	}
	resp, body = do(t, "POST", srv.URL+"/api/v1/workflows/"+w.ID+"/stop", "")
	if resp.StatusCode != 202 || !strings.Contains(string(body), `"state":"stopping"`) {
		t.Fatalf("stop: %d %s", resp.StatusCode, body)
	}
	for _, s := range w.Steps[:2] {
		if err := eng.OnEvent(context.Background(), protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusInterrupted,
			Finished: true, Timestamp: protocol.Timestamp(time.Now())}); err != nil {
			t.Fatal(err)
		}
	}
	var last string
	for e := range events {
		last = e
	}
	if last != "end" {
		t.Errorf("the stream ended with %q, want end", last)
	}
	resp, body = do(t, "GET", srv.URL+"/api/v1/workflows?status=stopped", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), w.ID) {
		t.Errorf("list stopped: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "DELETE", srv.URL+"/api/v1/workflows/"+w.ID, ""); resp.StatusCode != 204 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/workflows/"+w.ID, ""); resp.StatusCode != 404 {
		t.Errorf("get after delete: %d", resp.StatusCode)
	}
	resp, body = do(t, "GET", srv.URL+"/openapi.yaml", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "openapi: 3.0.3") {
		t.Errorf("openapi: %d", resp.StatusCode)
	}
}

// testEngine is a started engine on an embedded store in the test's
// temporary directory, with the store and the engine's repository.
func testEngine(t *testing.T) (*sqlite.Store, *flow.Repo, *flow.Engine) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	repo := flow.NewRepo(st)
	eng := flow.NewEngine(repo, nopLauncher{}, nopPub{}, flow.Options{})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, repo, eng
}
