package control_test

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
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/control"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

type pongs struct {
	mu  sync.Mutex
	ids []string
}

func (p *pongs) Pong(_ context.Context, replyTo string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, replyTo)
	return nil
}

// feed is a Source that delivers fixed messages and then waits for ctx.
type feed [][]byte

func (f feed) Run(ctx context.Context, h func(context.Context, bus.Message) error) error {
	for i, v := range f {
		if err := h(ctx, bus.Message{Topic: protocol.TopicControl, Offset: int64(i), Value: v}); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

const qid = "wf-btcusdt-api_trades-20240801-a1b2c3"

var now = time.Date(2024, 8, 1, 12, 0, 0, 0, time.UTC)

func cmd(t *testing.T, c protocol.Command) []byte {
	t.Helper()
	if c.Timestamp == 0 {
		c.Timestamp = protocol.Timestamp(now.Add(-time.Second))
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListenerSurvivesMalformedAndActsOnItsCommands(t *testing.T) {
	msgs := feed{
		[]byte(`not json at all`),
		[]byte(`{"command":"ping","queue_id":` + "\"" + qid + "\"" + `,"timestamp":"yesterday"}`),
		[]byte(`{"command":"self-destruct","queue_id":"` + qid + `","timestamp":1}`),
		[]byte(`[1,2,3]`),
		[]byte(``),
		cmd(t, protocol.Command{Command: protocol.CommandPing, QueueID: "wf-other-api_trades-20240801-000000", CommandID: "other"}),
		cmd(t, protocol.Command{Command: protocol.CommandPing, QueueID: qid, Target: "loader-api-candles", CommandID: "not-me"}),
		cmd(t, protocol.Command{Command: protocol.CommandPing, QueueID: qid, Timestamp: protocol.Timestamp(now.Add(-time.Hour)), CommandID: "stale"}),
		cmd(t, protocol.Command{Command: protocol.CommandPing, QueueID: qid, CommandID: "p1"}),
		cmd(t, protocol.Command{Command: protocol.CommandPing, QueueID: qid, Target: "dummy-service__a1b2c3", CommandID: "p2"}),
		cmd(t, protocol.Command{Command: protocol.CommandStart, QueueID: qid, Target: "dummy-service", Symbol: "BTCUSDT", Type: "api_trades"}),
		cmd(t, protocol.Command{Command: protocol.CommandStop, QueueID: qid}),
		cmd(t, protocol.Command{Command: protocol.CommandStop, QueueID: qid}),
	}
	p := &pongs{}
	reg := prometheus.NewRegistry()
	l := control.New(msgs, p, control.Options{QueueID: qid, Service: "dummy-service", TelemetryID: "dummy-service__a1b2c3",
		Now: func() time.Time { return now }, Registerer: reg, Log: zerolog.Nop()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	select {
	case <-l.Stopped():
	case <-ctx.Done():
		t.Fatal("stop never arrived: the listener died on a bad message")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if got := testutil.ToFloat64(l.MalformedCounter()); got != 5 {
		t.Errorf("malformed = %v, want 5", got)
	}
	p.mu.Lock()
	if len(p.ids) != 2 || p.ids[0] != "p1" || p.ids[1] != "p2" {
		t.Errorf("pongs for %v, want [p1 p2]", p.ids)
	}
	p.mu.Unlock()
	if got := testutil.ToFloat64(l.CommandCounter(protocol.CommandStop)); got != 2 {
		t.Errorf("stop commands = %v, want 2", got)
	}
	select {
	case s := <-l.Starts():
		if s.Symbol != "BTCUSDT" {
			t.Errorf("start = %+v", s)
		}
	default:
		t.Error("start command not delivered")
	}
}

func TestWithStopCancelsWithCause(t *testing.T) {
	stop := cmd(t, protocol.Command{Command: protocol.CommandStop, QueueID: qid})
	l := control.New(feed{stop}, &pongs{}, control.Options{QueueID: qid, Service: "x", Now: func() time.Time { return now }, Log: zerolog.Nop()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	work, stopWork := control.WithStop(ctx, l)
	defer stopWork()
	go func() { _ = l.Run(ctx) }()
	<-work.Done()
	if !errors.Is(context.Cause(work), control.ErrStopRequested) {
		t.Fatalf("cause = %v, want ErrStopRequested", context.Cause(work))
	}
}

// TestListenerIgnoresCommandsOfOtherRuns: a worker of run r1 acts on the
// start and stop commands of r1 and of senders that name no run, and
// ignores (and counts) those of another attempt of the same task.
func TestListenerIgnoresCommandsOfOtherRuns(t *testing.T) {
	const r1, r0, r2 = qid + ".load.1", qid + ".load.0", qid + ".load.2"
	cases := []struct {
		name      string
		own       string
		msgs      []protocol.Command
		wantStops float64
		wantStart []string // the run ids of the starts delivered
		wantOther float64
	}{
		{
			name: "stale stop and start of an older run",
			own:  r1,
			msgs: []protocol.Command{
				{Command: protocol.CommandStart, QueueID: qid, RunID: r0, Target: "dummy-service", Symbol: "ETHUSDT", Type: "api_trades"},
				{Command: protocol.CommandStop, QueueID: qid, RunID: r0},
				{Command: protocol.CommandStart, QueueID: qid, RunID: r1, Target: "dummy-service", Symbol: "BTCUSDT", Type: "api_trades"},
			},
			wantStart: []string{r1},
			wantOther: 2,
		},
		{
			name: "stop of a newer run",
			own:  r1,
			msgs: []protocol.Command{
				{Command: protocol.CommandStop, QueueID: qid, RunID: r2},
			},
			wantOther: 1,
		},
		{
			name: "own run and no run are accepted",
			own:  r1,
			msgs: []protocol.Command{
				{Command: protocol.CommandStart, QueueID: qid, Target: "dummy-service", Symbol: "BTCUSDT", Type: "api_trades"},
				{Command: protocol.CommandStop, QueueID: qid},
				{Command: protocol.CommandStop, QueueID: qid, RunID: r1},
			},
			wantStops: 2,
			wantStart: []string{""},
		},
		{
			name: "a worker without a run accepts every run",
			msgs: []protocol.Command{
				{Command: protocol.CommandStart, QueueID: qid, RunID: r0, Target: "dummy-service", Symbol: "BTCUSDT", Type: "api_trades"},
				{Command: protocol.CommandStop, QueueID: qid, RunID: r2},
			},
			wantStops: 1,
			wantStart: []string{r0},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := control.New(nil, &pongs{}, control.Options{QueueID: qid, Service: "dummy-service", RunID: c.own,
				Now: func() time.Time { return now }, Log: zerolog.Nop()})
			for i, m := range c.msgs {
				if err := l.Handle(context.Background(), bus.Message{Offset: int64(i), Value: cmd(t, m)}); err != nil {
					t.Fatalf("Handle(%d) = %v", i, err)
				}
			}
			if got := testutil.ToFloat64(l.CommandCounter(protocol.CommandStop)); got != c.wantStops {
				t.Errorf("stops acted on = %v, want %v", got, c.wantStops)
			}
			select {
			case <-l.Stopped():
				if c.wantStops == 0 {
					t.Error("stopped by a command of another run")
				}
			default:
				if c.wantStops > 0 {
					t.Error("not stopped")
				}
			}
			var starts []string
			for len(l.Starts()) > 0 {
				starts = append(starts, (<-l.Starts()).RunID)
			}
			if diff := cmp.Diff(c.wantStart, starts); diff != "" {
				t.Errorf("starts delivered (-want +got):\n%s", diff)
			}
			if got := testutil.ToFloat64(l.OtherRunCounter()); got != c.wantOther {
				t.Errorf("other-run commands = %v, want %v", got, c.wantOther)
			}
		})
	}
}

// TestSetRunIDFiltersLaterCommands: a worker that learns its run from a
// start command ignores the stop of another run afterwards.
func TestSetRunIDFiltersLaterCommands(t *testing.T) {
	l := control.New(nil, &pongs{}, control.Options{QueueID: qid, Service: "x", Now: func() time.Time { return now }, Log: zerolog.Nop()})
	l.SetRunID(qid + ".load.2")
	if err := l.Handle(context.Background(), bus.Message{Value: cmd(t, protocol.Command{Command: protocol.CommandStop, QueueID: qid, RunID: qid + ".load.1"})}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Stopped():
		t.Fatal("stopped by the stop of an older run")
	default:
	}
	if got := testutil.ToFloat64(l.OtherRunCounter()); got != 1 {
		t.Errorf("other-run commands = %v, want 1", got)
	}
}

// TestWithStopCancelWaitsForItsGoroutine: once the cancel function returns,
// nothing of WithStop runs any more.
func TestWithStopCancelWaitsForItsGoroutine(t *testing.T) {
	l := control.New(feed{}, &pongs{}, control.Options{QueueID: qid, Service: "x", Log: zerolog.Nop()})
	for range 50 {
		_, stopWork := control.WithStop(context.Background(), l)
		stopWork()
		testkit.NoneRunning(t, "github.com/streamforge/streamforge/libs/control.watchStop")
	}
}

// outage is a Source that fails its first reads (Kafka unreachable) and
// then delivers msgs.
type outage struct {
	fails int
	msgs  feed
}

func (o *outage) Run(ctx context.Context, h func(context.Context, bus.Message) error) error {
	if o.fails > 0 {
		o.fails--
		return errors.New("dial tcp 127.0.0.1:9092: connect: connection refused")
	}
	return o.msgs.Run(ctx, h)
}

func TestListenerRidesOutAnOutage(t *testing.T) {
	src := &outage{fails: 2, msgs: feed{cmd(t, protocol.Command{Command: protocol.CommandStop, QueueID: qid})}}
	l := control.New(src, &pongs{}, control.Options{QueueID: qid, Service: "x", Now: func() time.Time { return now }, Log: zerolog.Nop()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	select {
	case <-l.Stopped():
	case err := <-errc:
		t.Fatalf("Run = %v before the stop sent after the outage arrived", err)
	case <-ctx.Done():
		t.Fatal("the stop sent after the outage never arrived")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}
