package trainer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// start is 2026-09-30T23:00:00Z in epoch ms: the last hour of September.
const start = 1790809200000

// putGraph writes a path graph of n five-minute vertices from start under name, and a record that
// says it has recNodes vertices and recEdges edges.
func putGraph(t *testing.T, st store.Store, name, timeRange string, n, recNodes, recEdges int) {
	t.Helper()
	ctx := context.Background()
	g := store.Graph{Name: name, VertexCollection: name + "_nodes", EdgeCollection: name + "_edges"}
	if err := st.EnsureGraph(ctx, g); err != nil {
		t.Fatal(err)
	}
	var vs, es []json.RawMessage
	for i := range n {
		tm := start + int64(i)*300_000
		vs = append(vs, json.RawMessage(fmt.Sprintf(`{"_key":"v%03d","time":%d,"features":[%d],"label":%d}`, i, tm, i, i%2)))
		if i > 0 {
			es = append(es, json.RawMessage(fmt.Sprintf(`{"_key":"e%03d","_from":"%s/v%03d","_to":"%s/v%03d"}`, i, g.VertexCollection, i-1, g.VertexCollection, i)))
		}
	}
	for coll, docs := range map[string][]json.RawMessage{g.VertexCollection: vs, g.EdgeCollection: es} {
		if _, err := st.Upsert(ctx, coll, docs); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(protocol.GraphRecord{Name: name, VertexCollection: g.VertexCollection, EdgeCollection: g.EdgeCollection,
		Kind: "visibility", Symbols: []string{"BTCUSDT"}, TimeRange: timeRange, Features: []string{"x"}, Nodes: recNodes, Edges: recEdges})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRecord(ctx, protocol.GraphsCollection, store.Record{Key: name, Status: "built", Body: body}); err != nil {
		t.Fatal(err)
	}
}

// The trainer reads exactly the graph its record describes: a graph whose
// collections hold more (another build's nodes or edges upserted into them)
// is refused rather than trained on.
func TestReadDatasetRefusesAGraphItsRecordDoesNotDescribe(t *testing.T) {
	for _, tt := range []struct {
		name                string
		timeRange           string
		n, recNodes, recEdg int
		wantErr             bool
	}{
		{name: "as built", n: 10, recNodes: 10, recEdg: 9},
		{name: "as built, in its range", timeRange: "2026-09-01:2026-10-01", n: 12, recNodes: 12, recEdg: 11},
		{name: "more nodes than built", n: 12, recNodes: 10, recEdg: 11, wantErr: true},
		{name: "more edges than built", n: 10, recNodes: 10, recEdg: 5, wantErr: true},
		{name: "a node after its range", timeRange: "2026-09-01:2026-10-01", n: 13, recNodes: 13, recEdg: 12, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "streamforge.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			putGraph(t, st, "btcusdt_graph_2026_09_01_a1b2c3", tt.timeRange, tt.n, tt.recNodes, tt.recEdg)
			ds, err := ReadDataset(context.Background(), st, "btcusdt_graph_2026_09_01_a1b2c3", true)
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("ReadDataset: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (ds.Graph.N != tt.n || ds.EdgeCount != tt.n-1) {
				t.Errorf("read %d nodes and %d edges, want %d and %d", ds.Graph.N, ds.EdgeCount, tt.n, tt.n-1)
			}
		})
	}
}
