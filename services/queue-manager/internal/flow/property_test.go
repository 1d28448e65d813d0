package flow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// TestRandomSequencesKeepTheInvariants drives workflows with random
// sequences of inputs — worker events of the current run or an earlier one,
// launcher state changes, a stop, the clock — and checks after each one
// that a final workflow has only final steps and that a workflow in which no
// step can change any more is final; then, with every run dying from there
// on, that the workflow ends.
func TestRandomSequencesKeepTheInvariants(t *testing.T) {
	statuses := []protocol.Status{protocol.StatusLoading, protocol.StatusHeartbeat, protocol.StatusFinished,
		protocol.StatusError, protocol.StatusInterrupted}
	phases := []launch.Phase{launch.Succeeded, launch.Failed, launch.Vanished}
	for seed := range uint64(100) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 14))
			r := newRig(t, "", nil, Options{MaxAttempts: 2, RetryBase: time.Second, RetryMax: time.Second,
				HeartbeatTimeout: 30 * time.Second, StopGrace: 10 * time.Second})
			w, err := r.eng.Submit(context.Background(), fourSteps())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var trail []string
			check := func() {
				t.Helper()
				got := r.get(w.ID)
				if err := invariants(got); err != nil {
					t.Fatalf("%v\nafter %v", err, trail)
				}
			}
			for range 60 {
				live := r.get(w.ID)
				s := live.Steps[rng.IntN(len(live.Steps))]
				run := ""
				if a := s.Current(); a != nil {
					run = a.RunID
				}
				switch k := rng.IntN(10); {
				case k < 5:
					st := statuses[rng.IntN(len(statuses))]
					if rng.IntN(4) == 0 && len(s.Attempts) > 1 {
						run = s.Attempts[0].RunID // a late event of an earlier run
					}
					trail = append(trail, fmt.Sprintf("%s %s(%s)", s.Kind, st, run))
					r.event(s, st, int64(rng.IntN(100)), withRun(run), func(e *protocol.Event) {
						e.Finished = st.Terminal() || (st == protocol.StatusError && rng.IntN(2) == 0)
					})
				case k < 7 && run != "":
					ph := phases[rng.IntN(len(phases))]
					trail = append(trail, fmt.Sprintf("%s run %s %s", s.Kind, run, ph))
					r.eng.OnRun(ctx, launch.Status{ID: run, Phase: ph})
				case k < 8 && rng.IntN(8) == 0:
					trail = append(trail, "stop")
					if _, err := r.eng.Stop(ctx, w.ID); err != nil {
						t.Fatal(err)
					}
				default:
					d := time.Duration(rng.IntN(20)) * time.Second
					trail = append(trail, "tick +"+d.String())
					r.clk.add(d)
					r.eng.Tick(ctx)
				}
				check()
			}
			// From here on every run dies: the workflow must end.
			for range 40 {
				got := r.get(w.ID)
				if Terminal(got.State) {
					return
				}
				for _, s := range got.Steps {
					if a := s.Current(); a != nil && a.Ended.IsZero() {
						r.eng.OnRun(ctx, launch.Status{ID: a.RunID, Phase: launch.Failed, Message: "killed"})
					}
				}
				r.clk.add(time.Minute)
				r.eng.Tick(ctx)
				check()
			}
			got := r.get(w.ID)
			t.Fatalf("workflow still %s (%s) with every run dying\nafter %v", got.State, states(got), trail)
		})
	}
}

// invariants checks what must hold of a workflow after any input.
func invariants(w *Workflow) error {
	live := false
	for _, s := range w.Steps {
		if Terminal(w.State) && !Terminal(s.State) {
			return fmt.Errorf("workflow %s with step %s %s", w.State, s.Kind, s.State)
		}
		if len(s.Attempts) > 2 {
			return fmt.Errorf("step %s: %d attempts, at most 2", s.Kind, len(s.Attempts))
		}
		a := s.Current()
		if (s.State == Running || s.State == Stopping) && (a == nil || !a.Ended.IsZero()) {
			return fmt.Errorf("step %s %s without an attempt under way: %+v", s.Kind, s.State, s.Attempts)
		}
		if s.State == Finished && (a == nil || a.Outcome != Finished) {
			return fmt.Errorf("step %s finished by no finished attempt: %+v", s.Kind, s.Attempts)
		}
		live = live || canChange(w, s)
	}
	if !live && !Terminal(w.State) {
		return fmt.Errorf("workflow %s although no step can change (%s)", w.State, states(w))
	}
	return nil
}
