package api

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestIdempotencyKeySurvivesARestart: a client retrying its POST with the
// same Idempotency-Key after queue-manager restarted gets the workflow its
// first POST created, not a second one; a different body with that key is
// refused; once the key's TTL has passed it creates a new workflow.
func TestIdempotencyKeySurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qm.db")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	id := func(body []byte) string {
		var w flow.Workflow
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		return w.ID
	}
	srv, _ := newServerAt(t, path, clock)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, "Idempotency-Key", "retry-me")
	if resp.StatusCode != 202 {
		t.Fatalf("first POST: %d %s", resp.StatusCode, body)
	}
	first := id(body)
	srv.Close()

	srv, _ = newServerAt(t, path, clock) // queue-manager restarted
	resp, body = do(t, "POST", srv.URL+"/api/v1/workflows", good, "Idempotency-Key", "retry-me")
	if resp.StatusCode != 200 || id(body) != first {
		t.Fatalf("retry after a restart: %d, workflow %s; want 200 and the first POST's %s", resp.StatusCode, id(body), first)
	}
	other := `{"symbols":["ETHUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02"}`
	if resp, _ = do(t, "POST", srv.URL+"/api/v1/workflows", other, "Idempotency-Key", "retry-me"); resp.StatusCode != 422 {
		t.Errorf("another body with the key after a restart: %d, want 422", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	resp, body = do(t, "POST", srv.URL+"/api/v1/workflows", good, "Idempotency-Key", "retry-me")
	if resp.StatusCode != 202 || id(body) == first {
		t.Errorf("after the key's TTL: %d, workflow %s; want 202 and a new workflow", resp.StatusCode, id(body))
	}
}
