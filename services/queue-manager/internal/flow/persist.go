package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/streamforge/streamforge/libs/store"
)

// store writes w; a workflow the store refused is kept among the unsaved.
// While the store refuses writes, only probe tries again, once a tick: an
// outage does not hold the engine's lock for StoreTimeout on every change.
func (e *Engine) store(ctx context.Context, w *Workflow) {
	if e.storeErr.Load() != nil {
		e.unsaved[w.ID] = w
		return
	}
	e.try(ctx, w)
}

// try writes w and reports whether it was stored.
func (e *Engine) try(ctx context.Context, w *Workflow) bool {
	if err := e.write(ctx, w); err != nil {
		e.o.Log.Error().Err(err).Str("workflow", w.ID).Msg("workflow not stored")
		e.o.Metrics.storeErrors.Inc()
		e.unsaved[w.ID] = w
		e.storeErr.Store(&err)
		return false
	}
	delete(e.unsaved, w.ID)
	if len(e.unsaved) == 0 && e.storeErr.Swap(nil) != nil {
		e.o.Log.Info().Msg("every workflow change is stored again")
		// The events that waited behind the outage are read now: every
		// running step has a whole HeartbeatTimeout from here.
		if !e.flowing.IsZero() {
			e.flowing = e.o.Now()
		}
	}
	return true
}

// write saves w within StoreTimeout. A revision conflict means an earlier
// write was stored although its answer was lost (a timeout after the
// commit): the stored record is reloaded and w, which holds every change
// since, is written over its revision.
func (e *Engine) write(ctx context.Context, w *Workflow) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.StoreTimeout)
	defer cancel()
	err := e.repo.Save(ctx, w)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	cur, err := e.repo.Get(ctx, w.ID)
	if err != nil {
		return fmt.Errorf("reload after a revision conflict: %w", err)
	}
	w.Rev = cur.Rev
	return e.repo.Save(ctx, w)
}

// flushLocked stores the progress not stored yet. While the store refuses
// writes it does no I/O (the progress joins the unsaved): probe finds, out
// of the engine's lock, when the store is back. The lock is never held for
// StoreTimeout once a tick during an outage, which would stall events, the
// API and every /metrics scrape for as long as the outage lasts.
func (e *Engine) flushLocked(ctx context.Context) {
	for id, w := range e.dirty {
		delete(e.dirty, id)
		e.store(ctx, w)
	}
}

// retryLocked writes again what the store refused before, until a write
// fails.
func (e *Engine) retryLocked(ctx context.Context) {
	for _, w := range e.unsaved {
		if !e.try(ctx, w) {
			return
		}
	}
}

// probe writes one of the workflows the store refused, from a copy taken
// under the engine's lock but outside it; once the store takes it, the
// others are written again under the lock (the store answers now).
func (e *Engine) probe(ctx context.Context) {
	e.mu.Lock()
	var w *Workflow
	for _, u := range e.unsaved {
		w = u
		break
	}
	if w == nil {
		e.mu.Unlock()
		return
	}
	c := clone(w)
	e.mu.Unlock()
	err := e.write(ctx, c)
	e.mu.Lock()
	defer e.unlock(ctx)
	if err != nil {
		e.o.Log.Error().Err(err).Str("workflow", w.ID).Msg("workflow not stored")
		e.o.Metrics.storeErrors.Inc()
		e.storeErr.Store(&err)
		return
	}
	// w may have changed since the copy: it stays unsaved and is written
	// again over the copy's revision.
	w.Rev = c.Rev
	e.retryLocked(ctx)
}

// unsavedErr returns an error while some change is not stored.
func (e *Engine) unsavedErr() error {
	if len(e.unsaved) == 0 {
		return nil
	}
	err := errors.New("store refused a write")
	if p := e.storeErr.Load(); p != nil {
		err = *p
	}
	return fmt.Errorf("%d workflows not stored: %w", len(e.unsaved), err)
}

// StoreErr returns why the store refuses writes while some change is not
// stored, nil when every change is. It does not wait for the engine's lock
// (for /readyz).
func (e *Engine) StoreErr() error {
	if p := e.storeErr.Load(); p != nil {
		return fmt.Errorf("workflow store: %w", *p)
	}
	return nil
}
