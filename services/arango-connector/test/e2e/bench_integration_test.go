//go:build integration

package e2e

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/testkit"
)

// BenchmarkConnector measures the connector binary moving a real-broker topic
// into the embedded store, from process start to exit after the finished
// event, against a raw batched SQLite insert of the same documents in the
// same run (prepared INSERT OR REPLACE, 5,000 per transaction, the same
// pragmas). It also reports the connector's peak resident memory.
func BenchmarkConnector(b *testing.B) {
	for _, n := range []int{1_000_000, 5_000_000} {
		docs := candles(n)
		b.Run("baseline=raw-sqlite/records="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				rawInsert(b, filepath.Join(b.TempDir(), "raw.db"), docs)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("connector/records="+strconv.Itoa(n), func(b *testing.B) {
			cfg := bustest.Real(b, false)
			var rss int64
			var total time.Duration
			for range b.N {
				b.StopTimer()
				tk := newTask(b, cfg)
				produce(b, cfg, tk.topic, docs)
				loaderFinished(b, cfg, tk, n)
				b.StartTimer()
				start := time.Now()
				p := startConnector(b, cfg, tk, "CONNECTOR_BATCH_SIZE=5000", "PROGRESS_INTERVAL=2s", "LOG_LEVEL=warn")
				rss = max(rss, peakRSS(p))
				total += time.Since(start)
				if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
					b.Fatalf("connector exit %d:\n%s", code, p.Stderr())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
			b.ReportMetric(float64(rss)/(1<<20), "peak-MiB")
		})
	}
}

// peakRSS follows the process's resident-set high-water mark (VmHWM in
// /proc/<pid>/status) until it exits, and returns the last reading in bytes.
// (The child's rusage Maxrss cannot be used: Go starts children sharing the
// parent's memory until exec, and Linux counts the parent's resident set
// into the child's maximum.)
func peakRSS(p *testkit.Proc) int64 {
	path := "/proc/" + strconv.Itoa(p.Cmd.Process.Pid) + "/status"
	var peak int64
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
					if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
						peak = max(peak, kb*1024)
					}
				}
			}
		}
		select {
		case <-p.Done():
			return peak
		case <-t.C:
		}
	}
}

// rawInsert is the baseline: the plainest batched insert of the same
// documents into the same table shape the store uses (primary key on _key,
// an index on (symbol, time, _key) for range reads), with the same pragmas,
// 5,000 rows per transaction through one prepared statement, and no
// validation or parsing: symbol and time are known from the generator.
func rawInsert(b *testing.B, path string, docs [][]byte) {
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, ddl := range []string{
		`CREATE TABLE docs (_key TEXT PRIMARY KEY, symbol TEXT, time INTEGER, doc TEXT NOT NULL)`,
		`CREATE INDEX docs_symbol_time ON docs (symbol, time, _key)`,
	} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	open := int64(1722470400000)
	for i := 0; i < len(docs); i += 5000 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO docs (_key, symbol, time, doc) VALUES (?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for j, d := range docs[i:min(i+5000, len(docs))] {
			t := open + int64(i+j)*60_000
			if _, err := stmt.ExecContext(ctx, symbol+"_1m_"+strconv.FormatInt(t, 10), symbol, t, string(d)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
