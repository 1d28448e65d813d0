package flow

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// lateWatcher is a launcher whose watch, once its context ends, takes a
// while (2 s) to deliver a last change and return, as a watch draining its
// informers does.
type lateWatcher struct {
	fakeLauncher
	run      string
	returned atomic.Bool
}

func (l *lateWatcher) Watch(ctx context.Context, fn func(launch.Status)) error {
	<-ctx.Done()
	time.Sleep(2 * time.Second)
	fn(launch.Status{ID: l.run, Phase: launch.Failed, Message: "exit code 1"})
	l.returned.Store(true)
	return nil
}

// TestRunWaitsForItsWatcher: Run returns only once the launcher's watch it
// started has returned and the engine's last changes are stored, so that
// the caller may close the store.
func TestRunWaitsForItsWatcher(t *testing.T) {
	l := &lateWatcher{}
	r := newRig(t, "", &l.fakeLauncher, Options{})
	eng := NewEngine(r.repo, l, r.pub, Options{Now: r.clk.now})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	l.run = w.Steps[0].ID + ".1"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx, time.Hour) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !l.returned.Load() {
		t.Fatal("Run returned while the launcher's watch it started was still running")
	}
	if got := r.stored(w.ID).Steps[0]; got.Attempts[0].Outcome != Failed {
		t.Errorf("the watch's last change is not stored when Run returns: %+v", got.Attempts)
	}
}
