package arango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arangodb/go-driver/v2/arangodb"

	"github.com/streamforge/streamforge/libs/store"
)

// defaultLimit is the page size of ListRecords when the query sets none.
const defaultLimit = 100

// recordDoc is a record as stored: times in epoch milliseconds, the body
// as the caller's JSON (null when empty). "rev" is the store's own revision
// counter; ArangoDB's _rev is not used.
type recordDoc struct {
	Key     string          `json:"_key"`
	Rev     int64           `json:"rev"`
	Status  string          `json:"status"`
	Symbol  string          `json:"symbol"`
	Created int64           `json:"created"`
	Updated int64           `json:"updated"`
	Body    json.RawMessage `json:"body"`
}

func (d recordDoc) record() store.Record {
	r := store.Record{
		Key: d.Key, Rev: d.Rev, Status: d.Status, Symbol: d.Symbol,
		Created: time.UnixMilli(d.Created).UTC(), Updated: time.UnixMilli(d.Updated).UTC(),
	}
	if len(d.Body) > 0 && string(d.Body) != "null" {
		r.Body = d.Body
	}
	return r
}

// recordsCollection describes a records collection: listed by status and by
// symbol.
func recordsCollection(name string) store.Collection {
	return store.Collection{Name: name, Indexes: []store.Index{
		{Fields: []string{"status"}},
		{Fields: []string{"symbol"}},
	}}
}

// checkRecord checks what the caller sets in r.
func checkRecord(collection string, r store.Record) error {
	if err := checkName("collection", collection); err != nil {
		return err
	}
	if reason := store.ValidateKey(r.Key); reason != "" {
		return errors.New(reason)
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		return errors.New("body is not valid JSON")
	}
	return nil
}

// stamp returns the store's clock in UTC to the millisecond, as stored.
func (s *Store) stamp() time.Time { return s.opts.now().UTC().Truncate(time.Millisecond) }

// ensureRecords creates the records collection and its indexes the first
// time this Store writes to it.
func (s *Store) ensureRecords(ctx context.Context, collection string) error {
	if _, ok := s.records.Load(collection); ok {
		return nil
	}
	if err := s.EnsureCollection(ctx, recordsCollection(collection)); err != nil {
		return err
	}
	s.records.Store(collection, true)
	return nil
}

// CreateRecord stores r with Rev 1 and Created and Updated set to now
// (POST /_api/document/{collection}), and returns it so. The collection and
// its indexes on status and symbol are created on first use. The error
// wraps store.ErrExists when the key is taken (error 1210, unique constraint
// violated).
func (s *Store) CreateRecord(ctx context.Context, collection string, r store.Record) (store.Record, error) {
	if err := checkRecord(collection, r); err != nil {
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, err)
	}
	now := s.stamp()
	r.Rev, r.Created, r.Updated = 1, now, now
	doc := recordDoc{
		Key: r.Key, Rev: r.Rev, Status: r.Status, Symbol: r.Symbol,
		Created: now.UnixMilli(), Updated: now.UnixMilli(), Body: r.Body,
	}
	err := s.insertRecord(ctx, collection, doc)
	if hasErrorNum(err, errNumNoCollection) {
		// Dropped since this Store created it.
		s.records.Delete(collection)
		err = s.insertRecord(ctx, collection, doc)
	}
	switch {
	case hasErrorNum(err, errNumUniqueViolated):
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, store.ErrExists)
	case err != nil:
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, classify(err))
	}
	return r, nil
}

func (s *Store) insertRecord(ctx context.Context, collection string, doc recordDoc) error {
	if err := s.ensureRecords(ctx, collection); err != nil {
		return err
	}
	col, err := s.db.GetCollection(ctx, collection, &arangodb.GetCollectionOptions{SkipExistCheck: true})
	if err != nil {
		return err
	}
	_, err = col.CreateDocument(ctx, doc)
	return err
}

const getRecordQuery = `FOR r IN @@col FILTER r._key == @key RETURN r`

// GetRecord returns the record. The error wraps store.ErrNotFound when the
// record or the collection does not exist.
func (s *Store) GetRecord(ctx context.Context, collection, key string) (store.Record, error) {
	if err := checkName("collection", collection); err != nil {
		return store.Record{}, fmt.Errorf("get record %s/%s: %w", collection, key, err)
	}
	var doc recordDoc
	found, err := s.queryOne(ctx, getRecordQuery, map[string]any{"@col": collection, "key": key}, &doc)
	switch {
	case err != nil:
		return store.Record{}, fmt.Errorf("get record %s/%s: %w", collection, key, err)
	case !found:
		return store.Record{}, fmt.Errorf("get record %s/%s: %w", collection, key, store.ErrNotFound)
	}
	return doc.record(), nil
}

