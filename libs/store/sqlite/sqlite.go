// Package sqlite is the embedded store.Store: one SQLite file (through the
// pure-Go modernc.org/sqlite driver) in WAL mode, so other processes (a
// notebook, the sqlite3 shell, another service) can read it while a service
// writes it.
//
// Each collection is a table named as the collection. Document collections
// have the columns _key TEXT PRIMARY KEY, symbol TEXT, time INTEGER and
// doc TEXT (the JSON as given); edge collections add _from and _to. Record
// collections have _key, rev, status, symbol, created, updated (epoch ms) and
// body. The table _collections lists every collection with its kind and
// _graphs every graph.
//
// Inside one process every write goes through a single connection, so
// writers queue in Go rather than spin on SQLite's lock; reads use a separate
// pool of connections and never wait for a writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/streamforge/streamforge/libs/store"
)

var _ store.Store = (*Store)(nil)

// DefaultBusyTimeout is how long a write waits for another process's write
// lock before it fails with store.ErrUnavailable.
const DefaultBusyTimeout = 5 * time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	readOnly    bool
	now         func() time.Time
}

// WithBusyTimeout sets how long a statement waits for a lock held by another
// connection. Zero or less keeps DefaultBusyTimeout, so a zero
// store.Config.BusyTimeout does not make every contended write fail.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.busyTimeout = d
		}
	}
}

// ReadOnly opens an existing file for reading only: every write fails with
// an error wrapping store.ErrUnavailable.
func ReadOnly() Option {
	return func(o *options) { o.readOnly = true }
}

// WithClock sets the clock that stamps records (time.Now when not set).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// kind is what a table holds, as recorded in _collections.
type kind string

const (
	kindDocument kind = "document"
	kindEdge     kind = "edge"
	kindRecords  kind = "records"
)

// checkpointBytes is about how much is written between two checkpoints: as
// SQLite's default of 1000 pages.
const checkpointBytes = 4 << 20

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // one connection: every write, so they queue in Go
	r   *sql.DB // reads
	now func() time.Time

	mu    sync.RWMutex
	kinds map[string]kind // collections known to exist; kinds never change

	// Checkpoints (copying the WAL into the database file, with an fsync)
	// run on their own connection, so a writer does not wait for them.
	ck       *sql.DB
	unsynced atomic.Int64 // bytes written since the last checkpoint was asked for
	kick     chan struct{}
	stop     chan struct{}
	stopped  chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating it and its parent directories when missing) the store
// in the SQLite file at path. The file is put in WAL mode, so readers in other
// processes may use it while this one writes.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if !o.readOnly {
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	s := &Store{now: o.now, kinds: make(map[string]kind)}
	if s.w, err = sql.Open("sqlite", dsn(abs, o, true)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if s.r, err = sql.Open("sqlite", dsn(abs, o, false)); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), s.w.Close())
	}
	n := max(runtime.GOMAXPROCS(0), 4)
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.init(ctx, o.readOnly); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), s.Close())
	}
	if !o.readOnly {
		if s.ck, err = sql.Open("sqlite", dsn(abs, o, true)); err != nil {
			return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), s.Close())
		}
		s.ck.SetMaxOpenConns(1)
		s.kick, s.stop, s.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go s.checkpoints()
	}
	return s, nil
}

// checkpoints runs a passive checkpoint each time enough was written. A
// passive checkpoint waits for no one: what it cannot copy now, because a
// reader still uses it, the next one copies. The writer's own automatic
// checkpoint, at 64 MiB of WAL, is the safety net should this fall behind.
func (s *Store) checkpoints() {
	defer close(s.stopped)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		// A failed checkpoint (another process is checkpointing) leaves the
		// frames for the next one; there is no one to tell.
		_, _ = s.ck.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// wrote counts n bytes written and asks for a checkpoint every
// checkpointBytes.
func (s *Store) wrote(n int64) {
	if s.kick == nil || s.unsynced.Add(n) < checkpointBytes {
		return
	}
	s.unsynced.Store(0)
	select {
	case s.kick <- struct{}{}:
	default: // one is asked for already
	}
}

// dsn builds the connection string: a file: URI, so SQLite's own mode=ro
// applies, with the driver's pragmas.
func dsn(abs string, o options, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)+")")
	switch {
	case o.readOnly:
		q.Set("mode", "ro")
	case writer:
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "wal_autocheckpoint(16384)") // 64 MiB, see checkpoints
		q.Add("_pragma", "journal_size_limit(67108864)")
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first cannot wait for the lock when it later writes.
		q.Set("_txlock", "immediate")
	default:
		q.Add("_pragma", "query_only(1)")
	}
	q.Add("_pragma", "cache_size(-32768)") // 32 MiB a connection
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
	// SQLite wants file:///abs/path; url.URL omits the empty authority.
	return "file://" + u.EscapedPath() + "?" + u.RawQuery
}

