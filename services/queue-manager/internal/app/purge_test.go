package app

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/objstoreopen"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestPurgeRemovesTheWorkflowsOwnGraphAndModels: a purge drops the
// workflow's graph and deletes its train step's artifacts; another
// workflow's model and the market data another workflow shares stay.
func TestPurgeRemovesTheWorkflowsOwnGraphAndModels(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	req := flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: "2024-08-01:2024-09-01",
		Steps: []string{"load", "store", "graph", "train"}}
	w, err := flow.New(req, time.Date(2024, 9, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	graph, train, market := w.Steps[2], w.Steps[3], w.Steps[1].Collection
	// A week of the same month: its data starts the same day, in the same
	// collection.
	week := req
	week.TimeRange = "2024-08-01:2024-08-08"
	other, err := flow.New(week, time.Date(2024, 9, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range []*flow.Workflow{w, other} {
		if err := flow.NewRepo(st).Create(ctx, wf); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.EnsureGraph(ctx, store.Graph{Name: graph.Collection, VertexCollection: graph.Collection + "_v", EdgeCollection: graph.Collection + "_e"}); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureCollection(ctx, store.Collection{Name: market}); err != nil {
		t.Fatal(err)
	}
	art := objstore.Config{ArtifactDir: t.TempDir(), Bucket: "streamforge"}
	os, err := objstoreopen.Open(ctx, art)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	keys := []string{"models/" + train.QueueID + "/model.json", "models/" + train.QueueID + "/metrics.json", "models/wf-ethusdt-train-20240902-ffffff/model.json"}
	for _, k := range keys {
		if err := os.Put(ctx, k, strings.NewReader("{}"), 2, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := (&purger{st: st, art: art}).Purge(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Graphs) != 1 || got.Graphs[0] != graph.Collection || got.Artifacts != 2 {
		t.Errorf("purged %+v, want graph %s and two artifacts", got, graph.Collection)
	}
	if err := st.ReadGraph(ctx, graph.Collection, func(json.RawMessage) error { return nil }, func(json.RawMessage) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("graph after the purge: %v, want ErrNotFound", err)
	}
	left, err := os.List(ctx, "models/")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Key != keys[2] {
		t.Errorf("artifacts left %+v, want only the other workflow's", left)
	}
	if _, err := st.Count(ctx, market); err != nil {
		t.Errorf("the shared market data collection: %v", err)
	}
	if len(got.Collections) != 0 || len(got.Shared) != 1 || got.Shared[0] != market {
		t.Errorf("purged collections %v, shared %v; want %s kept as shared", got.Collections, got.Shared, market)
	}
}
