package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

type recPurger struct {
	purged []string
	during func() // called in Purge, when set
}

func (p *recPurger) Purge(_ context.Context, w *flow.Workflow) (Purged, error) {
	if p.during != nil {
		p.during()
	}
	p.purged = append(p.purged, w.ID)
	g, _ := w.Own()
	return Purged{Workflow: w.ID, Graphs: g, Artifacts: 3}, nil
}

// TestDeleteWithPurge: DELETE ?purge=true on an ended workflow purges it
// and deletes it (200 with what was removed); a running one is 409 and
// nothing is purged; a bad purge value is 400.
func TestDeleteWithPurge(t *testing.T) {
	_, repo, eng := testEngine(t)
	p := &recPurger{}
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetPurger(p)
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	_, body := do(t, "POST", srv.URL+"/api/v1/workflows", good)
	var w flow.Workflow
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/api/v1/workflows/" + w.ID
	for _, v := range []string{"maybe", ""} {
		if resp, body := do(t, "DELETE", url+"?purge="+v, ""); resp.StatusCode != 400 || !strings.Contains(string(body), "purge") {
			t.Errorf("purge=%s: %d %s, want 400 naming purge", v, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "DELETE", url+"?purge=true", ""); resp.StatusCode != 409 || len(p.purged) != 0 {
		t.Errorf("purge of a running workflow: %d, purged %v", resp.StatusCode, p.purged)
	}
	if _, err := eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range w.Steps[:2] {
		stopStep(t, eng, s)
	}
	// No submission runs while the purge decides what no other workflow
	// uses and drops it.
	p.during = func() {
		if a.admission.TryRLock() {
			a.admission.RUnlock()
			t.Error("a submission could run during the purge")
		}
	}
	resp, body := do(t, "DELETE", url+"?purge=true", "")
	var got Purged
	if err := json.Unmarshal(body, &got); resp.StatusCode != 200 || err != nil || got.Workflow != w.ID || len(got.Graphs) != 1 || got.Artifacts != 3 {
		t.Fatalf("purge of a stopped workflow: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", url, ""); resp.StatusCode != 404 {
		t.Errorf("get after the purge: %d", resp.StatusCode)
	}
}

// stopStep sends the interrupted event of a stopping step's worker.
func stopStep(t *testing.T, eng *flow.Engine, s *flow.Step) {
	t.Helper()
	if err := eng.OnEvent(context.Background(), protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusInterrupted,
		Finished: true, Timestamp: protocol.Timestamp(time.Now())}); err != nil {
		t.Fatal(err)
	}
}
