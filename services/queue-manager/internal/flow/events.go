package flow

import (
	"context"
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// OnEvent applies one queue-events message: progress, and the end of an
// attempt (finished, a fatal error, interrupted). It returns an error while
// a change (this event's or an earlier one's) is not stored: the event must
// not be committed yet, and is applied again when it comes back.
func (e *Engine) OnEvent(ctx context.Context, ev protocol.Event) error {
	e.mu.Lock()
	defer e.unlock(ctx)
	e.applyLocked(ctx, ev)
	return e.unsavedErr()
}

func (e *Engine) applyLocked(ctx context.Context, ev protocol.Event) {
	if !e.trusted(ev) {
		return
	}
	var ref *stepRef
	for _, r := range e.byQueue[ev.QueueID] {
		if r.s.TelemetryID == ev.Producer || Role(r.s.Kind) == protocol.TelemetryService(ev.Producer) {
			ref = r
			break
		}
	}
	if late := ref; late != nil || ev.Status == protocol.StatusError {
		if late == nil {
			late = e.endedRef(ev)
		}
		if late != nil && e.lateReasonLocked(ctx, late, ev) {
			return
		}
	}
	if ref == nil || (ref.s.State != Running && ref.s.State != Stopping) {
		e.o.Metrics.events.WithLabelValues("unknown").Inc()
		return
	}
	if why := runMismatch(ref.s, ev.RunID); why != "" {
		e.o.Metrics.events.WithLabelValues(why).Inc()
		return
	}
	e.o.Metrics.events.WithLabelValues(string(ev.Status)).Inc()
	w, s := ref.w, ref.s
	now := e.o.Now().UTC()
	e.lastSeen[s.ID] = now
	if ev.Status == protocol.StatusPong {
		return
	}
	at := protocol.TimeOf(ev.Timestamp)
	s.LastEvent = &EventInfo{Status: string(ev.Status), Message: ev.Message, Records: ev.RecordsWritten, At: at}
	if ev.Status == protocol.StatusFinished {
		// The finished count is the step's own total (a connector's is the
		// documents of its range in the store); progress before it may have
		// counted a record twice (a retried batch, a re-load).
		s.Records = ev.RecordsWritten
	} else {
		s.Records = max(s.Records, ev.RecordsWritten)
	}
	if ev.Percent > 0 {
		s.Percent = ev.Percent
	}
	if ev.Rate > 0 || ev.Status == protocol.StatusLoading {
		s.Rate = ev.Rate
	}
	s.ETASeconds = ev.ETASeconds
	kind := "progress"
	switch {
	case ev.Status == protocol.StatusFinished:
		e.endAttempt(s, Finished, ev.Message)
		s.State, s.Percent, s.ETASeconds = Finished, 100, 0
		e.stepFinished(s, ev.RecordsWritten)
		if len(ev.Result) > 0 {
			s.Result = ev.Result
		}
		kind = "step"
	case ev.Status == protocol.StatusError && ev.Finished:
		// The worker's own words: they are what a person needs to act.
		if a := s.Current(); a != nil && a.Ended.IsZero() {
			a.Error, a.Permanent = ev.Error, ev.Permanent
		}
		e.attemptFailedFor(ctx, w, s, workerReason(ev), ev.Permanent)
		kind = "step"
	case ev.Status == protocol.StatusError:
		s.Error = ev.Error // reported, the worker goes on
	case ev.Status == protocol.StatusInterrupted:
		stopped := s.State == Stopping || w.State == Stopping || ev.Message == protocol.ReasonStopRequested
		if stopped && len(ev.Result) > 0 {
			// What the step made before the stop: a stopped live
			// stream's coverage ledger (loader) and the summary of the
			// ledger stored (connector).
			s.Result = ev.Result
		}
		switch {
		case s.State == Stopping || w.State == Stopping:
			e.endAttempt(s, Stopped, ev.Message)
			s.State = Stopped
		case ev.Message == protocol.ReasonStopRequested:
			// Someone stopped this run on queue-control (debug-producer,
			// an operator): the step is stopped, not failed; its stop
			// named this run, so a relaunch would not see it.
			e.endAttempt(s, Stopped, ev.Message+" (a stop command not sent by queue-manager)")
			s.State = Stopped
			e.o.Log.Info().Str("workflow", w.ID).Str("step", s.ID).Msg("step stopped by a stop command of its own")
		default:
			e.attemptFailed(ctx, w, s, "interrupted without a stop request: "+ev.Message)
		}
		kind = "step"
	case ev.Status == protocol.StatusHeartbeat:
		return // liveness only: not worth a store write
	}
	if kind == "step" {
		e.settleLocked(ctx, w)
	}
	e.saveLocked(ctx, w, kind, s.ID)
	if kind == "step" {
		e.scheduleLocked(ctx)
	}
}

// runMismatch says why an event with runID is not one of s's current run
// ("stale_run": it names another run; "ambiguous_run": it names none and
// s was relaunched, so it could be any run's), or "" when it is.
func runMismatch(s *Step, runID string) string {
	a := s.Current()
	switch {
	case runID != "" && (a == nil || a.RunID != runID):
		return "stale_run"
	case runID == "" && len(s.Attempts) > 1:
		return "ambiguous_run"
	}
	return ""
}

func (e *Engine) endAttempt(s *Step, outcome, msg string) {
	if a := s.Current(); a != nil && a.Ended.IsZero() {
		a.Ended, a.Outcome, a.Message = e.o.Now().UTC(), outcome, msg
		delete(e.runs, a.RunID)
		delete(e.exited, a.RunID)
	}
}

// workerReason is what a fatal error event says, in the worker's words:
// its error, and its message when that says more.
func workerReason(ev protocol.Event) string {
	switch {
	case ev.Error == "":
		return ev.Message
	case ev.Message == "" || ev.Message == ev.Error:
		return ev.Error
	}
	return ev.Message + ": " + ev.Error
}

// Flowing tells the engine that queue-events delivers. Until it first does
// (joining the consumer group and reading the backlog can take a while
// after a start), silence is not held against any step.
func (e *Engine) Flowing() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flowing.IsZero() {
		e.flowing = e.o.Now()
	}
}

