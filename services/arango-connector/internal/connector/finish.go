package connector

import (
	"context"
	"time"

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
// and then closes done. The loader sends finished only after its last record
// was acknowledged, so the data topic's end offsets read after that cover
// every record of the task.
func watchLoader(ctx context.Context, events *bus.Tail, queueID string, log zerolog.Logger, done chan<- struct{}) error {
	errFound := context.Canceled
	err := events.Run(ctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || !loaderFinished(ev, queueID) {
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
