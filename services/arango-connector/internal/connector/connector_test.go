package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector"
)

// closingStore is the embedded store with a Close that marks it closed: a
// write after Close fails the test, as it would fail against a real store
// whose connections are gone.
type closingStore struct {
	store.Store
	t       *testing.T
	closed  atomic.Bool
	upserts atomic.Int64
	delay   time.Duration // each write takes this long
	broken  error         // when set, every write fails with it
	outage  atomic.Int32  // this many writes fail with store.ErrUnavailable first
	writing chan struct{} // closed when the first write begins
	once    sync.Once
}

func (s *closingStore) Upsert(ctx context.Context, collection string, docs []json.RawMessage) ([]store.Result, error) {
	s.once.Do(func() { close(s.writing) })
	time.Sleep(s.delay)
	if s.closed.Load() {
		s.t.Errorf("write of %d documents after the store was closed", len(docs))
		return nil, fmt.Errorf("store closed")
	}
	if s.broken != nil {
		return nil, s.broken
	}
	if s.outage.Add(-1) >= 0 {
		return nil, fmt.Errorf("%w: connection refused", store.ErrUnavailable)
	}
	s.upserts.Add(1)
	return s.Store.Upsert(ctx, collection, docs)
}

func (s *closingStore) Close() error {
	s.closed.Store(true)
	return s.Store.Close()
}

// connectorGoroutines are the functions of the goroutines Run starts.
var connectorGoroutines = []string{
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector.trackLag",
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector.watchLoader",
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector.caughtUp",
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector.(*sink).handle",
	"github.com/streamforge/streamforge/libs/bus.(*Consumer).Run",
	"github.com/streamforge/streamforge/libs/telemetry.(*Emitter).RunHeartbeats",
	"github.com/streamforge/streamforge/libs/control.(*Listener).Run",
}

type fixture struct {
	kafka bus.Config
	cfg   *connector.Config
	st    *closingStore
	path  string // the SQLite store's file
}

func newFixture(t *testing.T, records int, delay time.Duration) *fixture {
	t.Helper()
	kafka := bustest.Embedded(t, embedded.Options{})
	q := testkit.QueueID(t, "BTCUSDT", "api_trades")
	cfg := &connector.Config{
		Config:    kafka,
		Task:      protocol.Task{QueueID: q, TimeRange: "2024-08-01:2024-08-02"},
		BatchSize: 50, BatchWait: 20 * time.Millisecond, RetryMax: time.Second, ProgressInterval: time.Second,
		HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bustest.Topics(t, kafka, 1, protocol.TopicControl, protocol.TopicEvents, cfg.KafkaTopic)
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range records {
		testkit.Publish(t, kafka, cfg.KafkaTopic, "BTCUSDT", map[string]any{
			"_key": fmt.Sprintf("BTCUSDT-%d", i), "symbol": "BTCUSDT", "time": day + int64(i), "price": 1.5})
	}
	path := filepath.Join(t.TempDir(), "store.db")
	sq, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{kafka: kafka, cfg: cfg, st: &closingStore{Store: sq, t: t, delay: delay, writing: make(chan struct{})}, path: path}
}

// run runs the connector the way its main does: the store is closed right
// after Run returns.
func (f *fixture) run(t *testing.T, ctx context.Context) <-chan error {
	t.Helper()
	rt := &service.Runtime{Name: connector.Name, Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	errc := make(chan error, 1)
	go func() {
		err := connector.Run(ctx, rt, f.cfg, f.st)
		testkit.NoneRunning(t, connectorGoroutines...)
		if cerr := f.st.Close(); cerr != nil {
			t.Errorf("close store: %v", cerr)
		}
		errc <- err
	}()
	return errc
}

func wait(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// TestRunWaitsForItsGoroutinesWhenFinished: the loader's finished event
// ends the run once everything is stored; when Run returns, none of its
// goroutines is left, and nothing is written to the closed store.
func TestRunWaitsForItsGoroutinesWhenFinished(t *testing.T) {
	const records = 120
	f := newFixture(t, records, 0)
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	errc := f.run(t, context.Background())
	testkit.Publish(t, f.kafka, protocol.TopicEvents, f.cfg.QueueID, protocol.Event{QueueID: f.cfg.QueueID,
		Producer: "loader-producer__a1b2c3", Status: protocol.StatusFinished, Finished: true, RecordsWritten: records,
		Timestamp: protocol.Timestamp(time.Now())})
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if e := ev.WaitForFrom(t, connector.Name, protocol.StatusFinished, 10*time.Second); e.RecordsWritten != records {
		t.Errorf("finished with %d records, want %d", e.RecordsWritten, records)
	}
}

// TestRunWaitsForTheWriteInFlightOnSignal: a signal during a slow write
// lets the write finish before Run returns, and so before the store is
// closed; then no goroutine of Run is left.
func TestRunWaitsForTheWriteInFlightOnSignal(t *testing.T) {
	f := newFixture(t, 100, 300*time.Millisecond)
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := f.run(t, ctx)
	select {
	case <-f.st.writing:
	case <-time.After(30 * time.Second):
		t.Fatal("no write began")
	}
	cancel()
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run after a signal = %v, want nil", err)
	}
	if f.st.upserts.Load() == 0 {
		t.Error("the write in flight at the signal did not complete")
	}
	ev.WaitForFrom(t, connector.Name, protocol.StatusInterrupted, 10*time.Second)
}

// TestRunWaitsForItsGoroutinesOnFailure: a store that rejects every batch
// ends the run in an error while the loader watcher still reads
// queue-events; Run stops it and waits for it before returning.
func TestRunWaitsForItsGoroutinesOnFailure(t *testing.T) {
	f := newFixture(t, 10, 0)
	f.st.broken = errors.New("disk full")
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	if err := wait(t, f.run(t, context.Background())); !errors.Is(err, f.st.broken) {
		t.Fatalf("Run = %v, want the store's error", err)
	}
	if e := ev.WaitForFrom(t, connector.Name, protocol.StatusError, 10*time.Second); !e.Finished {
		t.Errorf("error event = %+v, want terminal", e)
	}
}

// TestRunWaitsOutAStoreOutage: writes that fail because the store is
// unavailable are retried with backoff until it is back; the outage is
// reported once, and every record ends up stored.
func TestRunWaitsOutAStoreOutage(t *testing.T) {
	const records = 60
	f := newFixture(t, records, 0)
	f.st.outage.Store(3)
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	errc := f.run(t, context.Background())
	testkit.Publish(t, f.kafka, protocol.TopicEvents, f.cfg.QueueID, protocol.Event{QueueID: f.cfg.QueueID,
		Producer: "loader-producer__a1b2c3", Status: protocol.StatusFinished, Finished: true, RecordsWritten: records,
		Timestamp: protocol.Timestamp(time.Now())})
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if e := ev.WaitForFrom(t, connector.Name, protocol.StatusFinished, 10*time.Second); e.RecordsWritten != records {
		t.Errorf("finished with %d records, want %d", e.RecordsWritten, records)
	}
	var outages int
	for _, e := range ev.All() {
		if e.Status == protocol.StatusError {
			outages++
			if e.Finished {
				t.Errorf("outage reported as terminal: %+v", e)
			}
		}
	}
	if outages != 1 {
		t.Errorf("outage reported %d times, want once", outages)
	}
}
