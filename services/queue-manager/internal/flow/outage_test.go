package flow

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// downPub is a publisher that fails while down.
type downPub struct {
	fakePub
	down atomic.Bool
}

var errKafkaDown = errors.New("dial tcp 127.0.0.1:9092: connection refused")

func (p *downPub) Publish(ctx context.Context, topic string, key, value []byte) error {
	if p.down.Load() {
		return errKafkaDown
	}
	return p.fakePub.Publish(ctx, topic, key, value)
}

// TestLaunchWaitsWithoutUsingAnAttempt: a launch that cannot happen for a
// reason that says nothing about the step waits, and no attempt is used
// up: with Kafka unreachable the start command cannot be sent (a worker
// launched then could not report either), or the launcher's backend (the
// API server) is unavailable. Once it is back, attempt 1 runs.
func TestLaunchWaitsWithoutUsingAnAttempt(t *testing.T) {
	cases := []struct {
		name string
		// down makes the dependency unavailable and returns what brings it
		// back.
		down func(r *rig) (back func())
	}{
		{name: "start command cannot be sent", down: func(r *rig) func() {
			pub := &downPub{}
			pub.down.Store(true)
			r.eng.pub = pub
			return func() { pub.down.Store(false) }
		}},
		{name: "launcher unavailable", down: func(r *rig) func() {
			r.l.mu.Lock()
			defer r.l.mu.Unlock()
			r.l.fail = fmt.Errorf("create job: %w", errors.Join(launch.ErrUnavailable, errors.New("etcdserver: request timed out")))
			return func() {
				r.l.mu.Lock()
				defer r.l.mu.Unlock()
				r.l.fail = nil
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "", nil, Options{RetryBase: time.Second, MaxAttempts: 1})
			back := c.down(r)
			w, err := r.eng.Submit(context.Background(), oneLoad())
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				r.clk.add(2 * time.Second)
				r.eng.Tick(context.Background())
			}
			if n := len(r.l.specs()); n != 0 {
				t.Fatalf("%d runs started while unavailable, want none", n)
			}
			if got := r.get(w.ID); got.State == Failed || got.Steps[0].State != Pending || len(got.Steps[0].Attempts) != 0 {
				t.Fatalf("while unavailable: %s %+v; want the step waiting with no attempt used", got.State, got.Steps[0])
			}
			back()
			r.clk.add(2 * time.Second)
			r.eng.Tick(context.Background())
			got := r.get(w.ID).Steps[0]
			if got.State != Running || len(got.Attempts) != 1 || len(r.l.specs()) != 1 {
				t.Fatalf("once back: %+v, %d runs; want attempt 1 running", got, len(r.l.specs()))
			}
			if cmds := r.eng.pub.(interface{ started() []string }).started(); len(cmds) == 0 || cmds[len(cmds)-1] != got.Attempts[0].RunID {
				t.Errorf("start commands sent %v, want the last one for attempt 1", cmds)
			}
		})
	}
}