// caughtUp starts the silence clock when queue-events has nothing more to
// deliver: a consumer caught up with the topic's end delivers no batch, so
// without this a queue-manager whose steps never reported (every Pod
// refused, every worker dead while it was down) would never judge their
// silence and they would stay running for ever. Kafka is asked outside the
// engine's lock, and only until events flow.
func (e *Engine) caughtUp(ctx context.Context) {
	e.mu.Lock()
	ask := e.flowing.IsZero() && e.blind == nil
	e.mu.Unlock()
	if !ask {
		return
	}
	offsets, err := e.o.Events.EndOffsets(ctx)
	if err != nil {
		return // judgeExits logs the same failure
	}
	if ok, err := e.o.Events.CaughtUp(ctx, offsets); err == nil && ok {
		e.Flowing()
	}
}

// EventsHealth tells the engine whether queue-manager can read
// queue-events (err nil) or not (why). While it cannot, silence is not held
// against any step (their events may be waiting on the broker) and no step
// is launched (its worker could not report either); when it can again,
// every running step has a whole HeartbeatTimeout from then.
func (e *Engine) EventsHealth(ctx context.Context, err error) {
	e.mu.Lock()
	defer e.unlock(ctx)
	was := e.blind
	e.blind = err
	switch {
	case err != nil && was == nil:
		e.o.Log.Warn().Err(err).Msg("queue-events cannot be read: silence timeouts and launches wait")
	case err == nil && was != nil:
		e.o.Log.Info().Msg("queue-events can be read again")
		if !e.flowing.IsZero() {
			e.flowing = e.o.Now()
		}
		e.scheduleLocked(ctx)
	}
}

