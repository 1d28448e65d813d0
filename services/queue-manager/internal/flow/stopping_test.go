package flow

import (
	"context"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestRestartEndsAStoppingWorkflowWhoseRunsAreGone: a workflow left
// stopping by a queue-manager that died before the stop completed ends
// stopped after a restart when its runs are gone, and can be deleted.
func TestRestartEndsAStoppingWorkflowWhoseRunsAreGone(t *testing.T) {
	l := &fakeLauncher{}
	r := newRig(t, "", l, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	// queue-manager dies; its children die with it.
	l.mu.Lock()
	clear(l.alive)
	l.mu.Unlock()
	r2 := newRig(t, r.path, l, Options{})
	got := r2.stored(w.ID)
	if got.State != Stopped || states(got) != "load=stopped store=stopped graph=stopped train=stopped" {
		t.Fatalf("after the restart: %s %s, want every step and the workflow stopped", got.State, states(got))
	}
	if err := r2.eng.Delete(context.Background(), w.ID); err != nil {
		t.Errorf("delete the stopped workflow: %v", err)
	}
}

// TestStopAgainResendsTheStops: a second stop of a stopping workflow sends
// the stop commands of its stopping steps again.
func TestStopAgainResendsTheStops(t *testing.T) {
	r := newRig(t, "", nil, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	stops := func() int {
		r.pub.mu.Lock()
		defer r.pub.mu.Unlock()
		n := 0
		for _, c := range r.pub.cmds {
			if c.Command == protocol.CommandStop {
				n++
			}
		}
		return n
	}
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	first := stops()
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	if got := stops(); got != 2*first || first != 2 {
		t.Errorf("stop commands after two stops: %d (first %d), want the two running steps' stops sent again", got, first)
	}
}
