package arango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/arangodb/go-driver/v2/arangodb"
	"github.com/arangodb/go-driver/v2/arangodb/shared"
	"github.com/arangodb/go-driver/v2/connection"

	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/libs/store"
)

// docResult is one entry of the array a multi-document insert answers: the
// document's meta data (_id, _key, _rev), or
// {"error":true,"errorNum":...,"errorMessage":...}.
type docResult struct {
	Error        bool   `json:"error"`
	ErrorNum     int    `json:"errorNum"`
	ErrorMessage string `json:"errorMessage"`
}

// Upsert writes docs by _key with one request,
// POST /_api/document/{collection}?overwriteMode=replace, whose body is the
// array of the documents that pass store.Inspect. Documents that fail it,
// and documents the server rejects for good (an illegal key, a unique index
// violated, too large), get a *store.DocError at their index in docs.
//
// The call fails as a whole, with an error wrapping store.ErrUnavailable,
// when the server cannot be reached or answers 5xx, and when it rejects any
// document for a passing reason (read-only, write concern not met, a cluster
// timeout, see transientErrorNums): dead-lettering such a document would
// lose it, and resending the batch is harmless because replace is
// idempotent. Write-write conflicts with a concurrent writer are resent
// here first (WithConflictRetries).
//
// A collection that does not exist is created as market data
// (store.MarketData: indexed by symbol and time) and the batch sent again,
// so a connector can write to a new collection without setting it up.
func (s *Store) Upsert(ctx context.Context, collection string, docs []json.RawMessage) ([]store.Result, error) {
	if err := checkName("collection", collection); err != nil {
		return nil, fmt.Errorf("upsert: %w", err)
	}
	if len(docs) == 0 {
		return []store.Result{}, nil
	}
	edge, err := s.isEdge(ctx, collection)
	if errors.Is(err, store.ErrNotFound) {
		edge, err = false, s.createMarketData(ctx, collection)
	}
	if err != nil {
		return nil, fmt.Errorf("upsert into %s: %w", collection, err)
	}

	results := make([]store.Result, len(docs))
	send := make([]json.RawMessage, 0, len(docs))
	at := make([]int, 0, len(docs)) // at[j] is the index in docs of send[j]
	for i, doc := range docs {
		meta, derr := store.Inspect(i, doc, edge)
		if derr != nil {
			results[i] = store.Result{Key: derr.Key, Err: derr}
			continue
		}
		results[i].Key = meta.Key
		send = append(send, doc)
		at = append(at, i)
	}
	if len(send) == 0 {
		return results, nil
	}

	answers, err := s.insertReplacing(ctx, collection, send)
	if errors.Is(err, store.ErrNotFound) && hasErrorNum(err, errNumNoCollection) {
		// Dropped since it was looked up.
		s.edges.Delete(collection)
		if err := s.createMarketData(ctx, collection); err != nil {
			return nil, fmt.Errorf("upsert into %s: %w", collection, err)
		}
		answers, err = s.insertReplacing(ctx, collection, send)
	}
	if err != nil {
		return nil, fmt.Errorf("upsert %d documents into %s: %w", len(send), collection, err)
	}
	for j, a := range answers {
		if !a.Error {
			continue
		}
		i := at[j]
		results[i].Err = &store.DocError{
			Index:  i,
			Key:    results[i].Key,
			Reason: fmt.Sprintf("rejected by arangodb: %s (error %d)", a.ErrorMessage, a.ErrorNum),
		}
	}
	return results, nil
}

// createMarketData creates a missing collection as market data.
func (s *Store) createMarketData(ctx context.Context, collection string) error {
	if err := s.EnsureCollection(ctx, store.MarketData(collection)); err != nil {
		return fmt.Errorf("create missing collection: %w", err)
	}
	return nil
}

// contentionErrorNums are the errors of documents that a concurrent writer
// held: a write-write conflict (1200), or a lock not granted in time (18)
// or given up to break a deadlock (29).
var contentionErrorNums = []int{errNumConflict, shared.ErrLockTimeout, shared.ErrDeadlock}

