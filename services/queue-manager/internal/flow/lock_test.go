package flow

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// gate blocks the first call that passes it for up to 5 s, or until open.
type gate struct {
	armed    atomic.Bool
	entered  chan struct{}
	release  chan struct{}
	returned atomic.Bool
	once     sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) pass() {
	if !g.armed.CompareAndSwap(true, false) {
		return
	}
	close(g.entered)
	defer g.returned.Store(true)
	select {
	case <-g.release:
	case <-time.After(5 * time.Second):
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

type gatedLauncher struct {
	fakeLauncher
	launch, stop *gate
}

func (l *gatedLauncher) Launch(ctx context.Context, s launch.Spec) error {
	l.launch.pass()
	return l.fakeLauncher.Launch(ctx, s)
}

func (l *gatedLauncher) Stop(ctx context.Context, id string) error {
	l.stop.pass()
	return l.fakeLauncher.Stop(ctx, id)
}

type gatedPub struct {
	fakePub
	g *gate
}

func (p *gatedPub) Publish(ctx context.Context, topic string, key, value []byte) error {
	p.g.pass()
	return p.fakePub.Publish(ctx, topic, key, value)
}

// TestReadsDoNotWaitForIO: while a launch, a stop or a Kafka publish is
// blocked, reads of the workflow return: the engine's lock is not held
// across I/O.
func TestReadsDoNotWaitForIO(t *testing.T) {
	cases := []struct {
		name  string
		gate  func(l *gatedLauncher, p *gatedPub) *gate
		block func(ctx context.Context, eng *Engine, w *Workflow)
	}{
		{
			name: "launch",
			gate: func(l *gatedLauncher, _ *gatedPub) *gate { return l.launch },
			block: func(ctx context.Context, eng *Engine, w *Workflow) {
				_, _ = eng.Submit(ctx, Request{Symbols: []string{"ETHUSDT"}, Types: []string{"api_trades"},
					TimeRange: "2024-08-01:2024-08-02", Steps: []string{KindLoad}})
			},
		},
		{
			name: "publish of a command",
			gate: func(_ *gatedLauncher, p *gatedPub) *gate { return p.g },
			block: func(ctx context.Context, eng *Engine, w *Workflow) {
				_, _ = eng.Stop(ctx, w.ID)
			},
		},
		{
			name: "stop of a run",
			gate: func(l *gatedLauncher, _ *gatedPub) *gate { return l.stop },
			block: func(ctx context.Context, eng *Engine, w *Workflow) {
				eng.OnRun(ctx, launch.Status{ID: w.Steps[0].ID + ".1", Phase: launch.Failed, Message: "exit code 1"})
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			l := &gatedLauncher{launch: newGate(), stop: newGate()}
			p := &gatedPub{g: newGate()}
			clk := &clock{t: t0}
			eng := NewEngine(NewRepo(st), l, p, Options{Now: clk.now})
			if err := eng.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w, err := eng.Submit(ctx, fourSteps())
			if err != nil {
				t.Fatal(err)
			}
			g := c.gate(l, p)
			defer g.open()
			g.armed.Store(true)
			blocked := make(chan struct{})
			go func() {
				defer close(blocked)
				c.block(ctx, eng, w)
			}()
			<-g.entered
			var reads sync.WaitGroup
			for range 10 {
				reads.Go(func() {
					if _, err := eng.Get(ctx, w.ID); err != nil {
						t.Error(err)
					}
				})
			}
			reads.Wait()
			if g.returned.Load() {
				t.Errorf("reads returned only after the blocked %s", c.name)
			}
			g.open()
			<-blocked
		})
	}
}

// TestLaunchFailureIsAFailedAttempt: a launch performed after the lock is
// released still ends its attempt as failed when the launcher refuses it.
func TestLaunchFailureIsAFailedAttempt(t *testing.T) {
	r := newRig(t, "", &fakeLauncher{fail: errors.New("no binary for loader-producer")}, Options{})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	got := r.stored(w.ID).Steps[0]
	if got.State != Pending || len(got.Attempts) != 1 || got.Attempts[0].Outcome != Failed ||
		!strings.Contains(got.Attempts[0].Message, "no binary") {
		t.Fatalf("want a failed attempt naming the launcher's error: %+v", got)
	}
}

// unavailableLauncher blocks its first launch at a gate, then refuses it
// as unavailable.
type unavailableLauncher struct {
	fakeLauncher
	g *gate
}

func (l *unavailableLauncher) Launch(ctx context.Context, s launch.Spec) error {
	if l.g.armed.Load() {
		l.g.pass()
		return launch.ErrUnavailable
	}
	return l.fakeLauncher.Launch(ctx, s)
}

// TestStepTakenBackWhileStoppingIsStopped: a launch refused as unavailable
// after its workflow was stopped meanwhile does not leave the step pending
// in a stopping workflow: it is stopped, and so is the workflow.
func TestStepTakenBackWhileStoppingIsStopped(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	l := &unavailableLauncher{g: newGate()}
	l.g.armed.Store(true)
	defer l.g.open()
	clk := &clock{t: t0}
	eng := NewEngine(NewRepo(st), l, &fakePub{}, Options{Now: clk.now})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	submitted := make(chan *Workflow, 1)
	go func() {
		w, err := eng.Submit(ctx, oneLoad())
		if err != nil {
			t.Error(err)
		}
		submitted <- w
	}()
	<-l.g.entered // the launch is under way
	var id string
	eng.mu.Lock() // free: Submit waits in the launch, after its decision
	for _, w := range eng.active {
		id = w.ID
	}
	eng.mu.Unlock()
	if _, err := eng.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	l.g.open()
	<-submitted
	got, err := eng.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Stopped || got.Steps[0].State != Stopped || len(got.Steps[0].Attempts) != 0 {
		t.Errorf("workflow %s, step %+v; want both stopped with no attempt", got.State, got.Steps[0])
	}
}
