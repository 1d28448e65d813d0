package connector_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector"
)

// stopCommand sends the task's stop command, as queue-manager does when a
// workflow is stopped.
func (f *fixture) stopCommand(t *testing.T) {
	t.Helper()
	testkit.Publish(t, f.kafka, protocol.TopicControl, f.cfg.QueueID, protocol.Command{Command: protocol.CommandStop,
		QueueID: f.cfg.QueueID, Timestamp: protocol.Timestamp(time.Now())})
}

// awaitWrite waits until the connector's first store write began.
func (f *fixture) awaitWrite(t *testing.T) {
	t.Helper()
	select {
	case <-f.st.writing:
	case <-time.After(30 * time.Second):
		t.Fatal("no write began")
	}
}

// stored returns the store's count of the fixture's records and its
// coverage ledger of the day's first hours.
func (f *fixture) stored(t *testing.T) (int64, []coverage.Hour) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	n, err := st.CountRange(context.Background(), f.cfg.CollectionName, "BTCUSDT", day, day+coverage.HourMs)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := coverage.Read(context.Background(), st, "BTCUSDT", "ws_trades", day, day+3*coverage.HourMs)
	if err != nil {
		t.Fatal(err)
	}
	return n, hs
}

// TestStopDrainsAndWritesTheLedger: a stop command reaches the connector
// while most of the loader's records are still in the topic, and the
// loader, stopped by the same command, reports its ledger in its
// interrupted event. The connector stores every record first, writes the
// ledger into the coverage collection (the streamed hour present, stored
// as published) and ends interrupted with the ledger's summary.
func TestStopDrainsAndWritesTheLedger(t *testing.T) {
	const records = 600 // twelve batches of 50, each write slowed down
	f := newFixture(t, records, 30*time.Millisecond)
	f.cfg.StopDrain = time.Minute
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	tr := coverage.NewTracker("BTCUSDT", "ws_trades", day, 0, nil)
	for i := range int64(records) {
		tr.Count(day+i, coverage.Live)
	}
	tr.Stop(day + records)
	result, err := json.Marshal(coverage.Result{Coverage: []coverage.Ledger{tr.Ledger()}})
	if err != nil {
		t.Fatal(err)
	}
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	errc := f.run(t, context.Background())
	f.awaitWrite(t)
	f.stopCommand(t)
	testkit.Publish(t, f.kafka, protocol.TopicEvents, f.cfg.QueueID, protocol.Event{QueueID: f.cfg.QueueID,
		Producer: "loader-producer__a1b2c3", Status: protocol.StatusInterrupted, Finished: true, Message: protocol.ReasonStopRequested,
		RecordsWritten: records, Timestamp: protocol.Timestamp(time.Now()), Result: result})
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	in := ev.WaitForFrom(t, connector.Name, protocol.StatusInterrupted, 10*time.Second)
	var got struct {
		Coverage coverage.Summary `json:"coverage"`
	}
	if err := json.Unmarshal(in.Result, &got); err != nil {
		t.Fatalf("interrupted event's result %q: %v", in.Result, err)
	}
	if want := (coverage.Summary{Hours: 1, Present: 1, Complete: true}); got.Coverage != want {
		t.Errorf("interrupted with coverage %+v, want %+v", got.Coverage, want)
	}
	if in.Message != protocol.ReasonStopRequested {
		t.Errorf("interrupted event says %q, want %q", in.Message, protocol.ReasonStopRequested)
	}
	n, hs := f.stored(t)
	if n != records {
		t.Errorf("the store holds %d of the %d records the loader wrote", n, records)
	}
	if len(hs) != 1 || hs[0].State != coverage.Present || hs[0].Records != records || hs[0].Stored == nil || *hs[0].Stored != records {
		t.Errorf("coverage collection %+v, want the hour present with %d records stored", hs, records)
	}
}

// TestStopWithoutTheLoaderEnds: a stop command whose loader never reports
// its end ends the run after CONNECTOR_STOP_DRAIN, interrupted, without a
// ledger.
func TestStopWithoutTheLoaderEnds(t *testing.T) {
	f := newFixture(t, 100, 0)
	f.cfg.StopDrain = 300 * time.Millisecond
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	errc := f.run(t, context.Background())
	f.awaitWrite(t)
	f.stopCommand(t)
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if in := ev.WaitForFrom(t, connector.Name, protocol.StatusInterrupted, 10*time.Second); len(in.Result) != 0 {
		t.Errorf("interrupted with result %s, want none: the loader reported no ledger", in.Result)
	}
	if _, hs := f.stored(t); len(hs) != 0 {
		t.Errorf("coverage written without a ledger from the loader: %+v", hs)
	}
}

// TestSignalDoesNotDrain: a signal (not a stop command) ends the run at
// once, whatever CONNECTOR_STOP_DRAIN says: Kubernetes deletes a Pod
// with a grace period of its own, and the drain would wait for a loader
// that is not coming.
func TestSignalDoesNotDrain(t *testing.T) {
	f := newFixture(t, 100, 0)
	f.cfg.StopDrain = time.Hour
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := f.run(t, ctx)
	f.awaitWrite(t)
	cancel()
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run after a signal = %v, want nil", err)
	}
	if in := ev.WaitForFrom(t, connector.Name, protocol.StatusInterrupted, 10*time.Second); in.Message != protocol.ReasonSignal || len(in.Result) != 0 {
		t.Errorf("interrupted event %+v (result %s), want stopped by signal without a result", in, in.Result)
	}
}