// updateRecordQuery compares and bumps "rev" in one statement: ArangoDB
// runs it as one transaction, and a concurrent write to the same record
// makes one of them fail with a write-write conflict (1200).
const updateRecordQuery = `FOR r IN @@col FILTER r._key == @key AND r.rev == @rev
  REPLACE r WITH {rev: @rev + 1, status: @status, symbol: @symbol, created: r.created, updated: @now, body: @body} IN @@col
  RETURN NEW`

// UpdateRecord replaces the record's Status, Symbol and Body if its stored
// Rev equals r.Rev, sets Updated to now and increments Rev, and returns the
// record so. The error wraps store.ErrConflict when the stored Rev differs
// (or a concurrent write won) and store.ErrNotFound when the record does
// not exist; telling these apart takes a second read, only on failure.
func (s *Store) UpdateRecord(ctx context.Context, collection string, r store.Record) (store.Record, error) {
	if err := checkRecord(collection, r); err != nil {
		return store.Record{}, fmt.Errorf("update record %s/%s: %w", collection, r.Key, err)
	}
	bind := map[string]any{
		"@col": collection, "key": r.Key, "rev": r.Rev,
		"status": r.Status, "symbol": r.Symbol, "now": s.stamp().UnixMilli(), "body": r.Body,
	}
	var doc recordDoc
	found, err := s.queryOne(ctx, updateRecordQuery, bind, &doc)
	if err == nil && !found {
		err = s.whyNot(ctx, collection, r.Key, r.Rev)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("update record %s/%s at rev %d: %w", collection, r.Key, r.Rev, conflict(err))
	}
	return doc.record(), nil
}

const deleteRecordQuery = `FOR r IN @@col FILTER r._key == @key AND r.rev == @rev
  REMOVE r IN @@col
  RETURN OLD._key`

// DeleteRecord deletes the record if its stored Rev equals rev. The error
// wraps store.ErrConflict when it differs and store.ErrNotFound when the
// record does not exist.
func (s *Store) DeleteRecord(ctx context.Context, collection, key string, rev int64) error {
	if err := checkName("collection", collection); err != nil {
		return fmt.Errorf("delete record %s/%s: %w", collection, key, err)
	}
	var deleted string
	found, err := s.queryOne(ctx, deleteRecordQuery, map[string]any{"@col": collection, "key": key, "rev": rev}, &deleted)
	if err == nil && !found {
		err = s.whyNot(ctx, collection, key, rev)
	}
	if err != nil {
		return fmt.Errorf("delete record %s/%s at rev %d: %w", collection, key, rev, conflict(err))
	}
	return nil
}

// whyNot explains why a write conditional on rev matched nothing: the
// record is missing (store.ErrNotFound) or has another rev
// (store.ErrConflict).
func (s *Store) whyNot(ctx context.Context, collection, key string, rev int64) error {
	cur, err := s.GetRecord(ctx, collection, key)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: stored rev is %d", store.ErrConflict, cur.Rev)
}

// conflict turns a write-write conflict into store.ErrConflict: a
// concurrent writer changed the record first.
func conflict(err error) error {
	if ae, ok := arangoError(err); ok && ae.ErrorNum == errNumConflict {
		return fmt.Errorf("%w: %w", store.ErrConflict, serverError{ae})
	}
	return err
}

// ListRecords returns one page of records matching q, in _key order from
// after q.After, at most q.Limit (100 when not positive). A collection never
// written holds no records: the result is empty, not an error.
func (s *Store) ListRecords(ctx context.Context, collection string, q store.RecordQuery) ([]store.Record, error) {
	if err := checkName("collection", collection); err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var aql strings.Builder
	bind := map[string]any{"@col": collection, "after": q.After, "limit": limit}
	aql.WriteString("FOR r IN @@col FILTER r._key > @after")
	if len(q.Status) > 0 {
		aql.WriteString(" FILTER r.status IN @status")
		bind["status"] = q.Status
	}
	if q.Symbol != "" {
		aql.WriteString(" FILTER r.symbol == @symbol")
		bind["symbol"] = q.Symbol
	}
	aql.WriteString(" SORT r._key LIMIT @limit RETURN r")

	var out []store.Record
	err := s.query(ctx, aql.String(), bind, true, func(raw json.RawMessage) error {
		var doc recordDoc
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		out = append(out, doc.record())
		return nil
	})
	switch {
	case hasErrorNum(err, errNumNoCollection):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("list records %s: %w", collection, err)
	}
	return out, nil
}
