package arango

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/arangodb/go-driver/v2/arangodb"
	"github.com/arangodb/go-driver/v2/connection"

	"github.com/streamforge/streamforge/libs/store"
)

// EnsureGraph creates the named graph through the gharial API
// (POST /_api/gharial with one edge definition from and to the vertex
// collection), which creates its collections when missing. A graph of that
// name that exists already is left as it is. The error wraps
// store.ErrUnavailable when the server cannot be reached.
func (s *Store) EnsureGraph(ctx context.Context, g store.Graph) error {
	for _, n := range [][2]string{{"graph", g.Name}, {"vertex collection", g.VertexCollection}, {"edge collection", g.EdgeCollection}} {
		if err := checkName(n[0], n[1]); err != nil {
			return fmt.Errorf("ensure graph: %w", err)
		}
	}
	def := &arangodb.GraphDefinition{EdgeDefinitions: []arangodb.EdgeDefinition{{
		Collection: g.EdgeCollection,
		From:       []string{g.VertexCollection},
		To:         []string{g.VertexCollection},
	}}}
	if _, err := s.db.CreateGraph(ctx, g.Name, def, nil); err != nil && !hasErrorNum(err, errNumGraphDuplicate) {
		return fmt.Errorf("create graph %s: %w", g.Name, classify(err))
	}
	s.edges.Store(g.VertexCollection, false)
	s.edges.Store(g.EdgeCollection, true)
	return nil
}

// graphQuery reads a whole collection of a graph in _key order.
const graphQuery = `FOR d IN @@col SORT d._key RETURN UNSET(d, "_id", "_rev")`

// ReadGraph calls vertex for each document of the graph's vertex
// collections, then edge for each document of its edge collections, each
// collection in _key order (AQL's order: the suite's keys sort the same in
// bytes and in ArangoDB's collation). The graph's definition comes from
// GET /_api/gharial/{name}; the error wraps store.ErrNotFound when there is
// no such graph. An error from a callback stops the read and is returned.
func (s *Store) ReadGraph(ctx context.Context, name string, vertex, edge func(doc json.RawMessage) error) error {
	if err := checkName("graph", name); err != nil {
		return fmt.Errorf("read graph: %w", err)
	}
	g, err := s.db.Graph(ctx, name, nil)
	if err != nil {
		return fmt.Errorf("read graph %s: %w", name, classify(err))
	}
	var vertices, edges []string
	for _, d := range g.EdgeDefinitions() {
		edges = append(edges, d.Collection)
		vertices = append(vertices, d.From...)
		vertices = append(vertices, d.To...)
	}
	vertices = append(vertices, g.OrphanCollections()...)
	slices.Sort(vertices)
	slices.Sort(edges)
	for _, part := range []struct {
		collections []string
		fn          func(json.RawMessage) error
	}{{slices.Compact(vertices), vertex}, {slices.Compact(edges), edge}} {
		for _, c := range part.collections {
			if err := s.query(ctx, graphQuery, map[string]any{"@col": c}, true, part.fn); err != nil {
				return fmt.Errorf("read graph %s, collection %s: %w", name, c, err)
			}
		}
	}
	return nil
}

// DropGraph removes the named graph and its collections with one request,
// DELETE /_api/gharial/{name}?dropCollections=true (collections another
// graph also uses are kept by the server). A graph that does not exist
// (404, error 1924) is not an error; the error wraps store.ErrUnavailable
// when the server cannot be reached.
func (s *Store) DropGraph(ctx context.Context, name string) error {
	if err := checkName("graph", name); err != nil {
		return fmt.Errorf("drop graph: %w", err)
	}
	resp, body, err := connection.CallStream(ctx, s.conn, http.MethodDelete, s.dbPath("_api", "gharial", name),
		connection.WithQuery("dropCollections", "true"))
	if err != nil {
		return fmt.Errorf("drop graph %s: %w", name, classify(err))
	}
	defer drain(body)
	switch resp.Code() {
	case http.StatusOK, http.StatusAccepted:
		return nil
	}
	err = classify(readError(resp.Code(), body))
	if hasErrorNum(err, errNumGraphNotFound) {
		return nil
	}
	return fmt.Errorf("drop graph %s: %w", name, err)
}
