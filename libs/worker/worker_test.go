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
	t.Run("stop with a result", func(t *testing.T) {
		w := start(t, cfg, ctx)
		ev := testkit.WatchEvents(t, cfg, w.Task.QueueID)
		stop, _ := json.Marshal(protocol.Command{Command: protocol.CommandStop, QueueID: w.Task.QueueID, Timestamp: protocol.Timestamp(time.Now())})
		if err := w.Producer.Publish(ctx, protocol.TopicControl, []byte(w.Task.QueueID), stop); err != nil {
			t.Fatal(err)
		}
		<-w.Work().Done()
		if err := w.EndWith(ctx, nil, nil, map[string]int{"hours": 2}); err != nil {
			t.Fatalf("EndWith after stop = %v, want nil", err)
		}
		if e := ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second); e.Message != protocol.ReasonStopRequested || string(e.Result) != `{"hours":2}` {
			t.Errorf("interrupted event = %+v, result %s; want the stop's reason and the result", e, e.Result)
		}
	})
}

func TestStartFailsFastOnWrongPassword(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{SASLUser: "u", SASLPassword: "right"})
	cfg.Password = "wrong"
	rt := &service.Runtime{Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	begin := time.Now()
	_, err := worker.Start(context.Background(), rt, cfg, protocol.Task{QueueID: "q"}, worker.Options{Service: "x", HeartbeatInterval: time.Hour})
	if !errors.Is(err, bus.ErrAccess) {
		t.Fatalf("Start with a wrong password = %v, want ErrAccess", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("Start took %s to refuse a wrong password: it waited as for an unreachable broker", took)
	}
}

// TestStartWaitsForABrokerThatComesUp: a worker started while its broker
// is down (a rolling restart) waits for it and starts once it answers.
func TestStartWaitsForABrokerThatComesUp(t *testing.T) {
	b, err := embedded.Start(embedded.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.Config()
	b.Close()
	restarted := make(chan *embedded.Broker, 1)
	go func() {
		time.Sleep(3 * time.Second)
		nb, err := b.Restart()
		if err != nil {
			t.Error(err)
		}
		restarted <- nb
	}()
	t.Cleanup(func() {
		if nb := <-restarted; nb != nil {
			nb.Close()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rt := &service.Runtime{Name: "test-worker", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	w, err := worker.Start(ctx, rt, cfg, protocol.Task{QueueID: testkit.QueueID(t, "BTCUSDT", "api_trades")},
		worker.Options{Service: "test-worker", HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true, StartWait: 45 * time.Second})
	if err != nil {
		t.Fatalf("Start while the broker restarts: %v", err)
	}
	w.Close()
}

// TestStartGivesUpAfterStartWait: a broker that stays down fails the start
// once StartWait has passed, with an error that names the variable.
func TestStartGivesUpAfterStartWait(t *testing.T) {
	b, err := embedded.Start(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.Config()
	b.Close()
	rt := &service.Runtime{Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	begin := time.Now()
	_, err = worker.Start(context.Background(), rt, cfg, protocol.Task{QueueID: "q"},
		worker.Options{Service: "x", HeartbeatInterval: time.Hour, StartWait: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "KAFKA_START_WAIT") {
		t.Errorf("Start against a broker that stays down = %v, want an error naming KAFKA_START_WAIT", err)
	}
	if took := time.Since(begin); took < 2*time.Second || took > 15*time.Second {
		t.Errorf("Start gave up after %s, want about StartWait (2s)", took)
	}
}

func TestSettingsValidateNamesVariable(t *testing.T) {
	good := worker.Settings{ProgressInterval: time.Second, HeartbeatInterval: time.Second, ControlLookback: time.Hour, StartWait: time.Minute}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for name, edit := range map[string]func(*worker.Settings){
		"PROGRESS_INTERVAL":  func(s *worker.Settings) { s.ProgressInterval = 0 },
		"HEARTBEAT_INTERVAL": func(s *worker.Settings) { s.HeartbeatInterval = -time.Second },
		"CONTROL_LOOKBACK":   func(s *worker.Settings) { s.ControlLookback = 0 },
		"KAFKA_START_WAIT":   func(s *worker.Settings) { s.StartWait = -time.Second },
	} {
		s := good
		edit(&s)
		if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("bad %s: got %v, want an error naming it", name, err)
		}
	}
	if o := good.Options("graph-builder"); o.Service != "graph-builder" || o.HeartbeatInterval != time.Second || o.ControlLookback != time.Hour || o.StartWait != time.Minute {
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
