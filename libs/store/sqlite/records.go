package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/store"
)

// defaultLimit is the page size of ListRecords when the query sets none.
const defaultLimit = 100

const recordColumns = `_key, rev, status, symbol, created, updated, body`

// records reports whether the records collection exists; a collection of
// another kind is an error.
func (s *Store) records(ctx context.Context, collection string) (bool, error) {
	k, err := s.kindOf(ctx, collection)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case k != kindRecords:
		return false, fmt.Errorf("collection %s holds %s documents, not records", collection, k)
	}
	return true, nil
}

// checkRecord checks what the caller sets in r.
func checkRecord(r store.Record) error {
	if reason := store.ValidateKey(r.Key); reason != "" {
		return errors.New(reason)
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		return errors.New("body is not valid JSON")
	}
	return nil
}

// stamp returns the store's clock in UTC to the millisecond, as stored.
func (s *Store) stamp() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// body returns the stored form of a record's body: NULL when empty.
func body(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// CreateRecord stores r with Rev 1 and Created and Updated set to now, and
// returns it so. The collection is created on first use. It returns an error
// wrapping store.ErrExists when the key is taken.
func (s *Store) CreateRecord(ctx context.Context, collection string, r store.Record) (store.Record, error) {
	if err := checkRecord(r); err != nil {
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, err)
	}
	exists, err := s.records(ctx, collection)
	if err != nil {
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, err)
	}
	now := s.stamp()
	r.Rev, r.Created, r.Updated = 1, now, now
	err = s.write(ctx, func(tx *sql.Tx) error {
		if !exists {
			if err := ensureTable(ctx, tx, collection, kindRecords); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO `+quote(collection)+` (`+recordColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (_key) DO NOTHING`, r.Key, r.Rev, r.Status, r.Symbol, now.UnixMilli(), now.UnixMilli(), body(r.Body))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = store.ErrExists
		}
		return err
	})
	if err != nil {
		return store.Record{}, fmt.Errorf("create record %s/%s: %w", collection, r.Key, err)
	}
	s.remember(collection, kindRecords)
	return r, nil
}

// GetRecord returns the record, an error wrapping store.ErrNotFound when it
// (or its collection) does not exist.
func (s *Store) GetRecord(ctx context.Context, collection, key string) (store.Record, error) {
	exists, err := s.records(ctx, collection)
	if err == nil && !exists {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("get record %s/%s: %w", collection, key, err)
	}
	row := s.r.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM `+quote(collection)+` WHERE _key = ?`, key)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("get record %s/%s: %w", collection, key, unavailable(err))
	}
	return r, nil
}

// UpdateRecord replaces the record's Status, Symbol and Body when its stored
// Rev equals r.Rev, and returns it with the next Rev and Updated set to now.
// It returns an error wrapping store.ErrConflict when the Rev moved, and
// store.ErrNotFound when the record does not exist.
func (s *Store) UpdateRecord(ctx context.Context, collection string, r store.Record) (store.Record, error) {
	if err := checkRecord(r); err != nil {
		return store.Record{}, fmt.Errorf("update record %s/%s: %w", collection, r.Key, err)
	}
	exists, err := s.records(ctx, collection)
	if err == nil && !exists {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("update record %s/%s: %w", collection, r.Key, err)
	}
	t := quote(collection)
	now := s.stamp()
	var out store.Record
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `UPDATE `+t+` SET rev = rev + 1, status = ?, symbol = ?, updated = ?, body = ?
WHERE _key = ? AND rev = ? RETURNING `+recordColumns, r.Status, r.Symbol, now.UnixMilli(), body(r.Body), r.Key, r.Rev)
		var err error
		if out, err = scanRecord(row); !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return revMismatch(ctx, tx, t, r.Key)
	})
	if err != nil {
		return store.Record{}, fmt.Errorf("update record %s/%s: %w", collection, r.Key, err)
	}
	return out, nil
}

// revMismatch says why a write conditioned on (key, rev) touched no row:
// store.ErrNotFound when the key is missing, store.ErrConflict otherwise.
func revMismatch(ctx context.Context, tx *sql.Tx, table, key string) error {
	var rev int64
	err := tx.QueryRowContext(ctx, `SELECT rev FROM `+table+` WHERE _key = ?`, key).Scan(&rev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("stored rev is %d: %w", rev, store.ErrConflict)
}

// DeleteRecord deletes the record when its stored Rev equals rev. It returns
// an error wrapping store.ErrConflict when the Rev moved, and
// store.ErrNotFound when the record does not exist.
func (s *Store) DeleteRecord(ctx context.Context, collection, key string, rev int64) error {
	exists, err := s.records(ctx, collection)
	if err == nil && !exists {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete record %s/%s: %w", collection, key, err)
	}
	t := quote(collection)
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE _key = ? AND rev = ?`, key, rev)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return revMismatch(ctx, tx, t, key)
	})
	if err != nil {
		return fmt.Errorf("delete record %s/%s: %w", collection, key, err)
	}
	return nil
}

// ListRecords returns up to q.Limit (100 when not set) records matching q,
// in Key order after q.After. A collection that does not exist yet has no
// records: the page is empty, with no error.
func (s *Store) ListRecords(ctx context.Context, collection string, q store.RecordQuery) ([]store.Record, error) {
	exists, err := s.records(ctx, collection)
	if err != nil {
		return nil, fmt.Errorf("list records %s: %w", collection, err)
	}
	if !exists {
		return nil, nil
	}
	where := []string{"_key > ?"}
	args := []any{q.After}
	if len(q.Status) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(q.Status)-1)+")")
		for _, st := range q.Status {
			args = append(args, st)
		}
	}
	if q.Symbol != "" {
		where = append(where, "symbol = ?")
		args = append(args, q.Symbol)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM `+quote(collection)+
		` WHERE `+strings.Join(where, " AND ")+` ORDER BY _key LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list records %s: %w", collection, unavailable(err))
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list records %s: %w", collection, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list records %s: %w", collection, unavailable(err))
	}
	return out, nil
}

// scanRecord reads one row of recordColumns.
func scanRecord(row interface{ Scan(dest ...any) error }) (store.Record, error) {
	var (
		r                store.Record
		created, updated int64
		b                []byte
	)
	if err := row.Scan(&r.Key, &r.Rev, &r.Status, &r.Symbol, &created, &updated, &b); err != nil {
		return store.Record{}, err
	}
	r.Created, r.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if b != nil {
		r.Body = b
	}
	return r, nil
}
