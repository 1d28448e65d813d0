package storeopen

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/libs/store"
)

// TestOpenWaitsForALockedStore: a new SQLite file another process holds
// the write lock of (its schema cannot be created yet) is unavailable, not
// broken: Open waits, tells why, and opens it once the lock is released.
func TestOpenWaitsForALockedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	conn := lock(t, path)
	var waits []error
	st, err := Open(context.Background(), store.Config{StorePath: path, BusyTimeout: 10 * time.Millisecond},
		OnWait(func(err error, _ time.Duration) {
			waits = append(waits, err)
			if len(waits) == 2 {
				_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			}
		}), func(o *options) { o.backoff = retry.Backoff{Base: time.Millisecond, Max: time.Millisecond} })
	if err != nil {
		t.Fatalf("Open = %v, want the store once the lock is released", err)
	}
	defer st.Close()
	if _, err := st.ListRecords(context.Background(), "workflows", store.RecordQuery{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the store opened after the wait does not answer: %v", err)
	}
	if len(waits) != 2 || !errors.Is(waits[0], store.ErrUnavailable) {
		t.Errorf("waits %v, want two, for the store being unavailable", waits)
	}
}

// TestOpenGivesUpWithItsContext: the wait ends with ctx, with the store's
// error.
func TestOpenGivesUpWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	lock(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Open(ctx, store.Config{StorePath: path, BusyTimeout: 10 * time.Millisecond},
		OnWait(func(error, time.Duration) { cancel() }))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open after its context ended = %v, want the store's unavailability", err)
	}
}

// TestOpenDoesNotWaitForAConfigurationError: what no wait can mend is
// returned at once.
func TestOpenDoesNotWaitForAConfigurationError(t *testing.T) {
	waited := false
	_, err := Open(context.Background(), store.Config{ArangoURL: "://no-scheme"}, OnWait(func(error, time.Duration) { waited = true }))
	if err == nil || waited {
		t.Errorf("Open with a malformed ARANGO_URL = %v (waited %v), want an error at once", err, waited)
	}
}

// lock takes the write lock of the SQLite file at path, as another
// process would, until the test ends or the caller rolls back on conn.
func lock(t *testing.T, path string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite", "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	return conn
}
