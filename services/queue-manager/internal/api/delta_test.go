package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestEventsCarryOnlyTheChangedStep: after the snapshot at connect, a
// progress event carries the changed step and the workflow's state, not the
// whole workflow.
func TestEventsCarryOnlyTheChangedStep(t *testing.T) {
	srv, eng := newServer(t)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good)
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var w flow.Workflow
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/workflows/"+w.ID+"/events", nil)
	sse, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	type ev struct{ name, data string }
	events := make(chan ev, 100)
	go func() {
		sc := bufio.NewScanner(sse.Body)
		sc.Buffer(nil, 1<<20)
		name := ""
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				name = n
			}
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- ev{name, d}
			}
		}
		close(events)
	}()
	first := <-events
	var snap flow.Change
	if err := json.Unmarshal([]byte(first.data), &snap); first.name != "workflow" || err != nil || snap.Workflow == nil || len(snap.Workflow.Steps) != 4 {
		t.Fatalf("first event %s %s: want the whole workflow", first.name, first.data)
	}
	load := w.Steps[0]
	if err := eng.OnEvent(context.Background(), protocol.Event{QueueID: load.QueueID, Producer: load.TelemetryID, Status: protocol.StatusLoading,
		RecordsWritten: 5, Percent: 10, Timestamp: protocol.Timestamp(time.Now())}); err != nil {
		t.Fatal(err)
	}
	next := <-events
	var d struct {
		Kind     string          `json:"kind"`
		ID       string          `json:"id"`
		State    string          `json:"state"`
		Step     *flow.Step      `json:"step"`
		Workflow json.RawMessage `json:"workflow"`
	}
	if err := json.Unmarshal([]byte(next.data), &d); err != nil {
		t.Fatal(err)
	}
	if next.name != "progress" || d.Kind != "progress" || d.ID != w.ID || d.State != flow.Running || d.Step == nil ||
		d.Step.ID != load.ID || d.Step.Records != 5 || d.Workflow != nil {
		t.Errorf("progress event %s %s: want the loader step alone with the workflow's id and state", next.name, next.data)
	}
	t.Logf("snapshot %d bytes, progress delta %d bytes", len(first.data), len(next.data))
	if len(next.data) >= len(first.data)/2 {
		t.Errorf("progress event of %d bytes for a snapshot of %d: it carries more than the step", len(next.data), len(first.data))
	}
}
