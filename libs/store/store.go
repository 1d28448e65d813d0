// Package store is StreamForge's storage port: market-data documents keyed by
// a deterministic _key, graphs, and the versioned records queue-manager keeps
// its workflows in. Adapters: sqlite (the embedded default, a single file)
// and arango (ArangoDB through github.com/arangodb/go-driver/v2).
//
// Documents are JSON objects. Market-data documents carry "symbol" (string)
// and "time" (epoch milliseconds, UTC); that pair is indexed and is what
// Range reads by. Edge documents also carry "_from" and "_to"
// ("<collection>/<key>"), as in ArangoDB.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Field names with a meaning to the store.
const (
	FieldKey    = "_key"
	FieldFrom   = "_from"
	FieldTo     = "_to"
	FieldSymbol = "symbol"
	FieldTime   = "time"
)

// Errors the adapters return, to be tested with errors.Is.
var (
	// ErrNotFound: the record, collection or graph does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with that key already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: the record changed since it was read (its revision moved).
	ErrConflict = errors.New("revision conflict")
	// ErrUnavailable wraps failures that may pass by themselves (the server
	// is down, the file is locked, a timeout): retry the whole call later.
	ErrUnavailable = errors.New("store unavailable")
)

// Index is a persistent index over Fields, in order.
type Index struct {
	Fields []string
	Unique bool
}

// Collection describes a collection (a table in the embedded store).
type Collection struct {
	Name    string
	Edge    bool // an edge collection: documents carry _from and _to
	Indexes []Index
}

// MarketData returns the description of a market-data collection: documents
// indexed by (symbol, time).
func MarketData(name string) Collection {
	return Collection{Name: name, Indexes: []Index{{Fields: []string{FieldSymbol, FieldTime}}}}
}

// DocError says why one document of a batch was rejected. It is permanent:
// the same document will be rejected again (send it to a dead-letter queue).
type DocError struct {
	Index  int    // position in the batch
	Key    string // the document's _key when it has one
	Reason string
}

func (e *DocError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("document %d (_key %q): %s", e.Index, e.Key, e.Reason)
	}
	return fmt.Sprintf("document %d: %s", e.Index, e.Reason)
}

// Result is the outcome of one document of an Upsert: Err is nil when the
// document is stored, a *DocError when it was rejected.
type Result struct {
	Key string
	Err error
}

// Record is a versioned record (a workflow, a step): optimistic concurrency
// through Rev, which the store sets to 1 on create and increments on every
// update.
type Record struct {
	Key     string
	Rev     int64
	Status  string // indexed, for listing by status
	Symbol  string // indexed, for listing by symbol
	Created time.Time
	Updated time.Time
	Body    json.RawMessage // the caller's JSON object
}

// RecordQuery selects records. Results are ordered by Key; After is the last
// key of the previous page.
type RecordQuery struct {
	Status []string // any of these; empty means any status
	Symbol string   // empty means any symbol
	After  string
	Limit  int // <= 0 means 100
}

// Graph is a named graph with one vertex and one edge collection.
type Graph struct {
	Name             string
	VertexCollection string
	EdgeCollection   string
}

// Store is what the services need from a database. Adapters are safe for
// concurrent use. Every method returns an error wrapping ErrUnavailable when
// the failure may pass by itself.
type Store interface {
	// EnsureCollection creates the collection and its indexes when missing;
	// an existing one is left as it is (missing indexes are added).
	EnsureCollection(ctx context.Context, c Collection) error

	// Upsert writes docs by _key: a new key is inserted, an existing one is
	// replaced, so writing the same documents again changes nothing. It
	// returns one Result per document, in order. A non-nil error means the
	// batch as a whole failed and nothing of it may be assumed written.
	Upsert(ctx context.Context, collection string, docs []json.RawMessage) ([]Result, error)

	// Range calls fn for each document of symbol with from <= time < to
	// (epoch ms), in (time, _key) order, streaming: documents are not all
	// held in memory. An error from fn stops the read and is returned.
	Range(ctx context.Context, collection, symbol string, from, to int64, fn func(doc json.RawMessage) error) error

	// Count returns the number of documents in the collection.
	Count(ctx context.Context, collection string) (int64, error)

	// CountRange returns the number of documents of symbol with from <=
	// time < to (epoch ms): what Range would read. ErrNotFound when the
	// collection does not exist.
	CountRange(ctx context.Context, collection, symbol string, from, to int64) (int64, error)

	// DropCollection removes a document collection (market data) with its
	// documents, its indexes and its name: Count then answers ErrNotFound,
	// and EnsureCollection creates it anew. A collection that does not exist
	// is not an error. A graph's collections go with DropGraph, not this.
	DropCollection(ctx context.Context, name string) error

	// EnsureGraph creates the named graph and its two collections when
	// missing.
	EnsureGraph(ctx context.Context, g Graph) error

	// DropGraph removes the named graph with its vertex and edge
	// collections and their documents, so that building it again leaves
	// nothing of the old one. A graph that does not exist is not an error.
	DropGraph(ctx context.Context, name string) error

	// ReadGraph calls vertex for each vertex, then edge for each edge of the
	// named graph, each in _key order. ErrNotFound when there is no such graph.
	ReadGraph(ctx context.Context, name string, vertex, edge func(doc json.RawMessage) error) error

	// CreateRecord stores a new record (ErrExists when the key is taken) and
	// returns it with Rev 1 and its timestamps set.
	CreateRecord(ctx context.Context, collection string, r Record) (Record, error)

	// GetRecord returns the record (ErrNotFound when missing).
	GetRecord(ctx context.Context, collection, key string) (Record, error)

	// UpdateRecord replaces the record if its stored Rev equals r.Rev
	// (ErrConflict otherwise, ErrNotFound when missing) and returns it with
	// the new Rev.
	UpdateRecord(ctx context.Context, collection string, r Record) (Record, error)

	// ListRecords returns one page of records matching q.
	ListRecords(ctx context.Context, collection string, q RecordQuery) ([]Record, error)

	// DeleteRecord deletes the record if its stored Rev equals rev
	// (ErrConflict otherwise, ErrNotFound when missing).
	DeleteRecord(ctx context.Context, collection, key string, rev int64) error

	// Close releases the store's resources.
	Close() error
}
