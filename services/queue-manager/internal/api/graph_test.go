package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// finishStep sends a step's finished event with result.
func finishStep(t *testing.T, eng *flow.Engine, s *flow.Step, result string) {
	t.Helper()
	ev := protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusFinished, Finished: true,
		Timestamp: protocol.Timestamp(time.Now()), RunID: s.ID + ".1"}
	if result != "" {
		ev.Result = json.RawMessage(result)
	}
	if err := eng.OnEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

// TestWorkflowGraph: the graph of a workflow's finished graph step, as a
// window of its earliest vertices and the edges between them; problems
// while there is none to show.
func TestWorkflowGraph(t *testing.T) {
	st, repo, eng := testEngine(t)
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetGraphs(st)
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	create := func(steps string) flow.Workflow {
		resp, body := do(t, http.MethodPost, srv.URL+"/api/v1/workflows",
			`{"symbols":["BTCUSDT"],"types":["api_candles_1m"],"time_range":"2024-08-01:2024-08-02","steps":[`+steps+`]}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		var w flow.Workflow
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	problemOf := func(url string, status int, words string) {
		t.Helper()
		resp, body := do(t, http.MethodGet, url, "")
		if resp.StatusCode != status || !strings.Contains(string(body), words) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("GET %s: %d %s %s, want %d problem+json saying %q", url, resp.StatusCode, resp.Header.Get("Content-Type"), body, status, words)
		}
	}

	w := create(`"load","store","graph"`)
	url := srv.URL + "/api/v1/workflows/" + w.ID + "/graph"
	problemOf(url, http.StatusConflict, "graph step")
	problemOf(url+"?limit=5", http.StatusBadRequest, "limit")
	problemOf(srv.URL+"/api/v1/workflows/nope/graph", http.StatusNotFound, "workflow not found")
	plain := create(`"load"`)
	problemOf(srv.URL+"/api/v1/workflows/"+plain.ID+"/graph", http.StatusNotFound, "no graph step")

	for _, s := range w.Steps[:2] {
		finishStep(t, eng, s, "")
	}
	g := w.Steps[2]
	finishStep(t, eng, g, fmt.Sprintf(`{"graph":%q,"kind":"visibility","nodes":250}`, g.Collection))
	problemOf(url, http.StatusNotFound, "not in the store")

	// 250 points, stored latest first, with a visibility edge from each to
	// the next two.
	vc, ec := g.Collection+"_vertices", g.Collection+"_edges"
	if err := st.EnsureGraph(t.Context(), store.Graph{Name: g.Collection, VertexCollection: vc, EdgeCollection: ec}); err != nil {
		t.Fatal(err)
	}
	const n = 250
	key := func(i int) string { return fmt.Sprintf("BTCUSDT_%d", 1722470400000+int64(n-1-i)*60000) }
	var vs, es []json.RawMessage
	for i := range n {
		vs = append(vs, json.RawMessage(fmt.Sprintf(`{"_key":%q,"symbol":"BTCUSDT","time":%d,"close":%d,"features":[1,2],"label":%d}`,
			key(i), 1722470400000+int64(n-1-i)*60000, 60000+i, i%2)))
		for _, d := range []int{1, 2} {
			if i+d < n {
				es = append(es, json.RawMessage(fmt.Sprintf(`{"_key":"%s-%s","_from":"%s/%s","_to":"%s/%s","weight":1,"relation":"visible"}`,
					key(i+d), key(i), vc, key(i+d), vc, key(i))))
			}
		}
	}
	if _, err := st.Upsert(t.Context(), vc, vs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upsert(t.Context(), ec, es); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, http.MethodGet, url, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET graph: %d %s", resp.StatusCode, body)
	}
	var got GraphWindow
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Graph != g.Collection || got.Kind != "visibility" || got.Nodes != n || got.Edges != len(es) || !got.Truncated {
		t.Errorf("window: graph %q kind %q nodes %d edges %d truncated %v; want %q visibility %d %d true",
			got.Graph, got.Kind, got.Nodes, got.Edges, got.Truncated, g.Collection, n, len(es))
	}
	if len(got.Vertices) != MaxGraphVertices {
		t.Fatalf("%d vertices, want the %d earliest", len(got.Vertices), MaxGraphVertices)
	}
	in := map[string]bool{}
	for i, v := range got.Vertices {
		if want := int64(1722470400000 + int64(i)*60000); v.Time != want || v.Symbol != "BTCUSDT" || v.Key == "" {
			t.Fatalf("vertex %d: %+v, want time %d (the earliest, in time order)", i, v, want)
		}
		in[v.Key] = true
	}
	// Between 200 consecutive points, each joined to the next two: 199 +
	// 198 edges.
	if len(got.Links) != 199+198 {
		t.Errorf("%d edges, want the 397 between the window's points", len(got.Links))
	}
	for _, e := range got.Links {
		if !in[e.From] || !in[e.To] || e.Relation != "visible" {
			t.Fatalf("edge %+v: an end outside the window", e)
		}
	}
}