// TestQueueEventsOutageIsNotAStepFailure: while queue-manager cannot read
// queue-events, a running step's silence is not held against it and a step
// due for launch waits; once it can read again, every running step has a
// whole heartbeat timeout before silence counts.
func TestQueueEventsOutageIsNotAStepFailure(t *testing.T) {
	r := newRig(t, "", nil, Options{HeartbeatTimeout: 10 * time.Second, Limits: map[string]int{KindLoad: 1}})
	w, err := r.eng.Submit(context.Background(), Request{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Types: []string{"api_trades"},
		TimeRange: "2024-08-01:2024-08-02", Steps: []string{KindLoad}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.eng.EventsHealth(ctx, errKafkaDown)
	r.event(w.Steps[0], protocol.StatusFinished, 10) // read just before the outage was noticed
	for range 6 {
		r.clk.add(10 * time.Second)
		r.eng.Tick(ctx)
	}
	got := r.get(w.ID)
	if got.Steps[1].State != Pending || len(got.Steps[1].Attempts) != 0 {
		t.Fatalf("a step was launched while queue-events could not be read: %+v", got.Steps[1])
	}
	r.eng.EventsHealth(ctx, nil)
	eth := r.get(w.ID).Steps[1]
	if eth.State != Running || len(eth.Attempts) != 1 {
		t.Fatalf("the waiting step is not launched once queue-events can be read: %+v", eth)
	}
	r.clk.add(9 * time.Second)
	r.eng.Tick(ctx)
	if s := r.get(w.ID).Steps[1]; s.State != Running || len(s.Attempts) != 1 {
		t.Fatalf("silence counted before a whole heartbeat timeout after the outage: %+v", s)
	}
	r.clk.add(2 * time.Second)
	r.eng.Tick(ctx)
	if s := r.get(w.ID).Steps[1]; s.State != Pending || s.Attempts[0].Outcome != Failed {
		t.Errorf("silence after the outage must count again: %+v", s)
	}
}

// TestSilenceIsNotJudgedDuringAnOutage: a step running when the outage
// begins is not declared dead for the silence the outage causes.
func TestSilenceIsNotJudgedDuringAnOutage(t *testing.T) {
	r := newRig(t, "", nil, Options{HeartbeatTimeout: 10 * time.Second})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.eng.EventsHealth(ctx, errKafkaDown)
	r.clk.add(time.Minute)
	r.eng.Tick(ctx)
	if s := r.get(w.ID).Steps[0]; s.State != Running || len(s.Attempts) != 1 {
		t.Fatalf("declared dead during an outage of queue-events: %+v", s)
	}
}

// TestRunFailingDuringAnOutageUsesNoAttempt: a run that fails while
// queue-manager cannot read queue-events (its worker most likely could not
// reach Kafka either) is recorded as lost and does not count against the
// attempts; the step is launched again once queue-events can be read.
func TestRunFailingDuringAnOutageUsesNoAttempt(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 1, RetryBase: time.Second})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.eng.EventsHealth(ctx, errKafkaDown)
	r.eng.OnRun(ctx, launch.Status{ID: w.Steps[0].ID + ".1", Phase: launch.Failed, Message: "exit code 1"})
	got := r.get(w.ID)
	if got.State == Failed || got.Steps[0].State != Pending || got.Steps[0].Attempts[0].Outcome != Lost {
		t.Fatalf("after a run failed during the outage: %s %+v; want the step waiting, the attempt lost", got.State, got.Steps[0])
	}
	r.eng.EventsHealth(ctx, nil)
	r.clk.add(2 * time.Second)
	r.eng.Tick(ctx)
	s := r.get(w.ID).Steps[0]
	if s.State != Running || len(s.Attempts) != 2 || s.Current().RunID != w.Steps[0].ID+".2" {
		t.Fatalf("once queue-events can be read: %+v; want attempt 2 running", s)
	}
	r.eng.OnRun(ctx, launch.Status{ID: s.Current().RunID, Phase: launch.Failed, Message: "exit code 1"})
	if got := r.get(w.ID); got.State != Failed {
		t.Errorf("a failure after the outage counts: workflow %s, want failed (one attempt allowed)", got.State)
	}
}

// TestStopCommandSentOnceKafkaIsBack: a stop requested while Kafka is
// unreachable is not lost: its command is published again once Kafka is
// back, while the step is still stopping, so the worker ends by itself
// within the grace instead of being removed at its end.
func TestStopCommandSentOnceKafkaIsBack(t *testing.T) {
	r := newRig(t, "", nil, Options{StopGrace: 5 * time.Minute})
	pub := &downPub{}
	r.eng.pub = pub
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	r.event(w.Steps[0], protocol.StatusStarted, 0)
	pub.down.Store(true)
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	stops := func() (n int) {
		pub.mu.Lock()
		defer pub.mu.Unlock()
		for _, c := range pub.cmds {
			if c.Command == protocol.CommandStop {
				n++
			}
		}
		return n
	}
	r.clk.add(10 * time.Second)
	r.eng.Tick(context.Background())
	if n := stops(); n != 0 {
		t.Fatalf("%d stop commands published while Kafka is down", n)
	}
	pub.down.Store(false)
	r.clk.add(time.Minute)
	r.eng.Tick(context.Background())
	if n := stops(); n != 1 {
		t.Fatalf("%d stop commands published once Kafka is back, want 1", n)
	}
	r.event(w.Steps[0], protocol.StatusInterrupted, 10)
	if got := r.get(w.ID); got.State != Stopped || got.Steps[0].Current().Outcome != Stopped {
		t.Fatalf("after the worker's interrupted event: %s %+v", got.State, got.Steps[0].Current())
	}
	r.clk.add(time.Minute)
	r.eng.Tick(context.Background())
	if n := stops(); n != 1 {
		t.Errorf("%d stop commands published in all, want 1", n)
	}
}
