package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

const badSymbol = "SYMBOL: invalid symbols: XRPUSDT (unknown)"

func fatal(why string, permanent bool) func(*protocol.Event) {
	return func(e *protocol.Event) { e.Error, e.Message, e.Permanent, e.Finished = why, why, permanent, true }
}

// TestWorkerReasonReachesTheWorkflow: a step that fails carries its
// worker's own reason in the attempt, the step and the workflow, whether
// the worker's error event comes before its process exit or after it; a
// reason marked permanent fails the step without another attempt.
func TestWorkerReasonReachesTheWorkflow(t *testing.T) {
	cases := []struct {
		name       string
		exitFirst  bool
		permanent  bool
		wantState  string
		wantLaunch int
	}{
		{name: "permanent, event first", permanent: true, wantState: Failed, wantLaunch: 1},
		{name: "permanent, exit first", exitFirst: true, permanent: true, wantState: Failed, wantLaunch: 1},
		{name: "transient, exit first", exitFirst: true, wantState: Running, wantLaunch: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "", nil, Options{MaxAttempts: 3, RetryBase: time.Second})
			w, err := r.eng.Submit(context.Background(), oneLoad())
			if err != nil {
				t.Fatal(err)
			}
			s := w.Steps[0]
			run := r.currentRun(s)
			exit := func() {
				r.eng.OnRun(context.Background(), launch.Status{ID: run, Phase: launch.Failed, Message: "exit code 1"})
			}
			if c.exitFirst {
				exit()
			}
			r.event(s, protocol.StatusError, 0, fatal(badSymbol, c.permanent), func(e *protocol.Event) { e.RunID = run })
			if !c.exitFirst {
				exit()
			}
			r.clk.add(2 * time.Second)
			r.eng.Tick(context.Background())
			got := r.stored(w.ID)
			st := got.Steps[0]
			if st.State != c.wantState || len(r.l.specs()) != c.wantLaunch {
				t.Fatalf("step %s after %d launches, want %s after %d", st.State, len(r.l.specs()), c.wantState, c.wantLaunch)
			}
			a := st.Attempts[0]
			if a.Error != badSymbol || a.Permanent != c.permanent || !strings.Contains(a.Message, badSymbol) {
				t.Errorf("attempt %+v: want the worker's reason %q, permanent=%v", a, badSymbol, c.permanent)
			}
			if c.permanent && (!strings.HasSuffix(got.Error, badSymbol+" (not retried: the worker marked it permanent)") ||
				st.Error != badSymbol || got.State != Failed) {
				t.Errorf("workflow %s %q, step error %q: want failed with the worker's reason", got.State, got.Error, st.Error)
			}
		})
	}
}

// TestLastAttemptFailsWithTheWorkersReason: the workflow's error names the
// worker's reason even when the process exit of the last attempt came
// first.
func TestLastAttemptFailsWithTheWorkersReason(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 1})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	s := w.Steps[0]
	run := r.currentRun(s)
	r.eng.OnRun(context.Background(), launch.Status{ID: run, Phase: launch.Failed, Message: "exit code 1"})
	r.event(s, protocol.StatusError, 0, fatal("binance unreachable", false), func(e *protocol.Event) { e.RunID = run })
	got := r.stored(w.ID)
	if got.State != Failed || !strings.HasSuffix(got.Error, ": binance unreachable") || got.Steps[0].Error != "binance unreachable" {
		t.Errorf("workflow %s %q, step error %q: want the worker's reason, not the exit code", got.State, got.Error, got.Steps[0].Error)
	}
}

// TestStopOnRequestEndsTheStepStopped: a run stopped by a stop command
// queue-manager did not send (debug-producer, an operator) ends its step
// stopped, not failed, and is not relaunched; a run ended by a signal is a
// failed attempt.
func TestStopOnRequestEndsTheStepStopped(t *testing.T) {
	for _, c := range []struct {
		reason     string
		wantStep   string
		wantLaunch int
	}{
		{protocol.ReasonStopRequested, Stopped, 1},
		{protocol.ReasonSignal, Running, 2},
	} {
		t.Run(c.reason, func(t *testing.T) {
			r := newRig(t, "", nil, Options{RetryBase: time.Second})
			w, err := r.eng.Submit(context.Background(), oneLoad())
			if err != nil {
				t.Fatal(err)
			}
			r.event(w.Steps[0], protocol.StatusInterrupted, 5, func(e *protocol.Event) { e.Message = c.reason })
			r.clk.add(2 * time.Second)
			r.eng.Tick(context.Background())
			got := r.stored(w.ID)
			if got.Steps[0].State != c.wantStep || len(r.l.specs()) != c.wantLaunch {
				t.Fatalf("step %s after %d launches, want %s after %d", got.Steps[0].State, len(r.l.specs()), c.wantStep, c.wantLaunch)
			}
			if c.wantStep == Stopped && (got.State != Stopped || got.Steps[0].Attempts[0].Outcome != Stopped) {
				t.Errorf("workflow %s, attempt %+v: want stopped", got.State, got.Steps[0].Attempts[0])
			}
		})
	}
}

// TestConfigurationRefusedIsNotRetried: a run whose worker refused its
// configuration (the launcher says permanent) fails its step at once.
func TestConfigurationRefusedIsNotRetried(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 3, RetryBase: time.Second})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	why := "exit code 2 (configuration refused): loader-producer: configuration: LOADER_BATCH_SIZE: must be positive"
	r.eng.OnRun(context.Background(), launch.Status{ID: r.currentRun(w.Steps[0]), Phase: launch.Failed, Message: why, Permanent: true})
	r.clk.add(2 * time.Second)
	r.eng.Tick(context.Background())
	got := r.stored(w.ID)
	if got.State != Failed || len(r.l.specs()) != 1 || !strings.Contains(got.Error, "LOADER_BATCH_SIZE") {
		t.Errorf("workflow %s %q after %d launches: want failed at once with the worker's words", got.State, got.Error, len(r.l.specs()))
	}
}
