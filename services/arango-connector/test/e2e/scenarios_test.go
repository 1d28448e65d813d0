package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the test locks the store file like another process would

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
)

// testExactlyOnce: every record ends in the store once, with the source's
// content, even when the topic holds each record twice.
func testExactlyOnce(t *testing.T, cfg bus.Config, n int) {
	tk := newTask(t, cfg)
	docs := candles(n)
	produce(t, cfg, tk.topic, docs)
	produce(t, cfg, tk.topic, docs) // a loader retry: the same records again
	loaderFinished(t, cfg, tk, n)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	start := time.Now()
	p := startConnector(t, cfg, tk)
	if code := p.Wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("connector exit %d, want 0", code)
	}
	t.Logf("%d records (%d messages) stored in %s", n, 2*n, time.Since(start).Round(time.Millisecond))
	fin := ev.WaitForFrom(t, "arango-connector", protocol.StatusFinished, 10*time.Second)
	if fin.RecordsWritten != int64(n) || !strings.HasPrefix(fin.Producer, "arango-connector__") {
		t.Errorf("finished event = %+v, want records_written=%d from the connector", fin, n)
	}
	var progress int
	for _, e := range ev.All() {
		if e.Status == protocol.StatusLoading && e.Producer == fin.Producer {
			progress++
		}
	}
	if progress == 0 {
		t.Error("no progress events")
	}
	checkExact(t, tk, docs)
}

// testKillRestart: SIGKILL at random points, three times, then a clean run:
// the store still ends with exactly the source.
func testKillRestart(t *testing.T, cfg bus.Config, n int) {
	tk := newTask(t, cfg)
	docs := candles(n)
	produce(t, cfg, tk.topic, docs)
	loaderFinished(t, cfg, tk, n)
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var last int64
	for kill := 1; kill <= 3; kill++ {
		p := startConnector(t, cfg, tk)
		// Kill once this run has stored something new, after a random delay.
		deadline := time.Now().Add(2 * time.Minute)
		for count(t, tk) <= last && time.Now().Before(deadline) {
			select {
			case <-p.Done():
				t.Fatalf("run %d ended before it could be killed (exit %d): use more records", kill, p.Cmd.ProcessState.ExitCode())
			case <-time.After(20 * time.Millisecond):
			}
		}
		time.Sleep(time.Duration(rnd.IntN(150)) * time.Millisecond)
		p.Kill()
		last = count(t, tk)
		t.Logf("kill %d: %d of %d records stored", kill, last, n)
		if last >= int64(n) {
			t.Logf("run %d stored everything before the kill", kill)
		}
	}
	p := startConnector(t, cfg, tk)
	if code := p.Wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("final run exit %d, want 0", code)
	}
	checkExact(t, tk, docs)
}

// testPoison: bad records between good ones go to the dead-letter topic with
// their reason and source offset; every good record is stored; no stall.
func testPoison(t *testing.T, cfg bus.Config) {
	tk := newTask(t, cfg)
	good := candles(3000)
	bad := []string{`not json at all`, `{"symbol":"BTCUSDT","time":1}`, `{"_key":"has space","symbol":"BTCUSDT","time":1}`,
		`{"_key":"BTCUSDT_bad_time","symbol":"BTCUSDT","time":"soon"}`, `[1,2,3]`, `{"_key":7}`}
	var mixed [][]byte
	badAt := map[int]bool{}
	for i, d := range good {
		mixed = append(mixed, d)
		if i%500 == 250 {
			for _, b := range bad {
				badAt[len(mixed)] = true
				mixed = append(mixed, []byte(b))
			}
		}
	}
	produce(t, cfg, tk.topic, mixed)
	loaderFinished(t, cfg, tk, len(mixed))
	p := startConnector(t, cfg, tk)
	if code := p.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("connector exit %d, want 0", code)
	}
	checkExact(t, tk, good)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail, err := bus.NewTail(ctx, cfg, protocol.DLQTopic(tk.topic), time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	want := len(badAt)
	var dead []bus.Message
	_ = tail.Run(ctx, func(_ context.Context, m bus.Message) error {
		dead = append(dead, m)
		if len(dead) == want {
			cancel()
		}
		return nil
	})
	if len(dead) != want {
		t.Fatalf("dead-letter topic holds %d records, want %d", len(dead), want)
	}
	for _, m := range dead {
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["dlq.reason"] == "" || h["dlq.source.topic"] != tk.topic {
			t.Errorf("dead letter %s lacks its reason or source: %v", m.Value, h)
		}
		if _, err := strconv.ParseInt(h["dlq.source.offset"], 10, 64); err != nil {
			t.Errorf("dead letter %s: bad source offset %q", m.Value, h["dlq.source.offset"])
		}
	}
}

