package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// operatorPath checks, after a finished Scenario 1, what an operator does
// next through the API: read a step's logs, be refused a symbol the
// exchange does not list, and purge the workflow's graph, model and the
// market data it alone stored.
func operatorPath(ctx context.Context, t *testing.T, s *stack.Stack, sum *scenario.Summary) {
	t.Helper()
	c := &scenario.Client{API: s.API}
	var logs bytes.Buffer
	if err := c.Logs(ctx, sum.Workflow.ID, "train", 0, false, &logs); err != nil {
		t.Errorf("train step logs: %v", err)
	} else if !strings.Contains(logs.String(), `"service":"gnn-trainer"`) {
		t.Errorf("train step logs are not gnn-trainer's output:\n%.500s", logs.String())
	}

	_, err := c.Submit(ctx, scenario.TrainRequest("XRPUSDT", "2026-10-01:2026-10-08", nil))
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "XRPUSDT") || !strings.Contains(err.Error(), "BTCUSDT") {
		t.Errorf("POST with XRPUSDT: %v, want a 400 naming it and the exchange's symbols", err)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, s.API+"/api/v1/workflows/"+sum.Workflow.ID+"?purge=true", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var purged struct {
		Graphs      []string `json:"graphs"`
		Artifacts   int      `json:"artifacts"`
		Collections []string `json:"collections"`
		Shared      []string `json:"shared"`
	}
	if err := json.Unmarshal(b, &purged); res.StatusCode != http.StatusOK || err != nil || len(purged.Graphs) != 1 || purged.Artifacts == 0 {
		t.Fatalf("DELETE ?purge=true: %d %s", res.StatusCode, b)
	}
	if _, err := os.Stat(sum.Train.Artifacts["model"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("model.json after the purge: %v, want it gone", err)
	}
	// The only workflow on this stack: its market data is its alone.
	var stored []string
	for _, st := range sum.Workflow.Steps {
		if st.Kind == "store" {
			stored = append(stored, st.Collection)
		}
	}
	if !slices.Equal(purged.Collections, stored) || len(purged.Shared) != 0 {
		t.Errorf("purge dropped %v and kept %v as shared; want %v dropped: no other workflow uses them", purged.Collections, purged.Shared, stored)
	}
}
