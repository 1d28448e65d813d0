package flow

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// flakyStore is the SQLite store with faults injected into workflow
// updates: down refuses them; ambiguous commits the next one and then
// reports a timeout, as a call whose answer was lost.
type flakyStore struct {
	store.Store
	mu        sync.Mutex
	down      bool
	ambiguous int
	updates   int    // calls of UpdateRecord
	during    func() // called in every UpdateRecord, when set
}

var errTimeout = errors.New("store call timed out")

func (f *flakyStore) UpdateRecord(ctx context.Context, coll string, r store.Record) (store.Record, error) {
	f.mu.Lock()
	f.updates++
	down, ambiguous, during := f.down, f.ambiguous > 0, f.during
	if ambiguous {
		f.ambiguous--
	}
	f.mu.Unlock()
	if during != nil {
		during()
	}
	if down {
		return store.Record{}, errors.Join(store.ErrUnavailable, errTimeout)
	}
	got, err := f.Store.UpdateRecord(ctx, coll, r)
	if err == nil && ambiguous {
		return store.Record{}, errors.Join(store.ErrUnavailable, errTimeout)
	}
	return got, err
}

func (f *flakyStore) set(down bool, ambiguous int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.ambiguous = down, ambiguous
}

// flakyRig is a rig whose store fails on demand.
func flakyRig(t *testing.T, o Options) (*rig, *flakyStore) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	fs := &flakyStore{Store: st}
	clk := &clock{t: t0}
	o.Now = clk.now
	r := &rig{t: t, l: &fakeLauncher{}, pub: &fakePub{}, clk: clk, repo: NewRepo(fs)}
	r.eng = NewEngine(r.repo, r.l, r.pub, o)
	if err := r.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.eng.Flowing()
	return r, fs
}