// OnRun applies a launcher state change.
func (e *Engine) OnRun(ctx context.Context, st launch.Status) {
	e.mu.Lock()
	defer e.unlock(ctx)
	ref, ok := e.runs[st.ID]
	if !ok {
		return // an earlier attempt, or a run of an ended workflow
	}
	w, s := ref.w, ref.s
	switch st.Phase {
	case launch.Succeeded:
		// The worker's terminal event may still be on its way: the run is
		// judged by Tick once queue-events has been read that far.
		if _, ok := e.exited[st.ID]; !ok {
			e.exited[st.ID] = nil
		}
	case launch.Failed, launch.Vanished:
		if s.State == Stopping {
			e.endAttempt(s, Stopped, string(st.Phase)+": "+st.Message)
			s.State = Stopped
		} else {
			e.attemptFailedFor(ctx, w, s, fmt.Sprintf("run %s: %s", st.Phase, st.Message), st.Permanent)
		}
		e.settleLocked(ctx, w)
		e.saveLocked(ctx, w, "step", s.ID)
		e.scheduleLocked(ctx)
	}
}

// Tick does what time decides: runs that exited without a terminal event
// are judged, silent steps are declared dead, stopped workflows past their
// grace have their runs removed, stop commands Kafka refused are sent
// again, delayed relaunches start, and while the store refuses writes it
// is probed.
func (e *Engine) Tick(ctx context.Context) {
	e.caughtUp(ctx)
	e.decide(ctx)
	if e.storeErr.Load() != nil {
		e.probe(ctx)
	}
}

// decide is Tick under the engine's lock.
func (e *Engine) decide(ctx context.Context) {
	e.judgeExits(ctx)
	e.mu.Lock()
	defer e.unlock(ctx)
	now := e.o.Now()
	// While the store refuses writes the events consumer retries one batch
	// (its state is not stored): the steps' later events wait on the
	// broker, so their silence is queue-manager's, not theirs.
	deaf := e.storeErr.Load()
	for _, w := range e.active {
		changed := false
		for _, s := range w.Steps {
			a := s.Current()
			exited := false
			if a != nil {
				_, exited = e.exited[a.RunID]
			}
			switch {
			case s.State == Running && !exited && e.blind == nil && deaf == nil && !e.flowing.IsZero() &&
				now.Sub(later(e.lastSeen[s.ID], e.flowing)) > e.o.HeartbeatTimeout:
				e.attemptFailed(ctx, w, s, fmt.Sprintf("no event for %s (heartbeat timeout)", e.o.HeartbeatTimeout.Round(time.Second)))
				changed = true
			case s.State == Stopping && !w.StopAfter.IsZero() && now.After(w.StopAfter):
				if a != nil {
					e.fx = append(e.fx, effect{stop: a.RunID})
				}
				e.endAttempt(s, Stopped, "removed after the stop grace period")
				s.State = Stopped
				changed = true
			}
		}
		if changed {
			e.settleLocked(ctx, w)
			e.saveLocked(ctx, w, "step", "")
		}
	}
	e.resendStopsLocked()
	e.pruneEndedLocked()
	e.scheduleLocked(ctx)
	e.flushLocked(ctx)
}

// Run drives the engine until ctx ends: launcher changes and a ticker.
// Events arrive through OnEvent from the queue-events consumer. A watch of
// the launcher that fails (an API server that went away) is started again
// after a capped, jittered delay, and the runs' states are read anew. Run
// returns once the watch has returned and the last changes are stored.
func (e *Engine) Run(ctx context.Context, tick time.Duration) error {
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		e.watch(ctx)
	}()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-watched
			e.mu.Lock()
			e.retryLocked(context.WithoutCancel(ctx))
			e.flushLocked(context.WithoutCancel(ctx))
			e.mu.Unlock()
			return nil
		case <-t.C:
			e.Tick(ctx)
		}
	}
}

