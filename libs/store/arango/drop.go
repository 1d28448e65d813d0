package arango

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/arangodb/go-driver/v2/connection"
)

// DropCollection removes the collection with its documents and indexes:
// DELETE /_api/collection/{name}, after GET /_api/gharial has shown that no
// graph uses it (one that a graph uses is refused: drop the graph instead).
// A collection that does not exist (404, error 1203) is not an error; the
// error wraps store.ErrUnavailable when the server cannot be reached.
func (s *Store) DropCollection(ctx context.Context, name string) error {
	if err := checkName("collection", name); err != nil {
		return fmt.Errorf("drop collection: %w", err)
	}
	graph, err := s.graphUsing(ctx, name)
	if err != nil {
		return fmt.Errorf("drop collection %s: %w", name, err)
	}
	if graph != "" {
		return fmt.Errorf("drop collection %s: it belongs to graph %s: drop the graph", name, graph)
	}
	resp, body, err := connection.CallStream(ctx, s.conn, http.MethodDelete, s.dbPath("_api", "collection", name))
	if err != nil {
		return fmt.Errorf("drop collection %s: %w", name, classify(err))
	}
	defer drain(body)
	if resp.Code() == http.StatusOK {
		s.edges.Delete(name)
		return nil
	}
	err = classify(readError(resp.Code(), body))
	if hasErrorNum(err, errNumNoCollection) {
		s.edges.Delete(name)
		return nil
	}
	return fmt.Errorf("drop collection %s: %w", name, err)
}

// graphList is GET /_api/gharial's answer, the parts read here.
type graphList struct {
	Graphs []struct {
		Name            string `json:"name"`
		EdgeDefinitions []struct {
			Collection string   `json:"collection"`
			From       []string `json:"from"`
			To         []string `json:"to"`
		} `json:"edgeDefinitions"`
		OrphanCollections []string `json:"orphanCollections"`
	} `json:"graphs"`
}

// graphUsing names a graph of the database that uses collection as a
// vertex, edge or orphan collection, "" when none does.
func (s *Store) graphUsing(ctx context.Context, collection string) (string, error) {
	resp, body, err := connection.CallStream(ctx, s.conn, http.MethodGet, s.dbPath("_api", "gharial"))
	if err != nil {
		return "", fmt.Errorf("list graphs: %w", classify(err))
	}
	defer drain(body)
	if resp.Code() != http.StatusOK {
		return "", fmt.Errorf("list graphs: %w", classify(readError(resp.Code(), body)))
	}
	var gl graphList
	if err := json.NewDecoder(io.LimitReader(body, 64<<20)).Decode(&gl); err != nil {
		return "", fmt.Errorf("list graphs: %w", classify(err))
	}
	for _, g := range gl.Graphs {
		uses := slices.Contains(g.OrphanCollections, collection)
		for _, d := range g.EdgeDefinitions {
			uses = uses || d.Collection == collection || slices.Contains(d.From, collection) || slices.Contains(d.To, collection)
		}
		if uses {
			return g.Name, nil
		}
	}
	return "", nil
}