// TestAmbiguousWriteDoesNotStopSaving: a write the store committed but
// answered with a timeout leaves the engine behind the stored revision;
// the next change reloads it and is stored all the same.
func TestAmbiguousWriteDoesNotStopSaving(t *testing.T) {
	r, fs := flakyRig(t, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	fs.set(false, 1)
	r.event(w.Steps[0], protocol.StatusFinished, 10) // committed, answered with a timeout
	r.event(w.Steps[1], protocol.StatusFinished, 10)
	r.eng.Tick(context.Background())
	if got := states(r.stored(w.ID)); got != "load=finished store=finished graph=running train=pending" {
		t.Fatalf("stored %s, want every change after the ambiguous write", got)
	}
}

// TestStateIsStoredOnceTheStoreIsBack: changes made while the store is
// down are stored when it comes back, without waiting for another change.
func TestStateIsStoredOnceTheStoreIsBack(t *testing.T) {
	r, fs := flakyRig(t, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	fs.set(true, 0)
	r.event(w.Steps[0], protocol.StatusFinished, 10)
	r.eng.Tick(context.Background())
	fs.set(false, 0)
	r.eng.Tick(context.Background())
	if got := states(r.stored(w.ID)); got != "load=finished store=running graph=pending train=pending" {
		t.Fatalf("stored %s after the store came back, want load finished", got)
	}
}

// TestEventsAreNotCommittedWhileStateIsNotStored: while the store refuses
// writes, OnEvent returns an error (the consumer does not commit) and
// StoreErr says why (/readyz); once the store is back and the change is
// stored, both are clear again.
func TestEventsAreNotCommittedWhileStateIsNotStored(t *testing.T) {
	r, fs := flakyRig(t, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	load := w.Steps[0]
	finished := protocol.Event{QueueID: load.QueueID, Producer: load.TelemetryID, Status: protocol.StatusFinished, Finished: true,
		RunID: load.ID + ".1", Timestamp: protocol.Timestamp(t0)}
	fs.set(true, 0)
	if err := r.eng.OnEvent(context.Background(), finished); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("OnEvent with the store down = %v, want the store's error", err)
	}
	r.eng.Tick(context.Background())
	if err := r.eng.StoreErr(); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("StoreErr with the store down = %v, want the store's error", err)
	}
	// Redelivered before the store is back: still not to be committed.
	if err := r.eng.OnEvent(context.Background(), finished); err == nil {
		t.Errorf("OnEvent of a redelivered event with the change still unstored = nil, want an error")
	}
	fs.set(false, 0)
	r.eng.Tick(context.Background())
	if err := r.eng.StoreErr(); err != nil {
		t.Errorf("StoreErr once the change is stored = %v, want nil", err)
	}
	if err := r.eng.OnEvent(context.Background(), finished); err != nil {
		t.Errorf("OnEvent once every change is stored = %v, want nil", err)
	}
	if got := states(r.stored(w.ID)); got != "load=finished store=running graph=pending train=pending" {
		t.Errorf("stored %s, want load finished", got)
	}
}

// TestStoreOutageIsProbedOncePerTick: once the store refused a write, the
// changes that follow are not written one by one under the engine's lock
// (each could wait StoreTimeout): the tick tries the store, one write, and
// stores them all once it answers.
func TestStoreOutageIsProbedOncePerTick(t *testing.T) {
	r, fs := flakyRig(t, Options{})
	var ws []*Workflow
	for range 3 {
		w, err := r.eng.Submit(context.Background(), fourSteps())
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	fs.set(true, 0)
	for _, w := range ws {
		r.event(w.Steps[0], protocol.StatusFinished, 10)
	}
	calls := func() int { fs.mu.Lock(); defer fs.mu.Unlock(); return fs.updates }
	before := calls()
	r.eng.Tick(context.Background())
	if got := calls() - before; got != 1 {
		t.Errorf("%d writes tried by a tick while the store is down, want 1", got)
	}
	fs.set(false, 0)
	r.eng.Tick(context.Background())
	for _, w := range ws {
		if got := states(r.stored(w.ID)); got != "load=finished store=running graph=pending train=pending" {
			t.Errorf("stored %s once the store is back, want load finished", got)
		}
	}
}

// TestStoreOutageProbeLeavesTheEngineFree: while the store refuses writes,
// the tick's probe waits for the store without the engine's lock, so that
// events, API reads and every /metrics scrape (the step silence collector
// takes the lock) are answered during an outage instead of waiting out
// StoreTimeout once a tick for as long as it lasts.
func TestStoreOutageProbeLeavesTheEngineFree(t *testing.T) {
	r, fs := flakyRig(t, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	fs.set(true, 0)
	r.event(w.Steps[0], protocol.StatusFinished, 10)
	var probes, locked int
	fs.mu.Lock()
	fs.during = func() {
		probes++
		if !r.eng.mu.TryLock() {
			locked++
			return
		}
		r.eng.mu.Unlock()
	}
	fs.mu.Unlock()
	r.eng.Tick(context.Background())
	r.eng.Tick(context.Background())
	if probes != 2 || locked != 0 {
		t.Errorf("%d of %d store writes during the outage held the engine's lock, want 0 of 2", locked, probes)
	}
	fs.set(false, 0)
	r.eng.Tick(context.Background())
	if got := states(r.stored(w.ID)); got != "load=finished store=running graph=pending train=pending" {
		t.Errorf("stored %s once the store is back, want load finished", got)
	}
}

// TestStoreOutageIsNotAStepFailure: while the store refuses writes the
// events consumer retries one batch and the steps' later events wait on the
// broker, so a running step's silence is not held against it; once the
// store is back every running step has a whole heartbeat timeout.
func TestStoreOutageIsNotAStepFailure(t *testing.T) {
	r, fs := flakyRig(t, Options{HeartbeatTimeout: 10 * time.Second})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fs.set(true, 0)
	r.event(w.Steps[0], protocol.StatusLoading, 10) // progress: stored by the tick, refused
	for range 6 {
		r.clk.add(10 * time.Second)
		r.eng.Tick(ctx)
	}
	if s := r.get(w.ID).Steps[0]; s.State != Running || len(s.Attempts) != 1 {
		t.Fatalf("a step was declared dead for the silence of a store outage: %+v", s)
	}
	fs.set(false, 0)
	r.eng.Tick(ctx)
	r.clk.add(9 * time.Second)
	r.eng.Tick(ctx)
	if s := r.get(w.ID).Steps[0]; s.State != Running || len(s.Attempts) != 1 {
		t.Fatalf("silence counted before a whole heartbeat timeout after the outage: %+v", s)
	}
	r.clk.add(2 * time.Second)
	r.eng.Tick(ctx)
	if s := r.get(w.ID).Steps[0]; s.Attempts[0].Outcome != Failed {
		t.Errorf("silence after the outage must count again: %+v", s)
	}
}
