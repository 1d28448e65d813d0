package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/streamforge/streamforge/libs/store"
)

const (
	// rowsPerInsert is how many documents one INSERT statement writes:
	// one statement of many rows costs SQLite and database/sql far less
	// than as many statements of one row (about twice the throughput).
	rowsPerInsert = 100
	// inspectChunk is how many documents an inspecting goroutine takes at
	// a time, small enough that the writer starts early.
	inspectChunk = 250
)

// Upsert writes docs in one transaction: each is checked with store.Inspect,
// rejected ones get a *store.DocError in their Result and are skipped, the
// rest are inserted or replace the document with the same _key (of two with
// the same _key in one batch, the later wins). A document that breaks a
// unique index is rejected the same way. A collection that does not exist yet
// is created as store.MarketData(collection), so a connector need not create
// its collections first. When the write lock stays taken past the busy
// timeout, or the file cannot be written, the error wraps
// store.ErrUnavailable and nothing of the batch is written.
func (s *Store) Upsert(ctx context.Context, collection string, docs []json.RawMessage) ([]store.Result, error) {
	k, err := s.kindOf(ctx, collection)
	if errors.Is(err, store.ErrNotFound) {
		k, err = kindDocument, s.EnsureCollection(ctx, store.MarketData(collection))
	}
	if err == nil && k == kindRecords {
		err = fmt.Errorf("collection %s holds records, not documents", collection)
	}
	if err != nil {
		return nil, fmt.Errorf("upsert %s: %w", collection, err)
	}
	if len(docs) == 0 {
		return []store.Result{}, nil
	}
	b := newBatch(docs, k == kindEdge)
	defer b.stop()
	err = s.write(ctx, func(tx *sql.Tx) error {
		w := &writer{ctx: ctx, tx: tx, table: quote(collection), edge: b.edge, results: b.results}
		defer w.close()
		for c := range b.chunks {
			if err := b.wait(ctx, c); err != nil {
				return err
			}
			for i := c * inspectChunk; i < min((c+1)*inspectChunk, len(docs)); i++ {
				if b.results[i].Err == nil {
					if err := w.add(i, b.metas[i], docs[i]); err != nil {
						return err
					}
					b.size += int64(len(docs[i]))
				}
			}
		}
		return w.flush()
	})
	if err != nil {
		return nil, fmt.Errorf("upsert %s: %w", collection, err)
	}
	s.wrote(b.size)
	return b.results, nil
}

// batch inspects the documents of one Upsert on background goroutines, a
// chunk at a time, while the writer inserts the chunks already checked.
type batch struct {
	docs    []json.RawMessage
	edge    bool
	metas   []store.Meta
	results []store.Result
	size    int64 // bytes of the documents stored
	chunks  int
	next    atomic.Int64    // the next chunk nobody inspects yet
	done    []chan struct{} // closed when chunk i is inspected
	quit    atomic.Bool
	wg      sync.WaitGroup
}

func newBatch(docs []json.RawMessage, edge bool) *batch {
	b := &batch{
		docs:    docs,
		edge:    edge,
		metas:   make([]store.Meta, len(docs)),
		results: make([]store.Result, len(docs)),
		chunks:  (len(docs) + inspectChunk - 1) / inspectChunk,
	}
	b.done = make([]chan struct{}, b.chunks)
	for i := range b.done {
		b.done[i] = make(chan struct{})
	}
	// The writer inspects too when it would otherwise wait (see wait), so
	// leave it a processor of its own.
	for range min(max(runtime.GOMAXPROCS(0)-1, 1), b.chunks) {
		b.wg.Go(func() {
			for c := b.claim(); c >= 0 && !b.quit.Load(); c = b.claim() {
				b.inspect(c)
			}
		})
	}
	return b
}

// claim returns the next chunk to inspect, -1 when all are taken.
func (b *batch) claim() int {
	if c := int(b.next.Add(1) - 1); c < b.chunks {
		return c
	}
	return -1
}

// inspect runs store.Inspect over chunk c.
func (b *batch) inspect(c int) {
	for i := c * inspectChunk; i < min((c+1)*inspectChunk, len(b.docs)); i++ {
		m, derr := store.Inspect(i, b.docs[i], b.edge)
		if derr != nil {
			b.results[i] = store.Result{Key: derr.Key, Err: derr}
			continue
		}
		b.metas[i], b.results[i] = m, store.Result{Key: m.Key}
	}
	close(b.done[c])
}