// watch follows the launcher's changes until ctx ends.
func (e *Engine) watch(ctx context.Context) {
	backoff := retry.Backoff{Base: time.Second, Max: 30 * time.Second}
	for fails := 0; ; fails++ {
		err := e.launcher.Watch(ctx, func(st launch.Status) { e.OnRun(ctx, st) })
		if ctx.Err() != nil {
			return
		}
		e.o.Log.Warn().Err(err).Msg("launcher watch ended; watching again")
		if !retry.Sleep(ctx, backoff.Delay(fails)) {
			return
		}
		// What changed while nobody watched.
		runs, err := e.launcher.Runs(ctx)
		if err != nil {
			e.o.Log.Warn().Err(err).Msg("launched runs not listed")
			continue
		}
		for _, st := range runs {
			e.OnRun(ctx, st)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// EventLog is queue-events as the engine needs to know it: how far it is
// written, and whether the engine has applied it that far.
type EventLog interface {
	// EndOffsets returns the end offset of each partition of queue-events.
	EndOffsets(ctx context.Context) (map[int]int64, error)
	// CaughtUp reports whether every event below offsets (by partition)
	// has been applied.
	CaughtUp(ctx context.Context, offsets map[int]int64) (bool, error)
}

// appliedLog is an EventLog whose events are applied as they are sent.
type appliedLog struct{}

func (appliedLog) EndOffsets(context.Context) (map[int]int64, error)     { return map[int]int64{}, nil }
func (appliedLog) CaughtUp(context.Context, map[int]int64) (bool, error) { return true, nil }

// judgeExits judges the runs that ended (exit 0) without a terminal event.
// A step is finished only on its run's finished event, and that event may
// still be on its way: the end offsets of queue-events are taken after the
// run ended, and once every event below them has been applied a run still
// without its terminal event is a failed attempt (a stopping one is
// stopped). Kafka is asked outside the engine's lock.
func (e *Engine) judgeExits(ctx context.Context) {
	e.mu.Lock()
	var untaken []string
	judge := map[string]map[int]int64{}
	for run, offsets := range e.exited {
		if offsets == nil {
			untaken = append(untaken, run)
		} else {
			judge[run] = offsets
		}
	}
	e.mu.Unlock()
	if len(untaken) > 0 {
		offsets, err := e.o.Events.EndOffsets(ctx)
		if err != nil {
			e.o.Log.Warn().Err(err).Int("runs", len(untaken)).Msg("queue-events end offsets not read; exited runs judged later")
		} else {
			e.mu.Lock()
			for _, run := range untaken {
				if _, ok := e.exited[run]; ok {
					e.exited[run], judge[run] = offsets, offsets
				}
			}
			e.mu.Unlock()
		}
	}
	var caught []string
	for run, offsets := range judge {
		ok, err := e.o.Events.CaughtUp(ctx, offsets)
		if err != nil {
			e.o.Log.Warn().Err(err).Str("run", run).Msg("queue-events progress not read; exited run judged later")
			continue
		}
		if ok {
			caught = append(caught, run)
		}
	}
	if len(caught) == 0 {
		return
	}
	e.mu.Lock()
	defer e.unlock(ctx)
	for _, run := range caught {
		ref, ok := e.runs[run]
		if _, exited := e.exited[run]; !ok || !exited {
			continue // its terminal event came after all
		}
		w, s := ref.w, ref.s
		switch s.State {
		case Stopping:
			e.endAttempt(s, Stopped, "exited after a stop request without reporting")
			s.State = Stopped
		case Running:
			e.attemptFailed(ctx, w, s, "exited without reporting")
		default:
			continue
		}
		e.settleLocked(ctx, w)
		e.saveLocked(ctx, w, "step", s.ID)
	}
}
