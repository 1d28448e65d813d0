package flow

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// relaunched returns a rig whose one-step workflow runs its second attempt
// after the first one's process died.
func relaunched(t *testing.T) (*rig, *Workflow, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	r := newRig(t, "", nil, Options{RetryBase: time.Second, Metrics: m})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	r.eng.OnRun(context.Background(), launch.Status{ID: w.Steps[0].ID + ".1", Phase: launch.Failed, Message: "exit code 137"})
	r.clk.add(2 * time.Second)
	r.eng.Tick(context.Background())
	if s := r.get(w.ID).Steps[0]; s.State != Running || len(s.Attempts) != 2 {
		t.Fatalf("want the second attempt running: %+v", s)
	}
	return r, w, m
}

func withRun(id string) func(*protocol.Event) { return func(e *protocol.Event) { e.RunID = id } }

// TestLateEventsOfAnEarlierRunAreIgnored: a finished or interrupted event
// of attempt 1 (late, or replayed after a lost commit) arriving while
// attempt 2 runs neither finishes the step nor burns an attempt; neither
// does an event without a run id, which could be either run's.
func TestLateEventsOfAnEarlierRunAreIgnored(t *testing.T) {
	cases := []struct {
		name      string
		status    protocol.Status
		run       func(s *Step) string
		wantLabel string
	}{
		{name: "finished of attempt 1", status: protocol.StatusFinished, run: func(s *Step) string { return s.ID + ".1" }, wantLabel: "stale_run"},
		{name: "interrupted of attempt 1", status: protocol.StatusInterrupted, run: func(s *Step) string { return s.ID + ".1" }, wantLabel: "stale_run"},
		{name: "finished without a run id", status: protocol.StatusFinished, run: func(*Step) string { return "" }, wantLabel: "ambiguous_run"},
		{name: "interrupted without a run id", status: protocol.StatusInterrupted, run: func(*Step) string { return "" }, wantLabel: "ambiguous_run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w, m := relaunched(t)
			s := w.Steps[0]
			r.event(s, c.status, 99, withRun(c.run(s)))
			got := r.get(w.ID).Steps[0]
			if got.State != Running || len(got.Attempts) != 2 || !got.Current().Ended.IsZero() || got.Records != 0 {
				t.Fatalf("an event of another run was applied to attempt 2: %+v", got)
			}
			if n := testutil.ToFloat64(m.events.WithLabelValues(c.wantLabel)); n != 1 {
				t.Errorf("events counted as %s: %v, want 1", c.wantLabel, n)
			}
			r.event(s, protocol.StatusFinished, 100, withRun(s.ID+".2"))
			if got := r.get(w.ID).Steps[0]; got.State != Finished || got.Records != 100 {
				t.Errorf("the current run's finished event: %+v", got)
			}
		})
	}
}

// TestRunIDIsPassedToTheWorker: RUN_ID in the run's environment and run_id
// in its start command; an event without one is accepted while the step has
// had a single attempt.
func TestRunIDIsPassedToTheWorker(t *testing.T) {
	r := newRig(t, "", nil, Options{})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	s := w.Steps[0]
	want := s.ID + ".1"
	if got := r.l.specs()[0].Env["RUN_ID"]; got != want {
		t.Errorf("RUN_ID %q, want %q", got, want)
	}
	if got := r.pub.cmds[0].RunID; got != want {
		t.Errorf("start command run_id %q, want %q", got, want)
	}
	r.event(s, protocol.StatusFinished, 5, withRun(""))
	if got := r.get(w.ID); got.State != Finished {
		t.Errorf("an old worker's finished event on the only attempt: %s %s", got.State, states(got))
	}
}