// wait returns once chunk c is inspected. Rather than wait idle, it inspects
// chunks nobody has taken yet.
func (b *batch) wait(ctx context.Context, c int) error {
	for {
		select {
		case <-b.done[c]:
			return nil
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		next := b.claim()
		if next < 0 {
			break
		}
		b.inspect(next)
	}
	select {
	case <-b.done[c]:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the inspecting goroutines and waits for them, so none outlives
// the call.
func (b *batch) stop() {
	b.quit.Store(true)
	b.wg.Wait()
}

// writer inserts documents rowsPerInsert at a time inside one transaction.
type writer struct {
	ctx     context.Context
	tx      *sql.Tx
	table   string
	edge    bool
	results []store.Result
	stmts   map[int]*sql.Stmt // by rows per statement
	args    []any
	idx     []int // batch index of each pending row
}

func (w *writer) cols() int {
	if w.edge {
		return 6
	}
	return 4
}

// add queues document i and writes the pending rows when they fill a
// statement.
func (w *writer) add(i int, m store.Meta, doc json.RawMessage) error {
	w.args = append(w.args, m.Key, nullString(m.Symbol), nullTime(m), string(doc))
	if w.edge {
		w.args = append(w.args, m.From, m.To)
	}
	w.idx = append(w.idx, i)
	if len(w.idx) < rowsPerInsert {
		return nil
	}
	return w.flush()
}

// flush writes the pending rows. When a row breaks a constraint the
// statement is undone as a whole, so the rows are written again one by one
// to find the documents to reject.
func (w *writer) flush() error {
	if len(w.idx) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	err := w.exec(len(w.idx), w.args)
	if isConstraint(err) {
		err = nil
		n := w.cols()
		for r, i := range w.idx {
			e := w.exec(1, w.args[r*n:(r+1)*n])
			if isConstraint(e) {
				w.results[i].Err = &store.DocError{Index: i, Key: w.results[i].Key, Reason: e.Error()}
				continue
			}
			if e != nil {
				err = fmt.Errorf("document %d: %w", i, e)
				break
			}
		}
	}
	w.args, w.idx = w.args[:0], w.idx[:0]
	return err
}

// exec runs the insert statement for rows rows, preparing it on first use.
func (w *writer) exec(rows int, args []any) error {
	stmt, ok := w.stmts[rows]
	if !ok {
		var err error
		if stmt, err = w.tx.PrepareContext(w.ctx, upsertSQL(w.table, w.edge, rows)); err != nil {
			return err
		}
		if w.stmts == nil {
			w.stmts = make(map[int]*sql.Stmt)
		}
		w.stmts[rows] = stmt
	}
	// The driver starts a goroutine per statement to watch a context that
	// can be cancelled. The transaction watches ctx already, and flush
	// checks it between statements.
	_, err := stmt.ExecContext(context.WithoutCancel(w.ctx), args...)
	return err
}

func (w *writer) close() {
	for _, stmt := range w.stmts {
		// Closing a statement of a finished transaction reports nothing of use.
		_ = stmt.Close()
	}
}

// upsertSQL returns the INSERT of rows documents into table, replacing the
// document with the same _key.
func upsertSQL(table string, edge bool, rows int) string {
	cols, row, set := "_key, symbol, time, doc", "(?, ?, ?, ?)",
		"symbol = excluded.symbol, time = excluded.time, doc = excluded.doc"
	if edge {
		cols, row, set = cols+", _from, _to", "(?, ?, ?, ?, ?, ?)", set+", _from = excluded._from, _to = excluded._to"
	}
	return "INSERT INTO " + table + " (" + cols + ") VALUES " + row + strings.Repeat(", "+row, rows-1) +
		" ON CONFLICT (_key) DO UPDATE SET " + set
}

func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nullTime(m store.Meta) any {
	if !m.HasTime {
		return nil
	}
	return m.Time
}

// isConstraint reports whether err is a constraint violation: a fault of the
// document, not of the store.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
