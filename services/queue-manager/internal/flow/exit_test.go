package flow

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// TestExitWithoutReportIsNotFinished: a worker SIGTERMed from outside sends
// interrupted and exits 0; its event is delayed on queue-events. However
// long the wait, the step is not recorded as finished: the exit is judged
// as a failed attempt, or the delayed interrupted is, and the step is
// relaunched.
func TestExitWithoutReportIsNotFinished(t *testing.T) {
	r := newRig(t, "", nil, Options{HeartbeatTimeout: time.Hour})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	s := w.Steps[0]
	run := s.ID + ".1"
	r.eng.OnRun(context.Background(), launch.Status{ID: run, Phase: launch.Succeeded, Message: "exit code 0"})
	for range 10 {
		r.clk.add(time.Second)
		r.eng.Tick(context.Background())
		if got := r.get(w.ID); got.State == Finished || got.Steps[0].State == Finished {
			t.Fatalf("recorded finished without a finished event: %s %+v", got.State, got.Steps[0].Attempts)
		}
	}
	r.event(s, protocol.StatusInterrupted, 40, withRun(run))
	got := r.stored(w.ID).Steps[0]
	if got.State == Finished || got.Attempts[0].Outcome != Failed {
		t.Fatalf("want attempt 1 failed and the step relaunched: %+v", got)
	}
}

// fakeLog is queue-events with one partition: end is its end offset, read
// how far the engine has applied it.
type fakeLog struct {
	mu        sync.Mutex
	end, read int64
}

func (l *fakeLog) EndOffsets(context.Context) (map[int]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return map[int]int64{0: l.end}, nil
}

func (l *fakeLog) CaughtUp(_ context.Context, offsets map[int]int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.read >= offsets[0], nil
}

func (l *fakeLog) set(end, read int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end, l.read = end, read
}

// TestExitIsJudgedOnceEventsAreRead: a run that exited 0 is judged only
// when queue-events has been applied up to the end offsets taken after it
// ended; its terminal event arriving before that decides instead.
func TestExitIsJudgedOnceEventsAreRead(t *testing.T) {
	cases := []struct {
		name     string
		stop     bool
		event    protocol.Status // sent before the catch-up; "" for none
		wantStep string
		wantOut  string
		wantWhy  string
	}{
		{name: "finished event on its way", event: protocol.StatusFinished, wantStep: Finished, wantOut: Finished},
		{name: "interrupted event on its way", event: protocol.StatusInterrupted, wantStep: Pending, wantOut: Failed,
			wantWhy: "interrupted without a stop request"},
		{name: "no event at all", wantStep: Pending, wantOut: Failed, wantWhy: "exited without reporting"},
		{name: "stopping, no event at all", stop: true, wantStep: Stopped, wantOut: Stopped, wantWhy: "exited after a stop request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := &fakeLog{}
			log.set(10, 10)
			r := newRig(t, "", nil, Options{HeartbeatTimeout: time.Hour, Events: log})
			w, err := r.eng.Submit(context.Background(), oneLoad())
			if err != nil {
				t.Fatal(err)
			}
			s := w.Steps[0]
			if c.stop {
				if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
					t.Fatal(err)
				}
			}
			r.eng.OnRun(context.Background(), launch.Status{ID: s.ID + ".1", Phase: launch.Succeeded, Message: "exit code 0"})
			log.set(12, 10) // the worker's last events are written, not read yet
			for range 3 {
				r.clk.add(time.Second)
				r.eng.Tick(context.Background())
			}
			if got := r.get(w.ID).Steps[0]; got.State != Running && got.State != Stopping {
				t.Fatalf("judged before queue-events was read up to the run's end: %s %+v", got.State, got.Attempts)
			}
			log.set(13, 11) // later events do not hold it up; the run's own do
			r.eng.Tick(context.Background())
			if c.event != "" {
				r.event(s, c.event, 7)
			}
			log.set(13, 12)
			r.eng.Tick(context.Background())
			got := r.stored(w.ID).Steps[0]
			if got.State != c.wantStep || got.Attempts[0].Outcome != c.wantOut || !strings.Contains(got.Attempts[0].Message, c.wantWhy) {
				t.Errorf("step %s, attempt %+v; want %s, outcome %s (%q)", got.State, got.Attempts[0], c.wantStep, c.wantOut, c.wantWhy)
			}
		})
	}
}
