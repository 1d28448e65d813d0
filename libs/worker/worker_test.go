package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/libs/worker"
)

func start(t *testing.T, cfg bus.Config, ctx context.Context) *worker.Worker {
	t.Helper()
	q := testkit.QueueID(t, "BTCUSDT", "api_trades")
	rt := &service.Runtime{Name: "test-worker", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	w, err := worker.Start(ctx, rt, cfg, protocol.Task{QueueID: q, Symbol: "BTCUSDT", Type: "api_trades"},
		worker.Options{Service: "test-worker", HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if w.Task.TelemetryID != protocol.TelemetryID("test-worker", q[len(q)-6:]) {
		t.Errorf("telemetry id %q not derived from the queue id", w.Task.TelemetryID)
	}
	if err := w.Started(ctx, "go"); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestEndSendsTheTerminalEventThatFits(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{})
	ctx := context.Background()

	t.Run("finished", func(t *testing.T) {
		w := start(t, cfg, ctx)
		ev := testkit.WatchEvents(t, cfg, w.Task.QueueID)
		err := w.End(ctx, nil, func(ctx context.Context) error { return w.Events.Finished(ctx, 42, "done") })
		if err != nil {
			t.Fatal(err)
		}
		if e := ev.WaitFor(t, protocol.StatusFinished, 10*time.Second); e.RecordsWritten != 42 {
			t.Errorf("finished event = %+v", e)
		}
	})
	t.Run("fatal error", func(t *testing.T) {
		w := start(t, cfg, ctx)
		ev := testkit.WatchEvents(t, cfg, w.Task.QueueID)
		boom := errors.New("exchange banned us")
		if err := w.End(ctx, boom, func(context.Context) error { t.Error("finished on an error"); return nil }); !errors.Is(err, boom) {
			t.Fatalf("End = %v, want the job's error", err)
		}
		if e := ev.WaitFor(t, protocol.StatusError, 10*time.Second); !e.Finished || e.Error != boom.Error() {
			t.Errorf("error event = %+v, want terminal with the cause", e)
		}
	})
	t.Run("stop command", func(t *testing.T) {
		w := start(t, cfg, ctx)
		ev := testkit.WatchEvents(t, cfg, w.Task.QueueID)
		stop, _ := json.Marshal(protocol.Command{Command: protocol.CommandStop, QueueID: w.Task.QueueID, Timestamp: protocol.Timestamp(time.Now())})
		if err := w.Producer.Publish(ctx, protocol.TopicControl, []byte(w.Task.QueueID), stop); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.Work().Done():
		case <-time.After(10 * time.Second):
			t.Fatal("work not cancelled by the stop command")
		}
		// The job fails because it was cancelled: that is a stop, not an error.
		if err := w.End(ctx, context.Cause(w.Work()), nil); err != nil {
			t.Fatalf("End after stop = %v, want nil", err)
		}
		if e := ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second); e.Message != "stopped on request" {
			t.Errorf("interrupted event = %+v", e)
		}
	})
	t.Run("signal", func(t *testing.T) {
		sig, cancel := context.WithCancel(ctx)
		w := start(t, cfg, sig)
		ev := testkit.WatchEvents(t, cfg, w.Task.QueueID)
		cancel()
		if err := w.End(sig, nil, nil); err != nil {
			t.Fatalf("End after a signal = %v, want nil", err)
		}
		if e := ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second); e.Message != "stopped by signal" {
			t.Errorf("interrupted event = %+v", e)
		}
	})
}

func TestStartFailsFastOnWrongPassword(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{SASLUser: "u", SASLPassword: "right"})
	cfg.Password = "wrong"
	rt := &service.Runtime{Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	_, err := worker.Start(context.Background(), rt, cfg, protocol.Task{QueueID: "q"}, worker.Options{Service: "x", HeartbeatInterval: time.Hour})
	if err == nil {
		t.Fatal("Start accepted a wrong password")
	}
}

