package flow

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// effect is one piece of I/O a decision of the engine calls for: a command
// to publish, a run to launch or one to remove. Decisions are made under
// the engine's lock and only record their effects; the effects are
// performed after the lock is released, so that a slow Kafka or launcher
// never holds up a read.
type effect struct {
	cmd  *protocol.Command
	run  *launch.Spec
	stop string // run id
}

// unlock releases the engine's lock and performs the effects decided
// under it. Effects are queued in the order they were decided and
// performed in that order by one goroutine at a time (a start command
// before its launch, a launch before a stop of the same run); a caller
// that finds another goroutine performing leaves its effects to it.
func (e *Engine) unlock(ctx context.Context) {
	if len(e.fx) > 0 {
		e.qmu.Lock()
		e.queue = append(e.queue, e.fx...)
		e.qmu.Unlock()
		e.fx = e.fx[:0]
	}
	e.mu.Unlock()
	e.drain(ctx)
}

func (e *Engine) drain(ctx context.Context) {
	e.qmu.Lock()
	if e.draining {
		e.qmu.Unlock()
		return
	}
	e.draining = true
	for len(e.queue) > 0 {
		fx := e.queue[0]
		e.queue[0] = effect{}
		e.queue = e.queue[1:]
		e.qmu.Unlock()
		e.perform(ctx, fx)
		e.qmu.Lock()
	}
	e.draining = false
	e.qmu.Unlock()
}

func (e *Engine) perform(ctx context.Context, fx effect) {
	ctx = context.WithoutCancel(ctx)
	switch {
	case fx.cmd != nil:
		b, err := json.Marshal(fx.cmd)
		if err == nil {
			// Bounded: every later effect waits behind this one, and
			// while Kafka is down a command is better tried again.
			pctx, cancel := context.WithTimeout(ctx, publishTimeout)
			err = e.pub.Publish(pctx, protocol.TopicControl, []byte(fx.cmd.QueueID), b)
			cancel()
		}
		if err != nil {
			e.o.Log.Error().Err(err).Str("queue_id", fx.cmd.QueueID).Str("run", fx.cmd.RunID).Str("command", string(fx.cmd.Command)).
				Msg("command not published")
			switch fx.cmd.Command {
			case protocol.CommandStart:
				e.unsent[fx.cmd.RunID] = err
			case protocol.CommandStop:
				e.stopUnsent(fx.cmd)
			}
		} else if fx.cmd.Command == protocol.CommandStop {
			e.qmu.Lock()
			delete(e.stops, fx.cmd.RunID)
			e.qmu.Unlock()
		}
	case fx.run != nil:
		if err, ok := e.unsent[fx.run.ID]; ok {
			delete(e.unsent, fx.run.ID)
			e.takeBack(ctx, fx.run.ID, "start command not sent", err)
			return
		}
		err := e.launcher.Launch(ctx, *fx.run)
		switch {
		case errors.Is(err, launch.ErrUnavailable):
			e.takeBack(ctx, fx.run.ID, "launcher unavailable", err)
		case err != nil:
			e.launchFailed(ctx, fx.run.ID, err)
		}
	case fx.stop != "":
		if err := e.launcher.Stop(ctx, fx.stop); err != nil {
			e.o.Log.Warn().Err(err).Str("run", fx.stop).Msg("remove run")
		}
	}
}

// takeBack takes back the attempt of run, which could not start for a
// reason that says nothing about the step: its start command could not be
// sent (Kafka is unreachable; its worker could not report either), or the
// launcher is unavailable. No attempt is used up; the step waits
// RetryBase and tries again.
func (e *Engine) takeBack(ctx context.Context, run, why string, err error) {
	e.mu.Lock()
	defer e.unlock(ctx)
	ref := e.currentRunLocked(run)
	if ref == nil {
		return
	}
	s := ref.s
	delete(e.runs, run)
	s.Attempts = s.Attempts[:len(s.Attempts)-1]
	s.State, s.RetryAt, s.Error = Pending, e.o.Now().UTC().Add(e.o.RetryBase), why+": "+err.Error()
	e.o.Log.Warn().Err(err).Str("workflow", ref.w.ID).Str("step", s.ID).Str("why", why).Msg("launch postponed")
	e.settleLocked(ctx, ref.w) // stopped meanwhile: it will not start
	e.saveLocked(ctx, ref.w, "step", s.ID)
}

// launchFailed ends the attempt of run as failed when it is still the
// current one.
func (e *Engine) launchFailed(ctx context.Context, run string, err error) {
	e.mu.Lock()
	defer e.unlock(ctx)
	ref := e.currentRunLocked(run)
	if ref == nil {
		return
	}
	e.attemptFailed(ctx, ref.w, ref.s, "launch: "+err.Error())
	e.settleLocked(ctx, ref.w)
	e.saveLocked(ctx, ref.w, "step", ref.s.ID)
	e.scheduleLocked(ctx)
}

// currentRunLocked returns the step whose current attempt is run and has
// not ended, or nil.
func (e *Engine) currentRunLocked(run string) *stepRef {
	ref, ok := e.runs[run]
	if !ok {
		return nil
	}
	if a := ref.s.Current(); a == nil || a.RunID != run || !a.Ended.IsZero() {
		return nil
	}
	return ref
}

// unsentStop is a stop command that could not be published, and when to
// try it again.
type unsentStop struct {
	cmd   *protocol.Command
	fails int
	next  time.Time
}

// publishTimeout bounds the publishing of one command.
const publishTimeout = 10 * time.Second

// stopBackoff spaces the attempts to publish a stop command while Kafka is
// unreachable.
var stopBackoff = retry.Backoff{Base: time.Second, Max: 30 * time.Second}

// stopUnsent keeps a stop command that could not be published for Tick to
// publish again: a worker must be told to stop once Kafka is back, not
// left working until its run is removed at the end of the stop grace.
func (e *Engine) stopUnsent(cmd *protocol.Command) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	u := e.stops[cmd.RunID]
	if u == nil {
		u = &unsentStop{cmd: cmd}
		e.stops[cmd.RunID] = u
	}
	u.next = e.o.Now().Add(stopBackoff.Delay(u.fails))
	u.fails++
}

// resendStopsLocked queues again the unsent stop commands that are due and
// whose runs are still stopping; the others are forgotten.
func (e *Engine) resendStopsLocked() {
	now := e.o.Now()
	e.qmu.Lock()
	defer e.qmu.Unlock()
	for run, u := range e.stops {
		ref := e.currentRunLocked(run)
		switch {
		case ref == nil || ref.s.State != Stopping:
			delete(e.stops, run)
		case !now.Before(u.next):
			// Due again only if this publish fails too.
			u.next = now.Add(stopBackoff.Max)
			e.fx = append(e.fx, effect{cmd: u.cmd})
		}
	}
}
