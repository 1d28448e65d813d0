// Package lead makes one queue-manager at a time the active engine: a lease
// kept as a record of the store (with the local launcher, and wherever the
// store is shared). The holder renews it; a process that cannot renew it
// stops acting before it lapses, and another takes it once it has lapsed.
// Clocks of the processes are assumed to agree to well within the lease.
package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/libs/store"
)

// Collection is where leases are kept.
const Collection = "locks"

// ErrHeld is returned when another process holds the lease.
var ErrHeld = errors.New("lease held by another queue-manager")

// Options tune a Lock. The zero value of a field means its default.
type Options struct {
	// TTL is how long a lease lasts without renewal (default 15 s); it is
	// renewed every TTL/3, and its holder stops acting once TTL/3 is left
	// without a renewal.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Standby, if set, is called each time Run finds the lease held by
	// another process.
	Standby func()
	Log     zerolog.Logger
}

// Lock is a lease named key in st, taken by holder.
type Lock struct {
	st          store.Store
	key, holder string
	o           Options
}

// New returns a lock; holder names this process (unique among the
// processes that share st).
func New(st store.Store, key, holder string, o Options) *Lock {
	if o.TTL <= 0 {
		o.TTL = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Lock{st: st, key: key, holder: holder, o: o}
}

type lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// Acquire takes or renews the lease: when nobody holds it, when it lapsed,
// or when it is this process's. It returns when the lease now lasts until,
// ErrHeld when another process holds it, or the store's error.
func (l *Lock) Acquire(ctx context.Context) (time.Time, error) {
	until := l.o.Now().Add(l.o.TTL)
	body, err := json.Marshal(lease{Holder: l.holder, Until: until})
	if err != nil {
		return time.Time{}, err
	}
	rec := store.Record{Key: l.key, Status: "held", Body: body}
	_, err = l.st.CreateRecord(ctx, Collection, rec)
	if err == nil {
		return until, nil
	}
	if !errors.Is(err, store.ErrExists) {
		return time.Time{}, fmt.Errorf("take lease %s: %w", l.key, err)
	}
	cur, err := l.st.GetRecord(ctx, Collection, l.key)
	if err != nil {
		return time.Time{}, fmt.Errorf("read lease %s: %w", l.key, err)
	}
	var held lease
	if err := json.Unmarshal(cur.Body, &held); err != nil {
		return time.Time{}, fmt.Errorf("lease %s: stored body: %w", l.key, err)
	}
	if held.Holder != l.holder && l.o.Now().Before(held.Until) {
		return time.Time{}, fmt.Errorf("%w: %s until %s", ErrHeld, held.Holder, held.Until.Format(time.RFC3339))
	}
	rec.Rev = cur.Rev
	if _, err := l.st.UpdateRecord(ctx, Collection, rec); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return time.Time{}, fmt.Errorf("%w: taken meanwhile", ErrHeld)
		}
		return time.Time{}, fmt.Errorf("renew lease %s: %w", l.key, err)
	}
	return until, nil
}

// Release gives the lease up when this process holds it, so that another
// takes it at once.
func (l *Lock) Release(ctx context.Context) error {
	cur, err := l.st.GetRecord(ctx, Collection, l.key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read lease %s: %w", l.key, err)
	}
	var held lease
	if err := json.Unmarshal(cur.Body, &held); err != nil || held.Holder != l.holder {
		return nil
	}
	err = l.st.DeleteRecord(ctx, Collection, l.key, cur.Rev)
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

// Run campaigns for the lease until ctx ends. Each time it holds it, it
// calls lead with a context that ends when the lease is lost (another
// process took it, or it could not be renewed with TTL/3 left) or ctx ends,
// and waits for lead to return before campaigning again; an error from
// lead ends Run with that error. On the way out it releases the lease.
func (l *Lock) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	every := l.o.TTL / 3
	backoff := retry.Backoff{Base: every, Max: every}
	for {
		until, err := l.Acquire(ctx)
		switch {
		case ctx.Err() != nil:
			return l.release(ctx)
		case err != nil:
			if !errors.Is(err, ErrHeld) {
				l.o.Log.Warn().Err(err).Msg("lease not taken")
			} else if l.o.Standby != nil {
				l.o.Standby()
			}
			if !retry.Sleep(ctx, backoff.Delay(0)) {
				return l.release(ctx)
			}
			continue
		}
		l.o.Log.Info().Str("holder", l.holder).Msg("leading: this queue-manager runs the engine")
		term, lost := context.WithCancel(ctx)
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			l.keep(term, lost, until)
		}()
		err = lead(term)
		lost()
		<-renewed
		if err != nil {
			return errors.Join(err, l.release(ctx))
		}
		if ctx.Err() != nil {
			return l.release(ctx)
		}
		l.o.Log.Warn().Str("holder", l.holder).Msg("lease lost: standing by")
	}
}

// keep renews the lease every TTL/3 until term ends, and ends term (lost)
// when another process took the lease or when a renewal has not succeeded
// with TTL/3 left.
func (l *Lock) keep(term context.Context, lost context.CancelFunc, until time.Time) {
	every := l.o.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-term.Done():
			return
		case <-t.C:
		}
		u, err := l.Acquire(term)
		switch {
		case err == nil:
			until = u
		case errors.Is(err, ErrHeld):
			l.o.Log.Error().Err(err).Msg("lease taken by another queue-manager")
			lost()
			return
		default:
			l.o.Log.Warn().Err(err).Msg("lease not renewed")
			if !l.o.Now().Add(every).Before(until) {
				lost()
				return
			}
		}
	}
}

func (l *Lock) release(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return l.Release(rctx)
}
