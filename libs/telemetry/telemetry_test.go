package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// recorder is an in-memory Publisher that decodes what it is sent.
type recorder struct {
	mu     sync.Mutex
	events []protocol.Event
	keys   []string
	fail   error
}

func (r *recorder) Publish(_ context.Context, topic string, key, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if topic != protocol.TopicEvents {
		return errors.New("wrong topic " + topic)
	}
	ev, err := protocol.DecodeEvent(value)
	if err != nil {
		return err
	}
	r.events = append(r.events, ev)
	r.keys = append(r.keys, string(key))
	return nil
}

func (r *recorder) statuses() []protocol.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []protocol.Status
	for _, e := range r.events {
		out = append(out, e.Status)
	}
	return out
}

var task = protocol.Task{QueueID: "wf-btcusdt-api_trades-20240801-a1b2c3", Symbol: "BTCUSDT", Type: "api_trades"}

func fixedClock() func() time.Time {
	at := time.Date(2024, 8, 1, 8, 13, 20, 123e6, time.UTC)
	return func() time.Time { return at }
}

func TestLifecycle(t *testing.T) {
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	e := telemetry.New(rec, task, "loader-api-trades__a1b2c3", telemetry.Options{Now: fixedClock(), Registerer: reg})
	ctx := context.Background()
	steps := []func() error{
		func() error { return e.Started(ctx, "loading BTCUSDT") },
		func() error { return e.Progress(ctx, 1000, "1000 records") },
		func() error { return e.Heartbeat(ctx) },
		func() error { return e.Finished(ctx, 1500, "done") },
		func() error { return e.Heartbeat(ctx) },          // after the end: dropped
		func() error { return e.Progress(ctx, 2000, "") }, // dropped too
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []protocol.Status{protocol.StatusStarted, protocol.StatusLoading, protocol.StatusHeartbeat, protocol.StatusFinished}
	if d := cmp.Diff(want, rec.statuses()); d != "" {
		t.Fatalf("statuses (-want +got):\n%s", d)
	}
	hb, fin := rec.events[2], rec.events[3]
	if hb.RecordsWritten != 1000 || hb.Finished {
		t.Errorf("heartbeat = %+v, want records 1000, not finished", hb)
	}
	wantFin := protocol.Event{QueueID: task.QueueID, Producer: "loader-api-trades__a1b2c3", Symbol: "BTCUSDT", Type: "api_trades",
		Status: protocol.StatusFinished, Message: "done", RecordsWritten: 1500, Finished: true, Timestamp: 1722500000.123}
	if d := cmp.Diff(wantFin, fin); d != "" {
		t.Errorf("finished event (-want +got):\n%s", d)
	}
	for _, k := range rec.keys {
		if k != task.QueueID {
			t.Errorf("event keyed %q, want the queue id", k)
		}
	}
	if got := testutil.ToFloat64(e.SentCounter(protocol.StatusHeartbeat)); got != 1 {
		t.Errorf("heartbeats counted = %v, want 1", got)
	}
	if !e.Done() {
		t.Error("Done() = false after finished")
	}
}

func TestFinishedWithResult(t *testing.T) {
	rec := &recorder{}
	e := telemetry.New(rec, task, "graph-builder__a1b2c3", telemetry.Options{Now: fixedClock()})
	ctx := context.Background()
	if err := e.FinishedWith(ctx, 3, "built", []int{1}); err == nil {
		t.Fatal("FinishedWith accepted an array as result")
	}
	if len(rec.events) != 0 {
		t.Fatalf("a rejected result was sent: %+v", rec.events)
	}
	if err := e.FinishedWith(ctx, 3, "built", map[string]int{"nodes": 2, "edges": 1}); err != nil {
		t.Fatal(err)
	}
	got := rec.events[0]
	if got.Status != protocol.StatusFinished || !got.Finished || got.RecordsWritten != 3 || string(got.Result) != `{"edges":1,"nodes":2}` {
		t.Fatalf("finished event %+v result %s", got, got.Result)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	back, err := protocol.DecodeEvent(b)
	if err != nil || string(back.Result) != `{"edges":1,"nodes":2}` {
		t.Fatalf("round trip: %v %s", err, back.Result)
	}
}

func TestErrorEvents(t *testing.T) {
	rec := &recorder{}
	e := telemetry.New(rec, task, "dummy-service__a1b2c3", telemetry.Options{})
	ctx := context.Background()
	if err := e.Progress(ctx, 100, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.Error(ctx, errors.New("bad row 7"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.Error(ctx, errors.New("binance banned us"), true); err != nil {
		t.Fatal(err)
	}
	if err := e.Interrupted(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 3 {
		t.Fatalf("got %d events, want 3 (nothing after the fatal error)", len(rec.events))
	}
	soft, fatal := rec.events[1], rec.events[2]
	if soft.Finished || soft.Error != "bad row 7" {
		t.Errorf("recoverable error = %+v", soft)
	}
	if !fatal.Finished || fatal.RecordsWritten != 100 || fatal.Error != "binance banned us" {
		t.Errorf("fatal error = %+v, want finished with records_written=100", fatal)
	}
}

func TestPublishFailureIsReturned(t *testing.T) {
	rec := &recorder{fail: errors.New("broker down")}
	e := telemetry.New(rec, task, "dummy-service__a1b2c3", telemetry.Options{})
	err := e.Finished(context.Background(), 1, "")
	if err == nil || !errors.Is(err, rec.fail) {
		t.Fatalf("Finished = %v, want the publish error", err)
	}
	if e.Done() {
		t.Error("a terminal event that was not delivered counts as sent")
	}
}

func TestHeartbeatsStopAtTerminal(t *testing.T) {
	rec := &recorder{}
	e := telemetry.New(rec, task, "dummy-service__a1b2c3", telemetry.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { e.RunHeartbeats(ctx, 5*time.Millisecond, nil); close(done) }()
	deadline := time.Now().Add(3 * time.Second)
	for len(rec.statuses()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.Finished(ctx, 0, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("heartbeats went on after the terminal event")
	}
	st := rec.statuses()
	if len(st) < 4 || st[len(st)-1] != protocol.StatusFinished {
		t.Fatalf("statuses %v: want heartbeats then finished last", st)
	}
}

// TestEveryEventCarriesTheRunID: the task's run id is in every event, and
// a run id learnt later (from a start command) in every later one.
func TestEveryEventCarriesTheRunID(t *testing.T) {
	cases := []struct {
		name    string
		taskRun string
		later   string
		want    []string
	}{
		{name: "from the environment", taskRun: "q.load.2", want: []string{"q.load.2", "q.load.2", "q.load.2"}},
		{name: "from a start command", later: "q.load.3", want: []string{"", "q.load.3", "q.load.3"}},
		{name: "an empty one changes nothing", taskRun: "q.load.2", later: "", want: []string{"q.load.2", "q.load.2", "q.load.2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			tk := task
			tk.RunID = c.taskRun
			e := telemetry.New(rec, tk, "loader-producer__a1b2c3", telemetry.Options{Now: fixedClock()})
			ctx := context.Background()
			if err := e.Started(ctx, "up"); err != nil {
				t.Fatal(err)
			}
			e.SetRunID(c.later)
			if err := e.Heartbeat(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.Interrupted(ctx, "stopped"); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range rec.events {
				got = append(got, ev.RunID)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("run ids (-want +got):\n%s", d)
			}
		})
	}
}
