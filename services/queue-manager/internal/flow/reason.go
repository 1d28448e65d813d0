package flow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// lateReasonLocked applies the fatal error event of a run that has already
// ended as failed — its process exit reached queue-manager before its
// event — and reports whether it did. The worker's own reason replaces the
// exit code in the attempt, the step and the workflow; a reason the worker
// marked permanent cancels the relaunch waiting for it and fails the step.
func (e *Engine) lateReasonLocked(ctx context.Context, ref *stepRef, ev protocol.Event) bool {
	if ev.Status != protocol.StatusError || !ev.Finished || ev.RunID == "" {
		return false
	}
	w, s := ref.w, ref.s
	a := s.Current()
	if a == nil || a.RunID != ev.RunID || a.Ended.IsZero() || a.Outcome != Failed || a.Error != "" {
		return false
	}
	why := workerReason(ev)
	was := a.Message
	a.Error, a.Permanent, a.Message = ev.Error, ev.Permanent, why+" ("+was+")"
	if s.Error == was {
		s.Error = why
	}
	if w.Error != "" && strings.HasSuffix(w.Error, ": "+was) {
		w.Error = strings.TrimSuffix(w.Error, was) + why
	}
	if ev.Permanent && s.State == Pending {
		s.State, s.RetryAt = Failed, time.Time{}
		e.o.Log.Error().Str("workflow", w.ID).Str("step", s.ID).Str("why", why).Msg("step failed: a retry cannot fix it")
		if w.Error == "" {
			w.Error = fmt.Sprintf("step %s failed: %s (not retried: the worker marked it permanent)", s.ID, why)
		}
		e.settleLocked(ctx, w)
	}
	e.o.Metrics.events.WithLabelValues("late_reason").Inc()
	e.saveLocked(ctx, w, "step", s.ID)
	e.scheduleLocked(ctx)
	return true
}

// endedKeep is how long an ended workflow's steps still take the reason of
// a run that failed before its error event was read.
const endedKeep = 2 * time.Minute

// rememberEnded keeps the steps of a workflow that ends, for endedKeep.
func (e *Engine) rememberEnded(w *Workflow) {
	if refs := e.ended[w.Steps[0].QueueID]; len(refs) > 0 && refs[0].w == w {
		return // stored again after it ended
	}
	for _, s := range w.Steps {
		e.ended[s.QueueID] = append(e.ended[s.QueueID], &stepRef{w, s})
	}
}

// endedRef returns the step of a lately ended workflow that ev is from.
func (e *Engine) endedRef(ev protocol.Event) *stepRef {
	for _, r := range e.ended[ev.QueueID] {
		if r.s.TelemetryID == ev.Producer || Role(r.s.Kind) == protocol.TelemetryService(ev.Producer) {
			return r
		}
	}
	return nil
}

// pruneEndedLocked forgets the workflows that ended more than endedKeep
// ago.
func (e *Engine) pruneEndedLocked() {
	now := e.o.Now()
	for q, refs := range e.ended {
		if len(refs) == 0 || now.Sub(refs[0].w.Updated) > endedKeep {
			delete(e.ended, q)
		}
	}
}
