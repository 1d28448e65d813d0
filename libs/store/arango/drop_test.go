package arango

import (
	"errors"
	"net/http"
	"testing"

	"github.com/streamforge/streamforge/libs/store"
)

// graphsBody is GET /_api/gharial's answer (named-graphs.md, "List all
// graphs": 200 with graphs, each with its edge definitions and orphans).
const graphsBody = `{"error":false,"code":200,"graphs":[{"_key":"btcusdt_graph_2024_08_01_abcdef","_id":"_graphs/btcusdt_graph_2024_08_01_abcdef",
"name":"btcusdt_graph_2024_08_01_abcdef","edgeDefinitions":[{"collection":"btcusdt_graph_2024_08_01_abcdef_edges",
"from":["btcusdt_graph_2024_08_01_abcdef_nodes"],"to":["btcusdt_graph_2024_08_01_abcdef_nodes"]}],"orphanCollections":["spare"]}]}`

func TestDropCollection(t *testing.T) {
	const (
		list = "GET /_db/testdb/_api/gharial"
		del  = "DELETE /_db/testdb/_api/collection/"
	)
	for _, tt := range []struct {
		name        string
		collection  string
		graphs      http.HandlerFunc
		drop        http.HandlerFunc
		want        []string // requests
		wantErr     bool
		unavailable bool
	}{
		// collection.md, "Drop a collection": 200 with the collection's id.
		{name: "dropped", collection: "btcusdt_api_candles_5m_2024_08_01", graphs: reply(200, graphsBody),
			drop: reply(200, `{"error":false,"code":200,"id":"4712"}`),
			want: []string{list, del + "btcusdt_api_candles_5m_2024_08_01"}},
		// 404 with error 1203 when there is no such collection: nothing to drop.
		{name: "missing", collection: "btcusdt_api_candles_5m_2024_08_01", graphs: reply(200, `{"error":false,"code":200,"graphs":[]}`),
			drop: arangoErr(404, 1203, "collection or view not found"),
			want: []string{list, del + "btcusdt_api_candles_5m_2024_08_01"}},
		// A graph's vertex, edge or orphan collection is refused before any
		// DELETE is sent.
		{name: "vertex collection of a graph", collection: "btcusdt_graph_2024_08_01_abcdef_nodes", graphs: reply(200, graphsBody),
			want: []string{list}, wantErr: true},
		{name: "edge collection of a graph", collection: "btcusdt_graph_2024_08_01_abcdef_edges", graphs: reply(200, graphsBody),
			want: []string{list}, wantErr: true},
		{name: "orphan collection of a graph", collection: "spare", graphs: reply(200, graphsBody),
			want: []string{list}, wantErr: true},
		// general-request-handling.md: 503 when the server is not ready.
		{name: "unavailable listing graphs", collection: "c", graphs: arangoErr(503, 503, "service unavailable"),
			want: []string{list}, wantErr: true, unavailable: true},
		{name: "unavailable dropping", collection: "c", graphs: reply(200, graphsBody), drop: arangoErr(503, 503, "service unavailable"),
			want: []string{list, del + "c"}, wantErr: true, unavailable: true},
		{name: "forbidden", collection: "c", graphs: reply(200, graphsBody), drop: arangoErr(403, 11, "not authorized to execute this request"),
			want: []string{list, del + "c"}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle(list, tt.graphs)
			if tt.drop != nil {
				f.handle(del+tt.collection, tt.drop)
			}
			err := s.DropCollection(t.Context(), tt.collection)
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("DropCollection: %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tt.unavailable {
				t.Errorf("DropCollection error %v: errors.Is(ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			if errors.Is(err, store.ErrNotFound) {
				t.Errorf("DropCollection error %v wraps ErrNotFound", err)
			}
			checkLines(t, f, tt.want...)
		})
	}
}

func TestDropCollectionRejectsBadNames(t *testing.T) {
	f := newFake(t)
	s := f.open()
	if err := s.DropCollection(t.Context(), "../_api/database"); err == nil {
		t.Fatal("DropCollection of a path: nil error")
	}
	checkLines(t, f)
}
