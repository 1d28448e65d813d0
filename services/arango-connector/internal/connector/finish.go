package connector

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// loaderFinished reports whether ev says a loader of queueID is done: a
// finished event from a worker that is not a connector.
func loaderFinished(ev protocol.Event, queueID string) bool {
	return ev.QueueID == queueID && ev.Status == protocol.StatusFinished && ev.Finished &&
		protocol.TelemetryService(ev.Producer) != Name
}

// watchLoader reads queue-events until a loader of the task reports finished
// in an event trust accepts (signed with the task's key) and then closes
// done. The loader sends finished only after its last record was
// acknowledged, so the data topic's end offsets read after that cover every
// record of the task.
func watchLoader(ctx context.Context, events *bus.Tail, queueID string, trust func(protocol.Event) bool, log zerolog.Logger,
	done chan<- struct{}) error {
	errFound := context.Canceled
	err := events.Run(ctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || !loaderFinished(ev, queueID) || !trust(ev) {
			return nil
		}
		log.Info().Str("loader", ev.Producer).Int64("records", ev.RecordsWritten).Msg("loader finished")
		close(done)
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

// caughtUp waits until the group has committed every partition of topic up
// to the end offsets read when it is called, updating the lag gauge; it
// returns nil then, or ctx's error.
func caughtUp(ctx context.Context, admin *bus.Admin, group, topic string, m *metrics) error {
	end, err := admin.EndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		committed, err := admin.CommittedOffsets(ctx, group, topic)
		if err == nil {
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
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
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
