package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/streamforge/streamforge/libs/store"
)

// EnsureCollection creates the table of c and one index per c.Indexes entry
// when missing. Each index is named <collection>_by_<fields joined by '_'>
// (with _unique appended for a unique one); a non-unique index gets _key as a
// last column, so reads in index order are in a stable order. Fields other
// than _key, symbol, time, _from and _to are indexed as
// json_extract(doc, '$.<field>'). An existing collection of another kind
// (document, edge) is an error.
func (s *Store) EnsureCollection(ctx context.Context, c store.Collection) error {
	if err := checkName(c.Name); err != nil {
		return fmt.Errorf("ensure collection: %w", err)
	}
	k := kindDocument
	if c.Edge {
		k = kindEdge
	}
	var ddl []string
	for _, ix := range c.Indexes {
		stmt, err := indexDDL(c.Name, k, ix)
		if err != nil {
			return fmt.Errorf("ensure collection %s: %w", c.Name, err)
		}
		ddl = append(ddl, stmt)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := ensureTable(ctx, tx, c.Name, k); err != nil {
			return err
		}
		for _, stmt := range ddl {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensure collection %s: %w", c.Name, err)
	}
	s.remember(c.Name, k)
	return nil
}

// indexDDL returns the CREATE INDEX statement for ix on collection name.
func indexDDL(name string, k kind, ix store.Index) (string, error) {
	if len(ix.Fields) == 0 {
		return "", errors.New("index has no fields")
	}
	cols := make([]string, 0, len(ix.Fields)+1)
	hasKey := false
	for _, f := range ix.Fields {
		col, err := indexColumn(f, k)
		if err != nil {
			return "", err
		}
		hasKey = hasKey || f == store.FieldKey
		cols = append(cols, col)
	}
	ixName := name + "_by_" + strings.Join(ix.Fields, "_")
	unique := ""
	if ix.Unique {
		ixName += "_unique"
		unique = "UNIQUE "
	} else if !hasKey {
		cols = append(cols, store.FieldKey)
	}
	return fmt.Sprintf("CREATE %sINDEX IF NOT EXISTS %s ON %s (%s)",
		unique, quote(ixName), quote(name), strings.Join(cols, ", ")), nil
}

// indexColumn maps an indexed field to its column, or to a JSON expression
// for a field that has no column.
func indexColumn(field string, k kind) (string, error) {
	switch field {
	case store.FieldKey, store.FieldSymbol, store.FieldTime:
		return field, nil
	case store.FieldFrom, store.FieldTo:
		if k == kindEdge {
			return field, nil
		}
	}
	if field == "" || field[0] == '.' || field[len(field)-1] == '.' || strings.Contains(field, "..") {
		return "", fmt.Errorf("index field %q is not a field path", field)
	}
	for i := 0; i < len(field); i++ {
		c := field[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return "", fmt.Errorf("index field %q has a character other than a letter, digit, '_' or '.'", field)
		}
	}
	return "json_extract(doc, '$." + field + "')", nil
}

// Range calls fn for each document of symbol with from <= time < to, in
// (time, _key) order, reading rows as fn consumes them. It returns an error
// wrapping store.ErrNotFound when the collection does not exist, and fn's
// error as it is when fn fails.
func (s *Store) Range(ctx context.Context, collection, symbol string, from, to int64, fn func(doc json.RawMessage) error) error {
	q := `SELECT doc FROM %s WHERE symbol = ? AND time >= ? AND time < ? ORDER BY time, _key`
	return callerErr(s.scan(ctx, s.r, collection, q, fn, symbol, from, to), "range "+collection+" "+symbol)
}

// errStop carries an error of a caller's callback through scan unchanged.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// callerErr returns a callback's error unchanged and wraps any other with op.
func callerErr(err error, op string) error {
	var stop errStop
	switch {
	case err == nil:
		return nil
	case errors.As(err, &stop):
		return stop.err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// querier is what scan reads through: the read pool or a read transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// documents checks that collection is a document or edge collection.
func (s *Store) documents(ctx context.Context, collection string) error {
	k, err := s.kindOf(ctx, collection)
	if err == nil && k == kindRecords {
		err = fmt.Errorf("collection %s holds records, not documents", collection)
	}
	return err
}

// scan runs the query q (with %s standing for the quoted collection name)
// and calls fn with each row's doc column, as the rows arrive.
func (s *Store) scan(ctx context.Context, db querier, collection, q string, fn func(json.RawMessage) error, args ...any) error {
	if err := s.documents(ctx, collection); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(q, quote(collection)), args...)
	if err != nil {
		return unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		if err := fn(doc); err != nil {
			return errStop{err}
		}
	}
	return unavailable(rows.Err())
}

// Count returns the number of documents (or records) in the collection, an
// error wrapping store.ErrNotFound when it does not exist.
func (s *Store) Count(ctx context.Context, collection string) (int64, error) {
	if _, err := s.kindOf(ctx, collection); err != nil {
		return 0, fmt.Errorf("count %s: %w", collection, err)
	}
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(collection)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", collection, unavailable(err))
	}
	return n, nil
}

// CountRange returns the number of documents of symbol with from <= time <
// to in the collection, read from the (symbol, time) index; an error
// wrapping store.ErrNotFound when the collection does not exist.
func (s *Store) CountRange(ctx context.Context, collection, symbol string, from, to int64) (int64, error) {
	if err := s.documents(ctx, collection); err != nil {
		return 0, fmt.Errorf("count %s %s: %w", collection, symbol, err)
	}
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(collection)+` WHERE symbol = ? AND time >= ? AND time < ?`,
		symbol, from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s %s: %w", collection, symbol, unavailable(err))
	}
	return n, nil
}