func TestSettingsValidateNamesVariable(t *testing.T) {
	good := worker.Settings{ProgressInterval: time.Second, HeartbeatInterval: time.Second, ControlLookback: time.Hour}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for name, edit := range map[string]func(*worker.Settings){
		"PROGRESS_INTERVAL":  func(s *worker.Settings) { s.ProgressInterval = 0 },
		"HEARTBEAT_INTERVAL": func(s *worker.Settings) { s.HeartbeatInterval = -time.Second },
		"CONTROL_LOOKBACK":   func(s *worker.Settings) { s.ControlLookback = 0 },
	} {
		s := good
		edit(&s)
		if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("bad %s: got %v, want an error naming it", name, err)
		}
	}
	if o := good.Options("graph-builder"); o.Service != "graph-builder" || o.HeartbeatInterval != time.Second || o.ControlLookback != time.Hour {
		t.Errorf("Options = %+v", o)
	}
}

// TestStopOfAnotherRunIsIgnored: a worker of run r1 is not stopped by a
// stale stop for run r0 of the same task, and is by its own.
func TestStopOfAnotherRunIsIgnored(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{})
	ctx := context.Background()
	q := testkit.QueueID(t, "BTCUSDT", "api_trades")
	rt := &service.Runtime{Name: "test-worker", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	w, err := worker.Start(ctx, rt, cfg, protocol.Task{QueueID: q, Symbol: "BTCUSDT", Type: "api_trades", RunID: q + ".load.1"},
		worker.Options{Service: "test-worker", HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	ev := testkit.WatchEvents(t, cfg, q)
	send := func(c protocol.Command) {
		t.Helper()
		c.QueueID, c.Timestamp = q, protocol.Timestamp(time.Now())
		b, _ := json.Marshal(c)
		if err := w.Producer.Publish(ctx, protocol.TopicControl, []byte(q), b); err != nil {
			t.Fatal(err)
		}
	}
	send(protocol.Command{Command: protocol.CommandStop, RunID: q + ".load.0"})
	// The ping follows the stale stop on the same partition: once it is
	// answered, the stop was read.
	send(protocol.Command{Command: protocol.CommandPing, CommandID: "after-stale-stop"})
	if e := ev.WaitFor(t, protocol.StatusPong, 10*time.Second); e.ReplyTo != "after-stale-stop" {
		t.Fatalf("pong = %+v", e)
	}
	if err := w.Work().Err(); err != nil {
		t.Fatalf("work cancelled by the stop of another run: %v", context.Cause(w.Work()))
	}
	send(protocol.Command{Command: protocol.CommandStop, RunID: q + ".load.1"})
	select {
	case <-w.Work().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("work not cancelled by its own run's stop")
	}
	if got := testutil.ToFloat64(w.Control.OtherRunCounter()); got != 1 {
		t.Errorf("commands of other runs = %v, want 1", got)
	}
}

// TestCloseWaitsForItsGoroutines: when Close returns, the queue-control
// listener, the heartbeats and the stop watcher have ended, so nothing is
// sent on the producer Close released.
func TestCloseWaitsForItsGoroutines(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{})
	ctx := context.Background()
	rt := &service.Runtime{Name: "test-worker", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	for range 5 {
		w, err := worker.Start(ctx, rt, cfg, protocol.Task{QueueID: testkit.QueueID(t, "BTCUSDT", "api_trades")},
			worker.Options{Service: "test-worker", HeartbeatInterval: time.Millisecond, ControlLookback: time.Minute, CreateTopics: true})
		if err != nil {
			t.Fatal(err)
		}
		rt.Registry = prometheus.NewRegistry()
		time.Sleep(20 * time.Millisecond) // heartbeats under way
		w.Close()
		testkit.NoneRunning(t,
			"github.com/streamforge/streamforge/libs/telemetry.(*Emitter).RunHeartbeats",
			"github.com/streamforge/streamforge/libs/control.(*Listener).Run",
			"github.com/streamforge/streamforge/libs/control.watchStop",
			"github.com/streamforge/streamforge/libs/bus.(*Tail).Run",
		)
	}
}
