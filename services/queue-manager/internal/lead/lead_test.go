package lead

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestAcquire: one holder at a time; a lapsed lease is taken over; a
// released one at once.
func TestAcquire(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := New(st, "engine", "qm-a", Options{TTL: 15 * time.Second, Now: clock})
	b := New(st, "engine", "qm-b", Options{TTL: 15 * time.Second, Now: clock})
	ctx := context.Background()
	steps := []struct {
		name    string
		advance time.Duration
		lock    *Lock
		release bool
		wantErr error // nil: acquired
	}{
		{name: "a takes the free lease", lock: a},
		{name: "b finds it held", lock: b, wantErr: ErrHeld},
		{name: "a renews it", advance: 10 * time.Second, lock: a},
		{name: "b still finds it held", advance: 10 * time.Second, lock: b, wantErr: ErrHeld},
		{name: "b takes it once it lapsed", advance: 6 * time.Second, lock: b},
		{name: "a finds it held", lock: a, wantErr: ErrHeld},
		{name: "a's release leaves b's lease", lock: a, release: true},
		{name: "a still finds it held", lock: a, wantErr: ErrHeld},
		{name: "b releases it", lock: b, release: true},
		{name: "a takes it at once", lock: a},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.release {
			if err := s.lock.Release(ctx); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		_, err := s.lock.Acquire(ctx)
		if (s.wantErr == nil) != (err == nil) || (s.wantErr != nil && !errors.Is(err, s.wantErr)) {
			t.Fatalf("%s: Acquire = %v, want %v", s.name, err, s.wantErr)
		}
	}
}

// flaky is a store that fails while down.
type flaky struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("store unreachable")

func (f *flaky) CreateRecord(ctx context.Context, c string, r store.Record) (store.Record, error) {
	if f.down.Load() {
		return store.Record{}, errDown
	}
	return f.Store.CreateRecord(ctx, c, r)
}

func (f *flaky) GetRecord(ctx context.Context, c, k string) (store.Record, error) {
	if f.down.Load() {
		return store.Record{}, errDown
	}
	return f.Store.GetRecord(ctx, c, k)
}

// terms records who led when.
type terms struct {
	mu   sync.Mutex
	log  []term
	took chan string
}

type term struct {
	who        string
	start, end time.Time
}

func (ts *terms) lead(who string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		start := time.Now()
		ts.took <- who
		<-ctx.Done()
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.log = append(ts.log, term{who, start, time.Now()})
		return nil
	}
}

// TestOneLeaderAtATime: of two queue-managers on one store exactly one
// leads; when the leader cannot reach the store any more it stops leading
// before the other takes over, and when a leader shuts down the other takes
// over at once.
func TestOneLeaderAtATime(t *testing.T) {
	st := openStore(t)
	fa := &flaky{Store: st}
	ts := &terms{took: make(chan string, 10)}
	const ttl = 300 * time.Millisecond
	a := New(fa, "engine", "qm-a", Options{TTL: ttl})
	b := New(st, "engine", "qm-b", Options{TTL: ttl})
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(ctxA, ts.lead("a")) })
	if who := <-ts.took; who != "a" {
		t.Fatalf("%s leads first, want a (started first)", who)
	}
	wg.Go(func() { _ = b.Run(ctxB, ts.lead("b")) })
	select {
	case who := <-ts.took:
		t.Fatalf("%s leads while a holds the lease", who)
	case <-time.After(2 * ttl):
	}
	fa.down.Store(true) // a cannot renew
	if who := <-ts.took; who != "b" {
		t.Fatalf("%s took over, want b", who)
	}
	fa.down.Store(false)
	stopB() // b shuts down and releases: a takes over
	if who := <-ts.took; who != "a" {
		t.Fatalf("%s took over, want a", who)
	}
	stopA()
	wg.Wait()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i := 1; i < len(ts.log); i++ {
		if prev, cur := ts.log[i-1], ts.log[i]; cur.start.Before(prev.end) {
			t.Errorf("%s led from %s while %s led until %s", cur.who, cur.start.Format(time.StampMilli), prev.who, prev.end.Format(time.StampMilli))
		}
	}
	if len(ts.log) != 3 {
		t.Errorf("%d terms, want a, b, a: %+v", len(ts.log), ts.log)
	}
}

// TestLeaseOneLeaderAtATime: two queue-managers electing with a Lease on
// one API server: one leads; when it shuts down, the other takes over, and
// their terms do not overlap.
func TestLeaseOneLeaderAtATime(t *testing.T) {
	client := fake.NewClientset()
	ts := &terms{took: make(chan string, 10)}
	const ttl = 2 * time.Second // a Lease counts in whole seconds
	var standby atomic.Int32
	a := NewLease(client, "stf", "queue-manager", "qm-a", Options{TTL: ttl})
	b := NewLease(client, "stf", "queue-manager", "qm-b", Options{TTL: ttl, Standby: func() { standby.Add(1) }})
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- a.Run(ctxA, ts.lead("a")) })
	if who := <-ts.took; who != "a" {
		t.Fatalf("%s leads first, want a", who)
	}
	wg.Go(func() { errs <- b.Run(ctxB, ts.lead("b")) })
	select {
	case who := <-ts.took:
		t.Fatalf("%s leads while a holds the Lease", who)
	case <-time.After(ttl):
	}
	if standby.Load() == 0 {
		t.Error("b was not told it stands by")
	}
	stopA() // a shuts down and releases the Lease
	if who := <-ts.took; who != "b" {
		t.Fatalf("%s took over, want b", who)
	}
	stopB()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.log) != 2 || ts.log[1].start.Before(ts.log[0].end) {
		t.Errorf("terms %+v: want a, then b after a ended", ts.log)
	}
}