// testStoreOutage: the store file is locked by another process for a while
// mid-run; the connector reports the outage, waits it out and loses nothing.
func testStoreOutage(t *testing.T, cfg bus.Config) {
	tk := newTask(t, cfg)
	docs := candles(20_000)
	produce(t, cfg, tk.topic, docs[:10_000])
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startConnector(t, cfg, tk, "STORE_BUSY_TIMEOUT=100ms")
	waitCount(t, tk, p, 10_000)
	// Another process takes the write lock and holds it.
	db, err := sql.Open("sqlite", tk.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("lock the store: %v", err)
	}
	produce(t, cfg, tk.topic, docs[10_000:])
	loaderFinished(t, cfg, tk, len(docs))
	outage := ev.WaitForFrom(t, "arango-connector", protocol.StatusError, 30*time.Second)
	if outage.Finished || !strings.Contains(outage.Error, "store unavailable") {
		t.Errorf("outage event = %+v, want a non-terminal store-unavailable error", outage)
	}
	time.Sleep(time.Second) // a few retries against the lock
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if code := p.Wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("connector exit %d after the outage, want 0", code)
	}
	checkExact(t, tk, docs)
	if !strings.Contains(p.Stderr(), "store is back") {
		t.Error("the recovery was not logged")
	}
}

// testStop: a stop command ends the run with interrupted and exit 0, after
// storing and committing what it consumed.
func testStop(t *testing.T, cfg bus.Config) {
	tk := newTask(t, cfg)
	docs := candles(5000)
	produce(t, cfg, tk.topic, docs)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startConnector(t, cfg, tk)
	waitCount(t, tk, p, int64(len(docs)))
	publish(t, cfg, protocol.TopicControl, tk.queueID, protocol.Command{Command: protocol.CommandStop, QueueID: tk.queueID, Timestamp: protocol.Timestamp(time.Now())})
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("exit %d after stop, want 0", code)
	}
	in := ev.WaitForFrom(t, "arango-connector", protocol.StatusInterrupted, 10*time.Second)
	if in.RecordsWritten != int64(len(docs)) {
		t.Errorf("interrupted with records_written=%d, want %d", in.RecordsWritten, len(docs))
	}
	checkExact(t, tk, docs)
	// Everything consumed was committed: a new run has nothing left to do.
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lag, err := a.Lag(context.Background(), "arango-connector-"+tk.queueID, tk.topic)
	if err != nil || lag != 0 {
		t.Errorf("lag after stop = %d, %v; want 0", lag, err)
	}
}

// waitCount waits until the store holds n documents of the task, failing the
// test if the connector exits first or a minute passes.
func waitCount(t *testing.T, tk task, p *testkit.Proc, n int64) {
	t.Helper()
	deadline := time.After(time.Minute)
	for count(t, tk) < n {
		select {
		case <-p.Done():
			t.Fatalf("connector exited (%d) with %d of %d documents stored", p.Cmd.ProcessState.ExitCode(), count(t, tk), n)
		case <-deadline:
			t.Fatalf("%d of %d documents stored after a minute", count(t, tk), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// testOwnRange: the collection is shared with other workflows (another
// symbol, the day before); the connector's finished event counts only its
// own symbol and range.
func testOwnRange(t *testing.T, cfg bus.Config) {
	const n = 1440 // one day of 1m candles from 2024-08-01
	tk := newTask(t, cfg)
	tk.collection = protocol.CollectionName(symbol, "api_candles_1m", time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC))
	docs := candles(n)
	// ETHUSDT over two days, BTCUSDT of the day before.
	var others []json.RawMessage
	const day = 24 * 60 * 60_000
	for i, d := range candles(2 * n) {
		var c map[string]any
		if err := json.Unmarshal(d, &c); err != nil {
			t.Fatal(err)
		}
		tm := int64(c["time"].(float64))
		eth := maps.Clone(c)
		eth["symbol"], eth["_key"] = "ETHUSDT", "ETHUSDT_1m_"+strconv.FormatInt(tm, 10)
		vs := []map[string]any{eth}
		if i < n {
			c["time"], c["_key"] = tm-day, symbol+"_1m_"+strconv.FormatInt(tm-day, 10)
			vs = append(vs, c)
		}
		for _, v := range vs {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			others = append(others, b)
		}
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tk.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureCollection(ctx, store.MarketData(tk.collection)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upsert(ctx, tk.collection, others); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	produce(t, cfg, tk.topic, docs)
	produce(t, cfg, tk.topic, docs) // a loader retry: the same records again
	loaderFinished(t, cfg, tk, n)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startConnector(t, cfg, tk, "SYMBOL="+symbol, "TYPE=api_candles_1m", "TIME_RANGE=2024-08-01:2024-08-02",
		"COLLECTION_NAME="+tk.collection)
	if code := p.Wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("connector exit %d, want 0", code)
	}
	fin := ev.WaitForFrom(t, "arango-connector", protocol.StatusFinished, 10*time.Second)
	if fin.RecordsWritten != n {
		t.Errorf("finished with records_written=%d, want %d: the task's own range, not the shared collection's %d documents",
			fin.RecordsWritten, n, n+len(others))
	}
	if got := count(t, tk); got != int64(n+len(others)) {
		t.Errorf("collection %s holds %d documents, want %d (the task's and the others')", tk.collection, got, n+len(others))
	}
}
