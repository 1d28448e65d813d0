package flow

import (
	"context"
	"errors"
	"time"
)

// ErrNothingToRetry is returned when retrying a workflow that finished:
// none of its steps failed or stopped.
var ErrNothingToRetry = errors.New("workflow finished: no failed or stopped step to retry")

// Retry runs an ended workflow's failed and stopped steps again — those
// cancelled because a step they need did not finish included — as new
// attempts after the ones they had, each with a whole STEP_MAX_ATTEMPTS;
// finished steps are kept. ErrActive when the workflow has not ended,
// ErrNothingToRetry when it finished.
func (e *Engine) Retry(ctx context.Context, id string) (*Workflow, error) {
	e.mu.Lock()
	defer e.unlock(ctx)
	if _, ok := e.active[id]; ok {
		return nil, ErrActive
	}
	w, err := e.repo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Terminal(w.State) {
		return nil, ErrActive // another queue-manager's, not settled yet
	}
	n := 0
	for _, s := range w.Steps {
		if s.State != Failed && s.State != Stopped {
			continue
		}
		s.State, s.Error, s.RetryAt, s.QueuePosition = Pending, "", time.Time{}, 0
		s.Percent, s.Rate, s.ETASeconds = 0, 0, 0
		s.RetryFrom = len(s.Attempts)
		n++
	}
	if n == 0 {
		return nil, ErrNothingToRetry
	}
	w.State, w.Error, w.StopAfter = Pending, "", time.Time{}
	e.o.Log.Info().Str("workflow", w.ID).Int("steps", n).Msg("workflow retried")
	e.adopt(w)
	e.saveLocked(ctx, w, "workflow", "")
	e.scheduleLocked(ctx)
	return clone(w), nil
}