// init creates the catalogue tables and checks the file is a usable store.
func (s *Store) init(ctx context.Context, readOnly bool) error {
	if readOnly {
		return unavailable(s.r.PingContext(ctx))
	}
	const schema = `
CREATE TABLE IF NOT EXISTS _collections (name TEXT PRIMARY KEY, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _graphs (name TEXT PRIMARY KEY, vertex_collection TEXT NOT NULL, edge_collection TEXT NOT NULL);`
	if _, err := s.w.ExecContext(ctx, schema); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close stops the checkpoints and closes the connections; later calls
// return the first call's error. Closing the writer last lets SQLite
// checkpoint the WAL back into the database file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.stop != nil {
			close(s.stop)
			<-s.stopped
			errs = append(errs, s.ck.Close())
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// unavailable wraps err with store.ErrUnavailable when SQLite says the
// failure may pass by itself: a lock held past busy_timeout, a read-only
// file, an I/O error or a full disk.
func unavailable(err error) error {
	var se *sqlite.Error
	if err == nil || errors.Is(err, store.ErrUnavailable) || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_PROTOCOL:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// checkName checks a collection or graph name: letters, digits, '_' and '-',
// starting with a letter, so it is a safe table name in any tool.
func checkName(name string) error {
	if name == "" {
		return errors.New("name is empty")
	}
	if len(name) > 256 {
		return fmt.Errorf("name %.20q... is longer than 256 bytes", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("name %q does not start with a letter", name)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' {
			return fmt.Errorf("name %q has a character other than a letter, digit, '_' or '-'", name)
		}
	}
	if strings.HasPrefix(strings.ToLower(name), "sqlite_") {
		return fmt.Errorf("name %q starts with sqlite_, which SQLite reserves", name)
	}
	return nil
}

// quote returns name as an SQL identifier. Names are checked by checkName,
// so doubling quotes is only a second line of defence.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// kindOf returns the kind of the named collection, store.ErrNotFound when it
// does not exist. Only found kinds are cached: another process may create the
// collection at any time.
func (s *Store) kindOf(ctx context.Context, name string) (kind, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	s.mu.RLock()
	k, ok := s.kinds[name]
	s.mu.RUnlock()
	if ok {
		return k, nil
	}
	err := s.r.QueryRowContext(ctx, `SELECT kind FROM _collections WHERE name = ?`, name).Scan(&k)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("collection %s: %w", name, store.ErrNotFound)
	case err != nil:
		return "", unavailable(err)
	}
	s.remember(name, k)
	return k, nil
}

func (s *Store) remember(name string, k kind) {
	s.mu.Lock()
	s.kinds[name] = k
	s.mu.Unlock()
}

// write runs fn in a transaction on the writer connection and commits it;
// any error rolls the whole transaction back. When ctx ends, database/sql
// rolls the transaction back and later statements fail with sql.ErrTxDone:
// the error returned is then ctx's.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer func() {
		if err == nil {
			return
		}
		// The rollback error says nothing the first one does not.
		_ = tx.Rollback()
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, sql.ErrTxDone) {
			err = ctxErr
		}
	}()
	if err := fn(tx); err != nil {
		return unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable(err)
	}
	s.wrote(4096) // a page at least
	return nil
}

// ensureTable creates the table of collection name with the given kind, and
// its catalogue row, in tx. An existing collection of another kind is an
// error.
func ensureTable(ctx context.Context, tx *sql.Tx, name string, k kind) error {
	var have kind
	err := tx.QueryRowContext(ctx, `SELECT kind FROM _collections WHERE name = ?`, name).Scan(&have)
	switch {
	case err == nil && have != k:
		return fmt.Errorf("collection %s exists as a %s collection, not %s", name, have, k)
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	var ddl string
	switch k {
	case kindDocument:
		ddl = `CREATE TABLE IF NOT EXISTS %[1]s (_key TEXT PRIMARY KEY, symbol TEXT, time INTEGER, doc TEXT NOT NULL)`
	case kindEdge:
		ddl = `CREATE TABLE IF NOT EXISTS %[1]s (_key TEXT PRIMARY KEY, symbol TEXT, time INTEGER, doc TEXT NOT NULL, _from TEXT, _to TEXT)`
	case kindRecords:
		ddl = `CREATE TABLE IF NOT EXISTS %[1]s (_key TEXT PRIMARY KEY, rev INTEGER NOT NULL, status TEXT, symbol TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL, body TEXT);
CREATE INDEX IF NOT EXISTS %[2]s ON %[1]s (status, _key);
CREATE INDEX IF NOT EXISTS %[3]s ON %[1]s (symbol, _key)`
	}
	ddl = fmt.Sprintf(ddl, quote(name), quote(name+"_by_status"), quote(name+"_by_symbol"))
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO _collections (name, kind) VALUES (?, ?)`, name, string(k))
	return err
}
