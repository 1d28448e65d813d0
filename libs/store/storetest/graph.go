package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

var correlation = store.Graph{Name: "correlation", VertexCollection: "symbols", EdgeCollection: "correlations"}

// edgeEnds is what the graph test checks of an edge besides its key.
type edgeEnds struct{ From, To string }

func testGraphRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 2 {
		if err := s.EnsureGraph(ctx, correlation); err != nil {
			t.Fatalf("EnsureGraph #%d: %v", i+1, err)
		}
	}
	const nv = 20
	var vertices, edges []json.RawMessage
	var vertexKeys, edgeKeys []string
	wantEnds := make(map[string]edgeEnds)
	for i := range nv {
		k := fmt.Sprintf("sym%02d", i)
		vertexKeys = append(vertexKeys, k)
		vertices = append(vertices, json.RawMessage(fmt.Sprintf(`{"_key":%q,"symbol":"SYM%02d","rank":%d}`, k, i, i)))
	}
	for i := range nv {
		for _, d := range []int{1, 3} {
			j := (i + d) % nv
			k := fmt.Sprintf("e-%02d-%02d", i, j)
			ends := edgeEnds{From: correlation.VertexCollection + "/" + vertexKeys[i], To: correlation.VertexCollection + "/" + vertexKeys[j]}
			edgeKeys = append(edgeKeys, k)
			wantEnds[k] = ends
			edges = append(edges, json.RawMessage(fmt.Sprintf(`{"_key":%q,"_from":%q,"_to":%q,"weight":%.3f}`,
				k, ends.From, ends.To, float64(i*j%17)/17)))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, docs := range [][]json.RawMessage{vertices, edges} {
		rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	}
	upsertAll(t, s, correlation.VertexCollection, vertices, 7)
	upsertAll(t, s, correlation.EdgeCollection, edges, 7)

	var events []string
	gotEnds := make(map[string]edgeEnds)
	err := s.ReadGraph(ctx, correlation.Name,
		func(doc json.RawMessage) error {
			events = append(events, "vertex "+keyOf(t, doc))
			return nil
		},
		func(doc json.RawMessage) error {
			var e struct {
				Key  string `json:"_key"`
				From string `json:"_from"`
				To   string `json:"_to"`
			}
			if err := json.Unmarshal(doc, &e); err != nil {
				return err
			}
			events = append(events, "edge "+e.Key)
			gotEnds[e.Key] = edgeEnds{From: e.From, To: e.To}
			return nil
		})
	if err != nil {
		t.Fatalf("ReadGraph: %v", err)
	}
	var want []string
	for _, k := range slices.Sorted(slices.Values(vertexKeys)) {
		want = append(want, "vertex "+k)
	}
	for _, k := range slices.Sorted(slices.Values(edgeKeys)) {
		want = append(want, "edge "+k)
	}
	if diff := gocmp.Diff(want, events); diff != "" {
		t.Errorf("ReadGraph order (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(wantEnds, gotEnds); diff != "" {
		t.Errorf("edge ends (-want +got):\n%s", diff)
	}

	errStop := errors.New("enough")
	edgeCalled := false
	err = s.ReadGraph(ctx, correlation.Name,
		func(json.RawMessage) error { return errStop },
		func(json.RawMessage) error { edgeCalled = true; return nil })
	if !errors.Is(err, errStop) {
		t.Errorf("ReadGraph with a failing vertex callback: %v, want its error", err)
	}
	if edgeCalled {
		t.Error("ReadGraph went on to the edges after the vertex callback failed")
	}
}

func testGraphUnknown(t *testing.T, s store.Store) {
	noop := func(json.RawMessage) error { return nil }
	if err := s.ReadGraph(t.Context(), "nosuchgraph", noop, noop); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadGraph of an unknown graph: %v, want ErrNotFound", err)
	}
}

// testGraphDrop: a dropped graph is gone with its documents, and the graph
// built again under the same name holds only what was written after the
// drop. Dropping a graph that is not there is not an error.
func testGraphDrop(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.DropGraph(ctx, correlation.Name); err != nil {
		t.Fatalf("DropGraph of a graph that does not exist: %v", err)
	}
	write := func(keys ...string) {
		t.Helper()
		if err := s.EnsureGraph(ctx, correlation); err != nil {
			t.Fatalf("EnsureGraph: %v", err)
		}
		var vs, es []json.RawMessage
		for i, k := range keys {
			vs = append(vs, json.RawMessage(fmt.Sprintf(`{"_key":%q}`, k)))
			if i > 0 {
				es = append(es, json.RawMessage(fmt.Sprintf(`{"_key":"%s-%s","_from":"%s/%s","_to":"%s/%s"}`,
					keys[i-1], k, correlation.VertexCollection, keys[i-1], correlation.VertexCollection, k)))
			}
		}
		upsertAll(t, s, correlation.VertexCollection, vs, 10)
		upsertAll(t, s, correlation.EdgeCollection, es, 10)
	}
	read := func() []string {
		t.Helper()
		var got []string
		add := func(kind string) func(json.RawMessage) error {
			return func(doc json.RawMessage) error { got = append(got, kind+" "+keyOf(t, doc)); return nil }
		}
		if err := s.ReadGraph(ctx, correlation.Name, add("vertex"), add("edge")); err != nil {
			t.Fatalf("ReadGraph: %v", err)
		}
		return got
	}
	write("v1", "v2", "v3")
	if err := s.DropGraph(ctx, correlation.Name); err != nil {
		t.Fatalf("DropGraph: %v", err)
	}
	noop := func(json.RawMessage) error { return nil }
	if err := s.ReadGraph(ctx, correlation.Name, noop, noop); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadGraph after DropGraph: %v, want ErrNotFound", err)
	}
	write("v2", "v4")
	want := []string{"vertex v2", "vertex v4", "edge v2-v4"}
	if diff := gocmp.Diff(want, read()); diff != "" {
		t.Errorf("the graph built again (-want +got):\n%s", diff)
	}
}
