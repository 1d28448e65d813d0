package arango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

var correlation = store.Graph{Name: "correlation", VertexCollection: "symbols", EdgeCollection: "correlations"}

// graphBody is the graph object of gharial's answers (graphs/named-graphs.md,
// "Create a graph" 202 and "Get a graph" 200).
const graphBody = `{"error":false,"code":%d,"graph":{"_key":"correlation","_id":"_graphs/correlation","_rev":"_gx",
	"name":"correlation","numberOfShards":1,"replicationFactor":1,"minReplicationFactor":1,"writeConcern":1,
	"isSmart":false,"isDisjoint":false,"isSatellite":false,"orphanCollections":[],
	"edgeDefinitions":[{"collection":"correlations","from":["symbols"],"to":["symbols"]}]}}`

func TestEnsureGraph(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{name: "created", h: reply(202, fmt.Sprintf(graphBody, 202))},
		// named-graphs.md, "Create a graph": 409 when a graph of that name
		// exists (error 1925, graph already exists).
		{name: "exists", h: arangoErr(409, 1925, "graph already exists")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("POST /_db/testdb/_api/gharial", tt.h)
			if err := s.EnsureGraph(t.Context(), correlation); err != nil {
				t.Fatalf("EnsureGraph: %v", err)
			}
			checkLines(t, f, "POST /_db/testdb/_api/gharial")
			var body struct {
				Name            string           `json:"name"`
				EdgeDefinitions []map[string]any `json:"edgeDefinitions"`
				IsSmart         bool             `json:"isSmart"`
			}
			if err := json.Unmarshal(f.requests()[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			want := []map[string]any{{"collection": "correlations", "from": []any{"symbols"}, "to": []any{"symbols"}}}
			if body.Name != "correlation" || body.IsSmart {
				t.Errorf("graph name %q, isSmart %v; want correlation, a general graph", body.Name, body.IsSmart)
			}
			if diff := cmp.Diff(want, body.EdgeDefinitions); diff != "" {
				t.Errorf("edgeDefinitions (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("conflicting edge definition", func(t *testing.T) {
		f := newFake(t)
		s := f.open()
		f.handle("POST /_db/testdb/_api/gharial", arangoErr(400, 1920, "multi use of edge collection in edge def"))
		if err := s.EnsureGraph(t.Context(), correlation); err == nil {
			t.Error("EnsureGraph: no error")
		}
	})
}

func TestReadGraph(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("GET /_db/testdb/_api/gharial/correlation", reply(200, fmt.Sprintf(graphBody, 200)))
	f.handle("POST /_db/testdb/_api/cursor", func(w http.ResponseWriter, r *http.Request) {
		var cr cursorRequest
		if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
			t.Errorf("cursor request: %v", err)
		}
		if cr.Query != graphQuery || !cr.Options.Stream {
			t.Errorf("query %q (stream %v), want %q streaming", cr.Query, cr.Options.Stream, graphQuery)
		}
		switch cr.BindVars["@col"] {
		case "symbols":
			reply(201, cursorBody(201, "", false, `{"_key":"btc","symbol":"BTCUSDT"}`, `{"_key":"eth","symbol":"ETHUSDT"}`))(w, r)
		case "correlations":
			reply(201, cursorBody(201, "", false, `{"_key":"btc-eth","_from":"symbols/btc","_to":"symbols/eth","w":0.9}`))(w, r)
		default:
			t.Errorf("query of collection %v", cr.BindVars["@col"])
		}
	})
	var events []string
	key := func(kind string) func(json.RawMessage) error {
		return func(doc json.RawMessage) error {
			var d struct {
				Key string `json:"_key"`
			}
			err := json.Unmarshal(doc, &d)
			events = append(events, kind+" "+d.Key)
			return err
		}
	}
	if err := s.ReadGraph(t.Context(), "correlation", key("vertex"), key("edge")); err != nil {
		t.Fatalf("ReadGraph: %v", err)
	}
	if diff := cmp.Diff([]string{"vertex btc", "vertex eth", "edge btc-eth"}, events); diff != "" {
		t.Errorf("callbacks (-want +got):\n%s", diff)
	}
	checkLines(t, f, "GET /_db/testdb/_api/gharial/correlation", "POST /_db/testdb/_api/cursor", "POST /_db/testdb/_api/cursor")
}

func TestReadGraphUnknown(t *testing.T) {
	f := newFake(t)
	s := f.open()
	// named-graphs.md, "Get a graph": 404 when there is no such graph
	// (error 1924, graph not found).
	f.handle("GET /_db/testdb/_api/gharial/nosuchgraph", arangoErr(404, 1924, "graph 'nosuchgraph' not found"))
	noop := func(json.RawMessage) error { return nil }
	if err := s.ReadGraph(t.Context(), "nosuchgraph", noop, noop); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadGraph of an unknown graph: %v, want ErrNotFound", err)
	}
}

func TestDropGraph(t *testing.T) {
	for _, tt := range []struct {
		name        string
		h           http.HandlerFunc
		wantErr     bool
		unavailable bool
	}{
		// named-graphs.md, "Drop a graph": 202 (or 200 with waitForSync)
		// with {"removed":true}.
		{name: "dropped", h: reply(202, `{"error":false,"code":202,"removed":true}`)},
		{name: "synced", h: reply(200, `{"error":false,"code":200,"removed":true}`)},
		// 404 with error 1924 when there is no such graph: nothing to drop.
		{name: "missing", h: arangoErr(404, 1924, "graph 'correlation' not found")},
		// general-request-handling.md: 503 when the server is not ready.
		{name: "unavailable", h: arangoErr(503, 503, "service unavailable"), wantErr: true, unavailable: true},
		{name: "forbidden", h: arangoErr(403, 11, "not authorized to execute this request"), wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("DELETE /_db/testdb/_api/gharial/correlation", tt.h)
			err := s.DropGraph(t.Context(), "correlation")
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("DropGraph: %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tt.unavailable {
				t.Errorf("DropGraph error %v: errors.Is(ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			reqs := f.requests()
			if len(reqs) == 0 {
				t.Fatal("no request sent")
			}
			last := reqs[len(reqs)-1]
			if got := last.String(); got != "DELETE /_db/testdb/_api/gharial/correlation" {
				t.Errorf("request %s, want DELETE /_db/testdb/_api/gharial/correlation", got)
			}
			if got := last.Query.Get("dropCollections"); got != "true" {
				t.Errorf("dropCollections=%q, want true: the graph's collections go with it", got)
			}
		})
	}
}
