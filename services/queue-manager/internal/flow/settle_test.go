package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// threeSteps is load, store beside it, and graph after store.
func threeSteps(t *testing.T) *Workflow {
	t.Helper()
	w, err := New(Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
		Steps: []string{KindLoad, KindStore, KindGraph}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// canChange reports whether a step of a settled workflow may still change:
// a run is in flight, or it is pending and may still be launched.
func canChange(w *Workflow, s *Step) bool {
	switch s.State {
	case Running, Stopping:
		return true
	case Pending:
		if w.State != Pending && w.State != Running {
			return false
		}
		for _, o := range w.Steps {
			if o.State == Failed {
				return false
			}
		}
		for _, id := range s.After {
			if d := w.Step(id); d.State != Finished && !canChange(w, d) {
				return false
			}
		}
		return true
	}
	return false
}

// TestSettleEndsEveryWorkflowThatCannotChange settles every combination of
// step states of a three-step workflow, running or stopping: a workflow in
// which no step can change any more must be terminal, in the right state;
// one in which a step can must not be; a failed step stops what still runs.
func TestSettleEndsEveryWorkflowThatCannotChange(t *testing.T) {
	all := []string{Pending, Running, Stopping, Finished, Failed, Stopped}
	for _, wstate := range []string{Running, Stopping} {
		for _, a := range all {
			for _, b := range all {
				for _, c := range all {
					name := wstate + "/load=" + a + ",store=" + b + ",graph=" + c
					t.Run(name, func(t *testing.T) {
						w := threeSteps(t)
						w.State = wstate
						for i, st := range []string{a, b, c} {
							w.Steps[i].State = st
						}
						pub := &fakePub{}
						eng := NewEngine(nil, &fakeLauncher{}, pub, Options{Now: func() time.Time { return t0 }})
						eng.mu.Lock()
						eng.settleLocked(context.Background(), w)
						eng.unlock(context.Background())

						failed, stopped, live := false, wstate == Stopping, false
						for _, s := range w.Steps {
							failed = failed || s.State == Failed
							stopped = stopped || s.State == Stopped
							live = live || canChange(w, s)
						}
						want := w.State
						switch {
						case live:
							if Terminal(w.State) {
								t.Fatalf("workflow %s while a step can still change: %s", w.State, states(w))
							}
						case failed:
							want = Failed
						case stopped:
							want = Stopped
						default:
							want = Finished
						}
						if got := w.State; got != want {
							t.Fatalf("settled to %s (%s), want %s", got, states(w), want)
						}
						stops := 0
						for i, s := range w.Steps {
							if failed && s.State == Running {
								t.Errorf("step %s still running after a step failed", s.Kind)
							}
							if []string{a, b, c}[i] == Running && s.State == Stopping {
								stops++
							}
						}
						if got := len(pub.cmds); got != stops {
							t.Errorf("%d stop commands, want one per step moved to stopping (%d)", got, stops)
						}
					})
				}
			}
		}
	}
}

// TestWorkflowFailsWhenAStepFailsForGoodWhileLaterStepsWait: graph fails
// after its last attempt while train waits for it.
func TestWorkflowFailsWhenAStepFailsForGoodWhileLaterStepsWait(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 1})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	r.event(w.Steps[0], protocol.StatusFinished, 10)
	r.event(w.Steps[1], protocol.StatusFinished, 10)
	r.event(w.Steps[2], protocol.StatusError, 0, func(e *protocol.Event) { e.Error, e.Finished = "out of memory", true })
	got := r.stored(w.ID)
	if got.State != Failed || states(got) != "load=finished store=finished graph=failed train=stopped" {
		t.Fatalf("stored %s %s, want failed with train stopped", got.State, states(got))
	}
	if !strings.Contains(got.Error, "out of memory") {
		t.Errorf("workflow error %q does not name the cause", got.Error)
	}
}

// TestSettle checks settle's decisions on named workflows of four steps
// (load, store beside it, graph after store, train after graph).
func TestSettle(t *testing.T) {
	cases := []struct {
		name        string
		workflow    string
		steps       [4]string
		wantState   string
		wantCancel  []string
		wantStopped []string
	}{
		{name: "running steps go on", workflow: Running, steps: [4]string{Running, Running, Pending, Pending}, wantState: Running},
		{name: "all finished", workflow: Running, steps: [4]string{Finished, Finished, Finished, Finished}, wantState: Finished},
		{name: "graph fails for good while train waits", workflow: Running, steps: [4]string{Finished, Finished, Failed, Pending},
			wantState: Failed, wantCancel: []string{KindTrain}},
		{name: "load fails while store runs", workflow: Running, steps: [4]string{Failed, Running, Pending, Pending},
			wantState: Running, wantCancel: []string{KindGraph, KindTrain}, wantStopped: []string{KindStore}},
		{name: "stopping waits for its stopping steps", workflow: Stopping, steps: [4]string{Stopping, Stopped, Stopped, Stopped},
			wantState: Stopping},
		{name: "stopping ends stopped", workflow: Stopping, steps: [4]string{Finished, Stopped, Pending, Pending},
			wantState: Stopped, wantCancel: []string{KindGraph, KindTrain}},
		{name: "a step after a stopped one cannot start", workflow: Running, steps: [4]string{Finished, Stopped, Pending, Pending},
			wantState: Stopped, wantCancel: []string{KindGraph, KindTrain}},
		{name: "final stays final", workflow: Failed, steps: [4]string{Finished, Finished, Failed, Pending}, wantState: Failed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := New(fourSteps(), t0)
			if err != nil {
				t.Fatal(err)
			}
			w.State = c.workflow
			for i, st := range c.steps {
				w.Steps[i].State = st
			}
			before := states(w)
			got := settle(w)
			if got.State != c.wantState {
				t.Errorf("state %s, want %s", got.State, c.wantState)
			}
			if got, want := kinds(got.Cancel), strings.Join(c.wantCancel, ","); got != want {
				t.Errorf("cancelled %q, want %q", got, want)
			}
			if got, want := kinds(got.Stop), strings.Join(c.wantStopped, ","); got != want {
				t.Errorf("stopped %q, want %q", got, want)
			}
			if after := states(w); after != before {
				t.Errorf("settle changed the workflow: %s, was %s", after, before)
			}
		})
	}
}

func kinds(steps []*Step) string {
	out := make([]string, 0, len(steps))
	for _, s := range steps {
		out = append(out, s.Kind)
	}
	return strings.Join(out, ",")
}
