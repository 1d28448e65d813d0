package flow

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Bounds limit what one request, and one owner, may ask of the platform.
// A zero field is no limit.
type Bounds struct {
	// MaxSteps caps the steps of one workflow (symbols × types loaders,
	// their connectors, graph and train).
	MaxSteps int
	// MaxSpan caps the length of a workflow's time range.
	MaxSpan time.Duration
	// MaxActive caps the workflows of one owner that have not ended.
	MaxActive int
}

// Anonymous owns the workflows of a request that names no owner (the API
// without authentication).
const Anonymous = "anonymous"

// ownerKey is whom w's workflows in flight are counted against: its
// owner's subject, Anonymous for a workflow stored before owners were
// recorded.
func ownerKey(w *Workflow) string {
	if w.Owner == nil || w.Owner.Subject == "" {
		return Anonymous
	}
	return w.Owner.Subject
}

// ErrTooMany is returned (wrapped) by Submit when the owner already has
// Bounds.MaxActive workflows in flight: the API answers 429.
var ErrTooMany = errors.New("too many workflows in flight")

// checkShape enforces the bounds of one workflow: its steps and its time
// range.
func (b Bounds) checkShape(w *Workflow) error {
	if b.MaxSteps > 0 && len(w.Steps) > b.MaxSteps {
		return &protocol.FieldError{Field: "symbols", Problem: fmt.Sprintf(
			"%d symbols × %d types make %d steps; a workflow has at most %d (WORKFLOW_MAX_STEPS): split it",
			len(w.Request.Symbols), len(w.Request.Types), len(w.Steps), b.MaxSteps)}
	}
	if b.MaxSpan > 0 && w.Request.TimeRange != "" {
		tr, err := protocol.ParseTimeRange(w.Request.TimeRange)
		if err != nil {
			return &protocol.FieldError{Field: "time_range", Problem: err.Error()}
		}
		if span := tr.End.Sub(tr.Start); span > b.MaxSpan {
			return &protocol.FieldError{Field: "time_range", Problem: fmt.Sprintf(
				"spans %s; a workflow spans at most %s (WORKFLOW_MAX_SPAN): split it", span, b.MaxSpan)}
		}
	}
	return nil
}

// checkActiveLocked counts owner's workflows that have not ended; e.mu is
// held.
func (e *Engine) checkActiveLocked(owner string) error {
	if e.o.Bounds.MaxActive <= 0 {
		return nil
	}
	n := 0
	for _, w := range e.active {
		if ownerKey(w) == owner {
			n++
		}
	}
	if n >= e.o.Bounds.MaxActive {
		return fmt.Errorf("%w: %s has %d workflows that have not ended, at most %d (WORKFLOW_MAX_ACTIVE); wait for one to end or stop one",
			ErrTooMany, owner, n, e.o.Bounds.MaxActive)
	}
	return nil
}
