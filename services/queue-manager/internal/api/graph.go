package api

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// GraphReader reads a stored graph; store.Store is one.
type GraphReader interface {
	ReadGraph(ctx context.Context, name string, vertex, edge func(doc json.RawMessage) error) error
}

// SetGraphs serves GET /api/v1/workflows/{id}/graph from g.
func (a *API) SetGraphs(g GraphReader) { a.graphs = g }

// Bounds of one graph answer: the MaxGraphVertices earliest vertices (by
// time, then key) and at most MaxGraphEdges of the edges between them.
const (
	MaxGraphVertices = 200
	MaxGraphEdges    = 2000
)

// GraphVertex is a vertex of the graph window, without its features.
type GraphVertex struct {
	Key      string  `json:"key"`
	Symbol   string  `json:"symbol"`
	Time     int64   `json:"time"`
	Close    float64 `json:"close"`
	Label    int     `json:"label"`
	Snapshot *int    `json:"snapshot,omitempty"`
}

// GraphEdge joins two vertices of the window by key.
type GraphEdge struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	Weight   float64 `json:"weight"`
	Relation string  `json:"relation,omitempty"`
}

// GraphWindow is the answer: a bounded window of the workflow's graph.
type GraphWindow struct {
	Workflow string `json:"workflow"`
	Step     string `json:"step"`
	Graph    string `json:"graph"`
	// Kind and Method are the graph step's (visibility, horizontal,
	// correlation; mst, threshold, topk), empty when its result lacks them.
	Kind   string `json:"kind,omitempty"`
	Method string `json:"method,omitempty"`
	// Nodes and Edges count the whole stored graph; Truncated is set when
	// the window holds less of it.
	Nodes     int           `json:"nodes"`
	Edges     int           `json:"edges"`
	Truncated bool          `json:"truncated"`
	Vertices  []GraphVertex `json:"vertices"`
	Links     []GraphEdge   `json:"links"`
}

// earliest is a max-heap on (time, key): its top is the latest vertex
// kept, the one a yet earlier vertex displaces.
type earliest []GraphVertex

func later(x, y GraphVertex) int {
	return cmp.Or(cmp.Compare(x.Time, y.Time), cmp.Compare(x.Key, y.Key))
}

func (h earliest) Len() int           { return len(h) }
func (h earliest) Less(i, j int) bool { return later(h[i], h[j]) > 0 }
func (h earliest) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *earliest) Push(x any)        { *h = append(*h, x.(GraphVertex)) }
func (h *earliest) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// graphStep is the workflow's graph step, or a problem to answer.
func graphStep(wf *flow.Workflow) (*flow.Step, int, string) {
	for _, s := range wf.Steps {
		if s.Kind != flow.KindGraph {
			continue
		}
		if s.State != flow.Finished {
			return nil, http.StatusConflict, fmt.Sprintf("the graph step %s is %s: its graph is shown once it finished", s.ID, s.State)
		}
		return s, 0, ""
	}
	return nil, http.StatusNotFound, fmt.Sprintf("workflow %s has no graph step", wf.ID)
}

// getGraph serves a window of the workflow's graph: the earliest
// MaxGraphVertices vertices and the edges between them, read from the
// store (one pass over the graph, in bounded memory).
func (a *API) getGraph(w http.ResponseWriter, r *http.Request) {
	for name := range r.URL.Query() {
		a.fail(w, &protocol.FieldError{Field: name, Problem: "unknown parameter (this endpoint takes none)"})
		return
	}
	wf, err := a.eng.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.graphs == nil {
		problem(w, http.StatusNotFound, "not found", "this queue-manager reads no graphs", "")
		return
	}
	s, status, why := graphStep(wf)
	if s == nil {
		title := "not found"
		if status == http.StatusConflict {
			title = "conflict"
		}
		problem(w, status, title, why, "")
		return
	}
	out := GraphWindow{Workflow: wf.ID, Step: s.ID, Graph: s.Collection, Vertices: []GraphVertex{}, Links: []GraphEdge{}}
	var res struct {
		Graph  string `json:"graph"`
		Kind   string `json:"kind"`
		Method string `json:"method"`
	}
	if len(s.Result) > 0 && json.Unmarshal(s.Result, &res) == nil {
		out.Kind, out.Method = res.Kind, res.Method
		if res.Graph != "" {
			out.Graph = res.Graph
		}
	}
	keep := &earliest{}
	var in map[string]bool
	err = a.graphs.ReadGraph(r.Context(), out.Graph, func(doc json.RawMessage) error {
		var v GraphVertex
		if err := json.Unmarshal(doc, &struct {
			Key *string `json:"_key"`
			*GraphVertex
		}{&v.Key, &v}); err != nil {
			return fmt.Errorf("graph %s: vertex: %w", out.Graph, err)
		}
		out.Nodes++
		if keep.Len() < MaxGraphVertices {
			heap.Push(keep, v)
		} else if later(v, (*keep)[0]) < 0 {
			(*keep)[0] = v
			heap.Fix(keep, 0)
		}
		return nil
	}, func(doc json.RawMessage) error {
		if in == nil {
			in = make(map[string]bool, keep.Len())
			for _, v := range *keep {
				in[v.Key] = true
			}
		}
		var e struct {
			From     string  `json:"_from"`
			To       string  `json:"_to"`
			Weight   float64 `json:"weight"`
			Relation string  `json:"relation"`
		}
		if err := json.Unmarshal(doc, &e); err != nil {
			return fmt.Errorf("graph %s: edge: %w", out.Graph, err)
		}
		out.Edges++
		from, to := vertexKey(e.From), vertexKey(e.To)
		if !in[from] || !in[to] {
			return nil
		}
		if len(out.Links) == MaxGraphEdges {
			out.Truncated = true
			return nil
		}
		out.Links = append(out.Links, GraphEdge{From: from, To: to, Weight: e.Weight, Relation: e.Relation})
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(w, http.StatusNotFound, "not found", fmt.Sprintf("graph %s of workflow %s is not in the store (purged?)", out.Graph, wf.ID), "")
		return
	case err != nil:
		a.fail(w, err)
		return
	}
	out.Vertices = append(out.Vertices, *keep...)
	slices.SortFunc(out.Vertices, later)
	out.Truncated = out.Truncated || out.Nodes > len(out.Vertices)
	writeJSON(w, http.StatusOK, out)
}

// vertexKey is the key of an edge end ("vertices/BTCUSDT_1722470400000").
func vertexKey(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
