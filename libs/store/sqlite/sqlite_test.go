package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/store/storetest"
)

const candles = "btcusdt_api_candles_5m_2024_08_01"

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// openStore opens the store at path and closes it when the test ends.
func openStore(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openRaw opens path with database/sql alone, as another program would.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close raw db: %v", err)
		}
	})
	return db
}

func upsert(t *testing.T, s store.Store, collection string, docs []json.RawMessage) {
	t.Helper()
	res, err := s.Upsert(t.Context(), collection, docs)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("document %d: %v", i, r.Err)
		}
	}
}

func count(t *testing.T, s store.Store, collection string) int64 {
	t.Helper()
	n, err := s.Count(t.Context(), collection)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

func TestOpenCreatesParentDirectories(t *testing.T) {
	for _, name := range []string{"streamforge.db", "with space.db", "odd?#%&=;.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data", "nested", name)
			s := openStore(t, path)
			upsert(t, s, candles, storetest.Candles("BTCUSDT", 1))
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file: %v", err)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSecondStoreSeesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	first := openStore(t, path)
	second := openStore(t, path)

	docs := storetest.Candles("BTCUSDT", 100)
	upsert(t, first, candles, docs)
	if got := count(t, second, candles); got != int64(len(docs)) {
		t.Errorf("second store Count = %d, want %d", got, len(docs))
	}
	more := storetest.Candles("ETHUSDT", 10)
	upsert(t, second, candles, more)
	if got, want := count(t, first, candles), int64(len(docs)+len(more)); got != want {
		t.Errorf("first store Count after the second wrote = %d, want %d", got, want)
	}

	r, err := first.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-1", Status: "pending"})
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	got, err := second.GetRecord(t.Context(), "workflows", r.Key)
	if err != nil {
		t.Fatalf("second store GetRecord: %v", err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("second store GetRecord (-want +got):\n%s", diff)
	}
}

func TestLockedFileIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openStore(t, path, sqlite.WithBusyTimeout(20*time.Millisecond))
	upsert(t, s, candles, storetest.Candles("BTCUSDT", 10))

	// Another process stands in: its connection holds the write lock.
	conn, err := openRaw(t, path).Conn(t.Context())
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatalf("BEGIN IMMEDIATE: %v", err)
	}
	batch := storetest.Candles("ETHUSDT", 50)
	if _, err := s.Upsert(t.Context(), candles, batch); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Upsert while another connection holds the write lock: %v, want ErrUnavailable", err)
	}
	if _, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-1"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateRecord while another connection holds the write lock: %v, want ErrUnavailable", err)
	}
	// WAL: reads go on while the other connection writes.
	if got := count(t, s, candles); got != 10 {
		t.Errorf("Count while locked = %d, want 10: nothing of the failed batch may be written", got)
	}

	if _, err := conn.ExecContext(t.Context(), `ROLLBACK`); err != nil {
		t.Fatalf("ROLLBACK: %v", err)
	}
	upsert(t, s, candles, batch)
	if got, want := count(t, s, candles), int64(10+len(batch)); got != want {
		t.Errorf("Count after the lock was released = %d, want %d", got, want)
	}
}

func TestReadOnlyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	w := openStore(t, path)
	docs := storetest.Candles("BTCUSDT", 10)
	upsert(t, w, candles, docs)

	ro := openStore(t, path, sqlite.ReadOnly())
	if got := count(t, ro, candles); got != int64(len(docs)) {
		t.Errorf("read-only Count = %d, want %d", got, len(docs))
	}
	if _, err := ro.Upsert(t.Context(), candles, storetest.Candles("ETHUSDT", 3)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read-only Upsert: %v, want ErrUnavailable", err)
	}
	if _, err := ro.Upsert(t.Context(), "new_collection", docs); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read-only Upsert into a new collection: %v, want ErrUnavailable", err)
	}
	if _, err := ro.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-1"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read-only CreateRecord: %v, want ErrUnavailable", err)
	}
	if got := count(t, w, candles); got != int64(len(docs)) {
		t.Errorf("Count after the read-only writes = %d, want %d", got, len(docs))
	}
}

