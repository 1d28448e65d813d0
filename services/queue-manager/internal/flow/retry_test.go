package flow

import (
	"context"
	"errors"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestRetryRunsFailedAndStoppedStepsAgain: a failed workflow retried runs
// its failed step and the steps stopped with it as new attempts, each with
// a whole budget of attempts, and can then finish; a running or finished
// workflow is not retried.
func TestRetryRunsFailedAndStoppedStepsAgain(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 1})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Retry(context.Background(), w.ID); !errors.Is(err, ErrActive) {
		t.Errorf("retry of a running workflow: %v, want ErrActive", err)
	}
	load, store := w.Steps[0], w.Steps[1]
	r.event(load, protocol.StatusError, 0, fatal("binance unreachable", false))
	r.event(store, protocol.StatusInterrupted, 3) // stopped with it
	if got := r.stored(w.ID); got.State != Failed {
		t.Fatalf("before the retry: %s %s", got.State, states(got))
	}
	got, err := r.eng.Retry(context.Background(), w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Running || states(got) != "load=running store=running graph=pending train=pending" || got.Error != "" {
		t.Fatalf("after the retry: %s %s %q", got.State, states(got), got.Error)
	}
	if a := got.Steps[0].Attempts; len(a) != 2 || a[0].Outcome != Failed || a[1].N != 2 || a[1].RunID != load.ID+".2" {
		t.Errorf("loader attempts %+v: want the failed one kept and a second", a)
	}
	r.event(load, protocol.StatusFinished, 10)
	r.event(store, protocol.StatusFinished, 10)
	r.event(w.Steps[2], protocol.StatusFinished, 1)
	r.event(w.Steps[3], protocol.StatusFinished, 1)
	if final := r.stored(w.ID); final.State != Finished {
		t.Fatalf("after the retried steps finished: %s %s", final.State, states(final))
	}
	if _, err := r.eng.Retry(context.Background(), w.ID); !errors.Is(err, ErrNothingToRetry) {
		t.Errorf("retry of a finished workflow: %v, want ErrNothingToRetry", err)
	}
}
