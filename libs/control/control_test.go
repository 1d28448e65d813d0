package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/control"
	"github.com/streamforge/streamforge/libs/protocol"
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