// insertReplacing sends docs in one multi-document insert and returns the
// per-document answers, resending the batch while some documents meet
// a concurrent writer (contentionErrorNums). An answer with another
// transient error fails the call.
func (s *Store) insertReplacing(ctx context.Context, collection string, docs []json.RawMessage) ([]docResult, error) {
	// No cap of its own: the tries are few (WithConflictRetries), so the
	// last wait stays far below retry's default cap.
	backoff := retry.Backoff{Base: s.opts.backoff}
	for try := 0; ; try++ {
		answers, err := s.insertOnce(ctx, collection, docs)
		var conflicts int
		switch {
		case hasErrorNum(err, contentionErrorNums...):
			// The whole request met a conflict: resend it like a batch with
			// conflicting documents.
			conflicts = len(docs)
		case err != nil:
			return nil, err
		case len(answers) != len(docs):
			return nil, fmt.Errorf("arangodb answered %d results for %d documents", len(answers), len(docs))
		}
		var transient *docResult
		for j := range answers {
			switch a := &answers[j]; {
			case !a.Error:
			case slices.Contains(contentionErrorNums, a.ErrorNum):
				conflicts++
			case transientErrorNums[a.ErrorNum]:
				transient = a
			}
		}
		if transient != nil {
			return nil, fmt.Errorf("%w: arangodb rejected a document for now: %s (error %d)",
				store.ErrUnavailable, transient.ErrorMessage, transient.ErrorNum)
		}
		if conflicts == 0 {
			return answers, nil
		}
		if try >= s.opts.conflicts {
			return nil, fmt.Errorf("%w: %d documents still held by concurrent writers after %d tries", store.ErrUnavailable, conflicts, try+1)
		}
		// Resend the whole batch, not only the conflicting documents: a key
		// written twice in one batch must end with its last version.
		var wait time.Duration
		if s.opts.backoff > 0 { // a zero backoff resends at once
			wait = backoff.Delay(try)
		}
		if !retry.Sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
}

// insertOnce is one POST /_db/{db}/_api/document/{collection}.
func (s *Store) insertOnce(ctx context.Context, collection string, docs []json.RawMessage) ([]docResult, error) {
	resp, body, err := connection.CallStream(ctx, s.conn, http.MethodPost, s.dbPath("_api", "document", collection),
		connection.WithQuery("overwriteMode", "replace"), connection.WithBody(docs))
	if err != nil {
		return nil, classify(err)
	}
	defer drain(body)
	switch resp.Code() {
	case http.StatusCreated, http.StatusAccepted:
		var answers []docResult
		if err := json.NewDecoder(body).Decode(&answers); err != nil {
			return nil, classify(fmt.Errorf("read per-document results: %w", err))
		}
		return answers, nil
	default:
		return nil, classify(readError(resp.Code(), body))
	}
}

// drain reads what is left of a response body, so the connection can be
// reused, and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
	_ = body.Close() // nothing to do about a body that does not close
}

// rangeQuery reads by the (symbol, time) persistent index, which also gives
// the time order; ties on time are put in _key order here (see tieBreaker).
const rangeQuery = `FOR d IN @@col
  FILTER d.symbol == @symbol AND d.time >= @from AND d.time < @to
  SORT d.time
  RETURN UNSET(d, "_id", "_rev")`

// Range calls fn for each document of symbol with from <= time < to, in
// (time, _key) order, through a streaming AQL cursor read a batch at a time.
// The documents are as written: ArangoDB's _id and _rev are left out. An
// error from fn stops the read and is returned; the error wraps
// store.ErrNotFound when the collection does not exist.
//
// Sorting by time alone lets ArangoDB serve the order from the index and
// stream; sorting by (time, _key) on the server would make it sort the whole
// range in memory before answering. Documents with the same time are few and
// are sorted here, by _key in byte order, like the embedded store.
func (s *Store) Range(ctx context.Context, collection, symbol string, from, to int64, fn func(doc json.RawMessage) error) error {
	if err := checkName("collection", collection); err != nil {
		return fmt.Errorf("range: %w", err)
	}
	bind := map[string]any{"@col": collection, "symbol": symbol, "from": from, "to": to}
	var tb tieBreaker
	err := s.query(ctx, rangeQuery, bind, true, func(doc json.RawMessage) error { return tb.add(doc, fn) })
	if err == nil {
		err = tb.flush(fn)
	}
	if err != nil {
		return fmt.Errorf("range %s %s [%d, %d): %w", collection, symbol, from, to, err)
	}
	return nil
}

