package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestRetryOverHTTP: 409 while running, 202 with the workflow running
// again once it failed, 409 when it finished, 404 for an unknown id.
func TestRetryOverHTTP(t *testing.T) {
	srv, eng := newServer(t)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`)
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var w flow.Workflow
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	retry := srv.URL + "/api/v1/workflows/" + w.ID + "/retry"
	if resp, body := do(t, "POST", retry, ""); resp.StatusCode != 409 {
		t.Errorf("retry while running: %d %s", resp.StatusCode, body)
	}
	s := w.Steps[0]
	ev := protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusError, Finished: true, Permanent: true,
		Error: "SYMBOL: bad", Timestamp: protocol.Timestamp(time.Now()), RunID: s.ID + ".1"}
	if err := eng.OnEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, "POST", retry, "")
	if resp.StatusCode != 202 {
		t.Fatalf("retry of the failed workflow: %d %s", resp.StatusCode, body)
	}
	var again flow.Workflow
	if err := json.Unmarshal(body, &again); err != nil || again.State != flow.Running || len(again.Steps[0].Attempts) != 2 {
		t.Errorf("after the retry: %s", body)
	}
	ev.Status, ev.Error, ev.Permanent, ev.RunID = protocol.StatusFinished, "", false, s.ID+".2"
	if err := eng.OnEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, "POST", retry, ""); resp.StatusCode != 409 {
		t.Errorf("retry of a finished workflow: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "POST", srv.URL+"/api/v1/workflows/wf-nope/retry", ""); resp.StatusCode != 404 {
		t.Errorf("retry of an unknown workflow: %d", resp.StatusCode)
	}
}
