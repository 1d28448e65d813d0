package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/store/storetest"
)

const (
	benchDocs  = 200000
	benchBatch = 5000
)

// BenchmarkUpsert writes 200,000 candles of about 250 bytes in batches of
// 5,000 into an empty collection per iteration, through the store and, as a
// baseline, through a plain prepared INSERT OR REPLACE with the same pragmas.
// Both report docs/s.
func BenchmarkUpsert(b *testing.B) {
	docs := storetest.Candles("BTCUSDT", benchDocs)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.Logf("%d documents, %d bytes on average", len(docs), size/len(docs))

	b.Run("sqlite-store", func(b *testing.B) {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		i := 0
		for b.Loop() {
			i++
			coll := fmt.Sprintf("candles_%d", i)
			for lo := 0; lo < len(docs); lo += benchBatch {
				if _, err := s.Upsert(b.Context(), coll, docs[lo:lo+benchBatch]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(i*len(docs))/b.Elapsed().Seconds(), "docs/s")
	})

	b.Run("baseline=raw-sqlite", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "bench.db")
		db, err := sql.Open("sqlite", "file://"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"+
			"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		i := 0
		for b.Loop() {
			i++
			if err := rawInsert(b, db, fmt.Sprintf("candles_%d", i), docs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(i*len(docs))/b.Elapsed().Seconds(), "docs/s")
	})
}

// rawInsert is the baseline: the documents by _key, nothing checked or indexed.
func rawInsert(b *testing.B, db *sql.DB, table string, docs []json.RawMessage) error {
	ctx := b.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE "`+table+`" (_key TEXT PRIMARY KEY, doc TEXT)`); err != nil {
		return err
	}
	var meta struct {
		Key string `json:"_key"`
	}
	keys := make([]string, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d, &meta); err != nil {
			return err
		}
		keys[i] = meta.Key
	}
	for lo := 0; lo < len(docs); lo += benchBatch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO "`+table+`" (_key, doc) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		for i := lo; i < lo+benchBatch; i++ {
			if _, err := stmt.Exec(keys[i], string(docs[i])); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
