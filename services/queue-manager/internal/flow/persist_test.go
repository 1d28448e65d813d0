package flow

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

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
	updates   int // calls of UpdateRecord
}

var errTimeout = errors.New("store call timed out")

func (f *flakyStore) UpdateRecord(ctx context.Context, coll string, r store.Record) (store.Record, error) {
	f.mu.Lock()
	f.updates++
	down, ambiguous := f.down, f.ambiguous > 0
	if ambiguous {
		f.ambiguous--
	}
	f.mu.Unlock()
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