// countRangeQuery counts what rangeQuery reads, from the same index.
const countRangeQuery = `FOR d IN @@col
  FILTER d.symbol == @symbol AND d.time >= @from AND d.time < @to
  COLLECT WITH COUNT INTO n
  RETURN n`

// CountRange returns the number of documents of symbol with from <= time <
// to, counted by the server (one AQL query over the (symbol, time) index).
// The error wraps store.ErrNotFound when the collection does not exist.
func (s *Store) CountRange(ctx context.Context, collection, symbol string, from, to int64) (int64, error) {
	if err := checkName("collection", collection); err != nil {
		return 0, fmt.Errorf("count range: %w", err)
	}
	var n int64
	bind := map[string]any{"@col": collection, "symbol": symbol, "from": from, "to": to}
	if _, err := s.queryOne(ctx, countRangeQuery, bind, &n); err != nil {
		return 0, fmt.Errorf("count %s %s [%d, %d): %w", collection, symbol, from, to, err)
	}
	return n, nil
}

// tieBreaker holds the documents of one time and hands them on in _key
// order when a later time comes.
type tieBreaker struct {
	time float64
	ties []keyed
}

type keyed struct {
	key string
	doc json.RawMessage
}

func (t *tieBreaker) add(doc json.RawMessage, fn func(json.RawMessage) error) error {
	var f struct {
		Key  string  `json:"_key"`
		Time float64 `json:"time"`
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		return fmt.Errorf("decode document: %w", err)
	}
	if len(t.ties) > 0 && f.Time != t.time {
		if err := t.flush(fn); err != nil {
			return err
		}
	}
	t.time = f.Time
	t.ties = append(t.ties, keyed{key: f.Key, doc: doc})
	return nil
}

func (t *tieBreaker) flush(fn func(json.RawMessage) error) error {
	if len(t.ties) > 1 {
		slices.SortFunc(t.ties, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	}
	for _, k := range t.ties {
		if err := fn(k.doc); err != nil {
			return err
		}
	}
	clear(t.ties)
	t.ties = t.ties[:0]
	return nil
}

// query runs an AQL query and calls fn for each result, fetching the cursor
// one batch at a time (POST /_api/cursor, then POST /_api/cursor/{id} while
// hasMore). A stream query lets the server produce results as they are
// fetched instead of computing them all first. When fn fails before the
// end, the cursor is deleted so the server frees it.
func (s *Store) query(ctx context.Context, aql string, bind map[string]any, stream bool, fn func(json.RawMessage) error) (err error) {
	opts := &arangodb.QueryOptions{
		BindVars:  bind,
		BatchSize: s.opts.batchSize,
		Options:   arangodb.QuerySubOptions{Stream: stream},
	}
	var batch []json.RawMessage
	cur, err := s.db.QueryBatch(ctx, aql, opts, &batch)
	if err != nil {
		return classify(err)
	}
	defer func() {
		// Without a cursor id (the last batch was read) this sends nothing.
		if cerr := cur.CloseWithContext(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = fmt.Errorf("delete cursor: %w", classify(cerr))
		}
	}()
	for {
		for _, doc := range batch {
			if err := fn(doc); err != nil {
				return err
			}
		}
		if !cur.HasMoreBatches() {
			return nil
		}
		// A fresh slice: decoding into the old one would reuse the memory of
		// documents fn may have kept.
		batch = nil
		if err := cur.ReadNextBatch(ctx, &batch); err != nil {
			return classify(err)
		}
	}
}

// queryOne runs an AQL query that returns at most one document and decodes
// it into out; found is false when it returned none.
func (s *Store) queryOne(ctx context.Context, aql string, bind map[string]any, out any) (found bool, err error) {
	err = s.query(ctx, aql, bind, false, func(doc json.RawMessage) error {
		if found {
			return errors.New("query returned more than one document")
		}
		found = true
		return json.Unmarshal(doc, out)
	})
	return found, err
}