// TestPlainSQLReadsDocuments reads the file as pandas does through Python's
// sqlite3: plain SQL with SQLite's JSON functions.
func TestPlainSQLReadsDocuments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openStore(t, path)
	docs := storetest.Candles("BTCUSDT", 20)
	upsert(t, s, candles, docs)
	upsert(t, s, candles, storetest.Candles("ETHUSDT", 5))

	type row struct {
		Close float64
		Time  int64
	}
	var want []row
	for _, d := range docs {
		var c struct {
			Close float64 `json:"close"`
			Time  int64   `json:"time"`
		}
		if err := json.Unmarshal(d, &c); err != nil {
			t.Fatal(err)
		}
		want = append(want, row{c.Close, c.Time})
	}

	db := openRaw(t, path)
	rows, err := db.QueryContext(t.Context(),
		`SELECT json_extract(doc, '$.close') AS close, time FROM "`+candles+`" WHERE symbol = ? ORDER BY time`, "BTCUSDT")
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Close, &r.Time); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("json_extract close, time (-want +got):\n%s", diff)
	}

	var mode string
	if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatalf("journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// TestPlainSQLReadsEdgeEnds checks the _from and _to columns, which only SQL
// users read: the port hands out whole documents.
func TestPlainSQLReadsEdgeEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openStore(t, path)
	g := store.Graph{Name: "correlation", VertexCollection: "symbols", EdgeCollection: "correlations"}
	if err := s.EnsureGraph(t.Context(), g); err != nil {
		t.Fatalf("EnsureGraph: %v", err)
	}
	upsert(t, s, g.EdgeCollection, []json.RawMessage{
		json.RawMessage(`{"_key":"e-1","_from":"symbols/btcusdt","_to":"symbols/ethusdt","weight":0.8}`),
		json.RawMessage(`{"_key":"e-2","_from":"symbols/ethusdt","_to":"symbols/solusdt","weight":0.5}`),
	})

	rows, err := openRaw(t, path).QueryContext(t.Context(), `SELECT _key, _from, _to FROM "correlations" ORDER BY _key`)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	var got [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	want := [][3]string{{"e-1", "symbols/btcusdt", "symbols/ethusdt"}, {"e-2", "symbols/ethusdt", "symbols/solusdt"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("_key, _from, _to (-want +got):\n%s", diff)
	}
}

// TestRangeReadsInIndexOrder checks that the Range query walks the
// (symbol, time, _key) index: no sort step, so rows stream as they are read.
func TestRangeReadsInIndexOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openStore(t, path)
	upsert(t, s, candles, storetest.Candles("BTCUSDT", 10))

	rows, err := openRaw(t, path).QueryContext(t.Context(), `EXPLAIN QUERY PLAN SELECT doc FROM "`+candles+
		`" WHERE symbol = ? AND time >= ? AND time < ? ORDER BY time, _key`, "BTCUSDT", 0, 1)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan: %v", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "USING INDEX") || strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("query plan %q: want an index search and no sort", text)
	}
}

func TestRejectsBadNames(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store.db"))
	for _, name := range []string{"", "1candles", "_collections", "a b", `a"b`, "a;b", "a.b", "sqlite_master", "SQLITE_x"} {
		if err := s.EnsureCollection(t.Context(), store.MarketData(name)); err == nil {
			t.Errorf("EnsureCollection(%q): no error", name)
		}
		if _, err := s.Upsert(t.Context(), name, storetest.Candles("BTCUSDT", 1)); err == nil {
			t.Errorf("Upsert(%q): no error", name)
		}
	}
	if err := s.EnsureCollection(t.Context(), store.MarketData("Candles-5m_v2")); err != nil {
		t.Errorf("EnsureCollection of a good name: %v", err)
	}
}

func TestUniqueIndexRejectsDocument(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store.db"))
	c := store.Collection{Name: "ticks", Indexes: []store.Index{{Fields: []string{"symbol", "time"}, Unique: true}}}
	if err := s.EnsureCollection(t.Context(), c); err != nil {
		t.Fatalf("EnsureCollection: %v", err)
	}
	docs := []json.RawMessage{
		json.RawMessage(`{"_key":"t-1","symbol":"BTCUSDT","time":1}`),
		json.RawMessage(`{"_key":"t-2","symbol":"BTCUSDT","time":1}`),
		json.RawMessage(`{"_key":"t-3","symbol":"BTCUSDT","time":2}`),
	}
	res, err := s.Upsert(t.Context(), c.Name, docs)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	var de *store.DocError
	if res[0].Err != nil || res[2].Err != nil || !errors.As(res[1].Err, &de) || de.Index != 1 {
		t.Errorf("results %+v: want document 1 rejected with a DocError, the others stored", res)
	}
	if got := count(t, s, c.Name); got != 2 {
		t.Errorf("Count = %d, want 2", got)
	}
}

func TestCollectionKindsDoNotMix(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store.db"))
	upsert(t, s, candles, storetest.Candles("BTCUSDT", 1))
	if _, err := s.CreateRecord(t.Context(), candles, store.Record{Key: "wf-1"}); err == nil {
		t.Error("CreateRecord in a document collection: no error")
	}
	if _, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-1"}); err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	if _, err := s.Upsert(t.Context(), "workflows", storetest.Candles("BTCUSDT", 1)); err == nil {
		t.Error("Upsert into a records collection: no error")
	}
	if err := s.EnsureCollection(t.Context(), store.Collection{Name: candles, Edge: true}); err == nil {
		t.Error("EnsureCollection of a document collection as an edge collection: no error")
	}
}

func TestRecordTimestampsUseClock(t *testing.T) {
	now := time.Date(2024, 8, 1, 12, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))
	s := openStore(t, filepath.Join(t.TempDir(), "store.db"), sqlite.WithClock(func() time.Time { return now }))
	r, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-1"})
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	want := now.UTC().Truncate(time.Millisecond)
	if r.Created != want || r.Updated != want {
		t.Errorf("Created %v, Updated %v; want both %v (UTC, to the millisecond, as stored)", r.Created, r.Updated, want)
	}
	now = now.Add(time.Hour)
	u, err := s.UpdateRecord(t.Context(), "workflows", r)
	if err != nil {
		t.Fatalf("UpdateRecord: %v", err)
	}
	if u.Created != want || u.Updated != now.UTC().Truncate(time.Millisecond) {
		t.Errorf("after update Created %v, Updated %v; want %v, %v", u.Created, u.Updated, want, now.UTC().Truncate(time.Millisecond))
	}
}

func TestCancelledUpsertWritesNothing(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store.db"))
	if err := s.EnsureCollection(t.Context(), store.MarketData(candles)); err != nil {
		t.Fatalf("EnsureCollection: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Upsert(ctx, candles, storetest.Candles("BTCUSDT", 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with a cancelled context: %v, want context.Canceled", err)
	}
	if got := count(t, s, candles); got != 0 {
		t.Errorf("Count = %d, want 0", got)
	}
}
