package connector

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// fakeDLQ keeps what is dead-lettered; with err set, every send fails.
type fakeDLQ struct {
	sent []bus.Message
	err  error
}

func (f *fakeDLQ) Send(_ context.Context, msgs ...bus.Message) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, msgs...)
	return nil
}

// nopPublisher drops events.
type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, string, []byte, []byte) error { return nil }

func newTestSink(t *testing.T, dlq sender) (*sink, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := st.EnsureCollection(context.Background(), store.MarketData("trades")); err != nil {
		t.Fatal(err)
	}
	task := protocol.Task{QueueID: "wf-sink-test"}
	return &sink{st: st, collection: "trades", dlq: dlq, dlqTopic: "wf-sink-test-data-dlq",
		em: telemetry.New(nopPublisher{}, task, "arango-connector__a1b2c3", telemetry.Options{}),
		m:  newMetrics(prometheus.NewRegistry()), log: zerolog.Nop(), retryMax: time.Second, progress: time.Hour}, st
}

// batch returns records at offsets 10, 11, ... of partition 2 of the data
// topic; the ones at the indexes in bad have no _key, which every store
// rejects.
func batch(n int, bad ...int) []bus.Message {
	var msgs []bus.Message
	for i := range n {
		v := `{"_key":"BTCUSDT_` + strconv.Itoa(i) + `","symbol":"BTCUSDT","time":` + strconv.Itoa(1722470400000+i) + `}`
		for _, b := range bad {
			if b == i {
				v = `{"symbol":"BTCUSDT","time":1}`
			}
		}
		msgs = append(msgs, bus.Message{Topic: "wf-sink-test-data", Partition: 2, Offset: int64(10 + i), Key: []byte("BTCUSDT"), Value: []byte(v)})
	}
	return msgs
}

// TestSinkDeadLettersRejectedRecords: the records the store rejects go to
// the dead-letter topic with the reason and their place in the data topic;
// the others are stored and counted.
func TestSinkDeadLettersRejectedRecords(t *testing.T) {
	dlq := &fakeDLQ{}
	s, st := newTestSink(t, dlq)
	in := batch(5, 1, 3)
	if err := s.handle(context.Background(), in); err != nil {
		t.Fatalf("handle = %v", err)
	}
	if got := s.written.Load(); got != 3 {
		t.Errorf("%d records counted as stored, want 3", got)
	}
	if n, err := st.Count(context.Background(), "trades"); err != nil || n != 3 {
		t.Errorf("store holds %d records (%v), want 3", n, err)
	}
	if len(dlq.sent) != 2 {
		t.Fatalf("%d records dead-lettered, want 2", len(dlq.sent))
	}
	for i, m := range dlq.sent {
		src := in[[]int{1, 3}[i]]
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if m.Topic != s.dlqTopic || string(m.Value) != string(src.Value) || string(m.Key) != string(src.Key) {
			t.Errorf("dead letter %d: topic %s key %s value %s, want %s %s %s", i, m.Topic, m.Key, m.Value, s.dlqTopic, src.Key, src.Value)
		}
		want := map[string]string{HeaderTopic: src.Topic, HeaderPartition: "2", HeaderOffset: strconv.FormatInt(src.Offset, 10)}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("dead letter %d: header %s = %q, want %q", i, k, h[k], v)
			}
		}
		if h[HeaderReason] == "" {
			t.Errorf("dead letter %d: no %s header", i, HeaderReason)
		}
	}
}

// TestSinkFailsWhenDeadLetteringFails: a batch whose rejected records could
// not be dead-lettered is not reported handled, so its offsets are not
// committed and it is read again.
func TestSinkFailsWhenDeadLetteringFails(t *testing.T) {
	dlq := &fakeDLQ{err: errors.New("broker says no")}
	s, _ := newTestSink(t, dlq)
	if err := s.handle(context.Background(), batch(4, 0)); !errors.Is(err, dlq.err) {
		t.Fatalf("handle = %v, want the dead-letter send's error", err)
	}
	if got := s.written.Load(); got != 0 {
		t.Errorf("%d records counted as stored by a batch that failed, want 0", got)
	}
}

func TestLoaderFinished(t *testing.T) {
	const q = "wf-btcusdt-api_trades-20240801-a1b2c3"
	finished := protocol.Event{QueueID: q, Producer: "loader-producer__a1b2c3", Status: protocol.StatusFinished, Finished: true,
		RunID: protocol.RunID(q, protocol.StepLoad, 2)}
	tests := []struct {
		name  string
		edit  func(e *protocol.Event)
		runID string // the connector's own run; "" when started outside a workflow
		want  bool
	}{
		{"a loader's finished event", func(*protocol.Event) {}, "", true},
		{"another task's", func(e *protocol.Event) { e.QueueID = "wf-ethusdt-api_trades-20240801-a1b2c3" }, "", false},
		{"a connector's own", func(e *protocol.Event) { e.Producer = Name + "__d4e5f6" }, "", false},
		{"a progress event", func(e *protocol.Event) { e.Status, e.Finished = protocol.StatusLoading, false }, "", false},
		{"finished status but not terminal", func(e *protocol.Event) { e.Finished = false }, "", false},
		{"a loader's error", func(e *protocol.Event) { e.Status = protocol.StatusError }, "", false},
		{"a load run's, in a workflow", func(*protocol.Event) {}, protocol.RunID(q, protocol.StepStore, 1), true},
		{"forged with no run, in a workflow", func(e *protocol.Event) { e.RunID = "" }, protocol.RunID(q, protocol.StepStore, 1), false},
		{"forged with a store run, in a workflow", func(e *protocol.Event) { e.RunID = protocol.RunID(q, protocol.StepStore, 1) },
			protocol.RunID(q, protocol.StepStore, 1), false},
		{"another task's load run, in a workflow", func(e *protocol.Event) {
			e.RunID = protocol.RunID("wf-ethusdt-api_trades-20240801-a1b2c3", protocol.StepLoad, 1)
		}, protocol.RunID(q, protocol.StepStore, 1), false},
		{"no run, outside a workflow", func(e *protocol.Event) { e.RunID = "" }, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := finished
			tc.edit(&e)
			if got := loaderFinished(e, q, tc.runID); got != tc.want {
				t.Errorf("loaderFinished(%+v) = %v, want %v", e, got, tc.want)
			}
		})
	}
}
