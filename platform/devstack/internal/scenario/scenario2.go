package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// LiveRequest is Scenario 2: stream the trades and the order book of symbol
// until stopped (no time range), loading only, or storing too when store
// is set. Each type's load step is one loader Job.
func LiveRequest(symbol string, store bool) Request {
	steps := []string{protocol.StepLoad}
	if store {
		steps = append(steps, protocol.StepStore)
	}
	return Request{Symbols: []string{symbol}, Types: []string{"ws_trades", "ws_orderbook"}, Steps: steps}
}

// Ended reports whether a workflow state is terminal.
func Ended(state string) bool { return ended(state) }

// Failure explains why a workflow did not finish: the failing step and its
// error, or the workflow's own error.
func Failure(w *Workflow) error { return failure(w) }

// ErrStopTimeout is returned by StopAndWait when the workflow is still
// running at the deadline.
var ErrStopTimeout = errors.New("the workflow did not end after the stop request")

// StopAndWait asks queue-manager to stop the workflow and polls it every
// poll until it ends, returning its final state. It returns ErrStopTimeout
// (with the last state) when ctx's deadline passes first, and the API's
// error when the stop request fails.
func (c *Client) StopAndWait(ctx context.Context, id string, poll time.Duration) (*Workflow, error) {
	if err := c.Stop(ctx, id); err != nil {
		return nil, fmt.Errorf("stop %s: %w", id, err)
	}
	var last *Workflow
	for {
		w, err := c.Get(ctx, id)
		switch {
		case err == nil:
			last = w
			if ended(w.State) {
				return w, nil
			}
		case ctx.Err() == nil:
			return last, fmt.Errorf("workflow %s after stop: %w", id, err)
		}
		select {
		case <-ctx.Done():
			state := "unknown"
			if last != nil {
				state = last.State
			}
			return last, fmt.Errorf("workflow %s still %s: %w", id, state, ErrStopTimeout)
		case <-time.After(poll):
		}
	}
}

// graceRemoval is the message queue-manager gives an attempt whose worker
// did not end by itself within the stop grace period and was removed.
const graceRemoval = "removed after the stop grace period"

// CheckStopped returns an error unless w ended "stopped" with the last
// attempt of every load step ended "stopped" by the worker itself (its
// interrupted event), not removed after the grace period.
func CheckStopped(w *Workflow) error {
	if w.State != "stopped" {
		if w.State == "failed" {
			return failure(w)
		}
		return fmt.Errorf("workflow %s ended %s, want stopped", w.ID, w.State)
	}
	var bad []string
	for _, s := range w.Steps {
		if s.Kind != protocol.StepLoad {
			continue
		}
		if len(s.Attempts) == 0 {
			bad = append(bad, s.ID+" never ran")
			continue
		}
		a := s.Attempts[len(s.Attempts)-1]
		if a.Outcome != "stopped" || strings.HasPrefix(a.Message, graceRemoval) {
			bad = append(bad, fmt.Sprintf("%s attempt %d ended %q: %s", s.ID, a.N, a.Outcome, a.Message))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("workflow %s stopped, but not cleanly: %s", w.ID, strings.Join(bad, "; "))
	}
	return nil
}
