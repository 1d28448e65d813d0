package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
)

// loaderFinished reports whether ev says a loader of queueID is done: a
// finished event from a worker that is not a connector. A connector
// launched as a run of a workflow (runID set) takes only a finished event
// that names a run of the task's load step: one from another client, with
// no run or another step's, would end the store before the real loader is
// done.
func loaderFinished(ev protocol.Event, queueID, runID string) bool {
	return ev.QueueID == queueID && ev.Status == protocol.StatusFinished && ev.Finished && ofLoadRun(ev, runID)
}

// loaderStopped reports whether ev says a loader of queueID stopped on a
// stop command (a stop is final for the task: no run of it follows), with
// the checks of loaderFinished. A loader interrupted by a signal is not
// stopped: queue-manager relaunches it.
func loaderStopped(ev protocol.Event, queueID, runID string) bool {
	return ev.QueueID == queueID && ev.Status == protocol.StatusInterrupted && ev.Finished &&
		ev.Message == protocol.ReasonStopRequested && ofLoadRun(ev, runID)
}

// ofLoadRun reports whether ev comes from a loader: not a connector, and,
// for a connector of a workflow (runID set), from a run of the task's load
// step.
func ofLoadRun(ev protocol.Event, runID string) bool {
	return protocol.TelemetryService(ev.Producer) != Name && (runID == "" || protocol.IsRunOf(ev.RunID, ev.QueueID, protocol.StepLoad))
}

// watchLoader reads queue-events and calls ended with every terminal
// event of a loader of the task that trust accepts (signed with the task's
// key): a stop-requested interrupted event (loaderStopped), and a finished
// one (loaderFinished), after which it returns nil. Its result carries the
// loader's coverage ledgers. The loader sends its terminal event only after
// its last record was acknowledged, so the data topic's end offsets read
// after that cover every record of the task. A finished event
// loaderFinished refuses is logged, as trust logs and counts the ones it
// refuses.
func watchLoader(ctx context.Context, events *bus.Tail, queueID, runID string, trust func(protocol.Event) bool, log zerolog.Logger,
	ended func(protocol.Event)) error {
	errFound := context.Canceled
	err := events.Run(ctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || ev.QueueID != queueID || (ev.Status != protocol.StatusFinished && ev.Status != protocol.StatusInterrupted) {
			return nil
		}
		if ev.Status == protocol.StatusInterrupted {
			if loaderStopped(ev, queueID, runID) && trust(ev) {
				log.Info().Str("loader", ev.Producer).Str("loader_run_id", ev.RunID).Int64("records", ev.RecordsWritten).
					Bool("ledger", len(ev.Result) > 0).Msg("loader stopped")
				ended(ev)
			}
			return nil
		}
		if !loaderFinished(ev, queueID, runID) {
			if protocol.TelemetryService(ev.Producer) != Name {
				log.Warn().Str("producer", ev.Producer).Str("event_run_id", ev.RunID).Msg("finished event of no load run ignored")
			}
			return nil
		}
		if !trust(ev) {
			return nil
		}
		log.Info().Str("loader", ev.Producer).Str("loader_run_id", ev.RunID).Int64("records", ev.RecordsWritten).Msg("loader finished")
		ended(ev)
		return errFound
	})
	if err == errFound {
		return nil
	}
	return err
}

// eventTrust returns the check watchLoader applies to a loader's finished
// event under MESSAGE_SIGNING: a forged finished (unsigned once signing is
// required, or signed with another key) is skipped and counted in
// streamforge_connector_events_unverified_total{check,outcome}, and the
// connector keeps waiting for its loader.
func eventTrust(reg prometheus.Registerer, mode protocol.SigningMode, key []byte, log zerolog.Logger) func(protocol.Event) bool {
	unverified := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamforge_connector_events_unverified_total",
		Help: "Loader finished events without a valid signature, by check (unsigned, bad_signature) and outcome (refused; accepted: unsigned while MESSAGE_SIGNING is permissive).",
	}, []string{"check", "outcome"})
	reg.MustRegister(unverified)
	return func(ev protocol.Event) bool {
		if mode == "" || mode == protocol.SigningOff {
			return true
		}
		c := ev.CheckSig(key)
		if c == protocol.SigValid {
			return true
		}
		ok, outcome := mode.Accepts(c), "refused"
		if ok {
			outcome = "accepted"
		}
		unverified.WithLabelValues(string(c), outcome).Inc()
		log.Warn().Str("loader", ev.Producer).Str("check", string(c)).Str("outcome", outcome).
			Msg("loader finished event not signed with this task's key")
		return ok
	}
}

// offsets is what caughtUp reads from Kafka (a *bus.Admin).
type offsets interface {
	EndOffsets(ctx context.Context, topic string) (map[int]int64, error)
	CommittedOffsets(ctx context.Context, group, topic string) (map[int]int64, error)
}

// caughtUp waits until the group has committed every partition of topic up
// to the end offsets read when it is called, updating the lag gauge; it
// returns nil then, or ctx's error. A read of the offsets that fails (a
// partition's leader just died, a broker does not answer) is retried with
// capped, jittered backoff and logged when it begins failing; when reads
// have failed for rideOut without one succeeding, the last error is
// returned: the run must end in an error event rather than wait for ever
// while its heartbeats say it is alive.
func caughtUp(ctx context.Context, k offsets, group, topic string, m *metrics, log zerolog.Logger, rideOut time.Duration) error {
	backoff := retry.Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}
	var failingSince time.Time
	fails := 0
	failed := func(what string, err error) error {
		if failingSince.IsZero() {
			failingSince = time.Now()
			log.Warn().Err(err).Msg("offsets of the data topic cannot be read; retrying")
		}
		if time.Since(failingSince) > rideOut {
			return fmt.Errorf("read %s of %s: no answer for %s: %w", what, topic, rideOut, err)
		}
		fails++
		return nil
	}
	var end map[int]int64
	for end == nil {
		e, err := k.EndOffsets(ctx, topic)
		if err == nil {
			end = e
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if ferr := failed("end offsets", err); ferr != nil {
			return ferr
		}
		if !retry.Sleep(ctx, backoff.Delay(fails)) {
			return ctx.Err()
		}
	}
	for {
		wait := 250 * time.Millisecond
		committed, err := k.CommittedOffsets(ctx, group, topic)
		switch {
		case err == nil:
			if !failingSince.IsZero() {
				log.Info().Msg("offsets of the data topic can be read again")
			}
			failingSince, fails = time.Time{}, 0
			var lag int64
			for p, e := range end {
				if d := e - committed[p]; d > 0 {
					lag += d
				}
			}
			m.lag.Set(float64(lag))
			if lag == 0 {
				return nil
			}
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			if ferr := failed("committed offsets", err); ferr != nil {
				return ferr
			}
			wait = backoff.Delay(fails)
		}
		if !retry.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// trackLag keeps the lag gauge current until ctx ends.
func trackLag(ctx context.Context, admin *bus.Admin, group, topic string, m *metrics, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if lag, err := admin.Lag(ctx, group, topic); err == nil {
			m.lag.Set(float64(lag))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
