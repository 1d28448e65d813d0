package connector

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/control"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// Run consumes the task's data topic into st until the loader has finished
// and everything it wrote is stored (finished event, nil error), until a stop
// command or a signal (interrupted event, nil error), or until an error that
// retrying cannot fix (error event, non-nil error).
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, st store.Store) error {
	if cfg.ClientID == "" {
		cfg.ClientID = Name
	}
	if cfg.TelemetryID == "" {
		suffix, err := protocol.NewSuffix(rand.Reader)
		if err != nil {
			return err
		}
		if q, err := protocol.ParseQueueID(cfg.QueueID); err == nil {
			suffix = q.Suffix
		}
		cfg.TelemetryID = protocol.TelemetryID(Name, suffix)
	}
	log := rt.Log.With().Str("queue_id", cfg.QueueID).Str("telemetry_id", cfg.TelemetryID).
		Str("topic", cfg.KafkaTopic).Str("collection", cfg.CollectionName).Logger()
	dlqTopic := protocol.DLQTopic(cfg.KafkaTopic)

	admin, err := bus.NewAdmin(cfg.Config)
	if err != nil {
		return err
	}
	if err := admin.Check(ctx); err != nil {
		return err
	}
	if cfg.CreateTopics {
		if err := admin.EnsureTopics(ctx, bus.TopicSpec{Name: cfg.KafkaTopic}, bus.TopicSpec{Name: dlqTopic}); err != nil {
			return err
		}
	}
	busMetrics := bus.NewMetrics(rt.Registry)
	prod, err := bus.NewProducer(cfg.Config, bus.ProducerOptions{Metrics: busMetrics})
	if err != nil {
		return err
	}
	defer closeLogged(log, "producer", prod.Close)
	em := telemetry.New(prod, cfg.Task, cfg.TelemetryID, telemetry.Options{Registerer: rt.Registry})

	if err := st.EnsureCollection(ctx, store.MarketData(cfg.CollectionName)); err != nil {
		return reportFatal(ctx, em, fmt.Errorf("prepare collection %s: %w", cfg.CollectionName, err), log)
	}
	base, err := st.Count(ctx, cfg.CollectionName)
	if err != nil {
		return reportFatal(ctx, em, fmt.Errorf("count collection %s: %w", cfg.CollectionName, err), log)
	}

	since := time.Now().Add(-cfg.ControlLookback)
	ctlTail, err := bus.NewTail(ctx, cfg.Config, protocol.TopicControl, since, busMetrics)
	if err != nil {
		return fmt.Errorf("open %s: %w", protocol.TopicControl, err)
	}
	defer closeLogged(log, "control reader", ctlTail.Close)
	lis := control.New(ctlTail, em, control.Options{QueueID: cfg.QueueID, Service: Name, TelemetryID: cfg.TelemetryID, Registerer: rt.Registry, Log: log})

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go func() {
		if err := lis.Run(bg); err != nil {
			log.Error().Err(err).Msg("queue-control listener stopped")
		}
	}()
	go em.RunHeartbeats(bg, cfg.HeartbeatInterval, func(err error) { log.Warn().Err(err).Msg("heartbeat not sent") })

	work, stopWork := control.WithStop(ctx, lis)
	defer stopWork()

	m := newMetrics(rt.Registry)
	s := &sink{st: st, collection: cfg.CollectionName, dlq: prod, dlqTopic: dlqTopic, em: em, m: m, log: log,
		retryMax: cfg.RetryMax, progress: cfg.ProgressInterval}
	s.written.Store(base)

	cons, err := bus.NewConsumer(cfg.Config, bus.ConsumerOptions{
		Group: cfg.Group, Topics: []string{cfg.KafkaTopic}, BatchSize: cfg.BatchSize, BatchWait: cfg.BatchWait, Metrics: busMetrics,
	})
	if err != nil {
		return err
	}
	defer closeLogged(log, "consumer", cons.Close)

	if err := em.Started(context.WithoutCancel(ctx), fmt.Sprintf("storing %s into %s", cfg.KafkaTopic, cfg.CollectionName)); err != nil {
		return err
	}
	rt.SetReady(true)
	log.Info().Int64("records_at_start", base).Int("batch_size", cfg.BatchSize).Msg("started")

	consume, stopConsume := context.WithCancel(work)
	defer stopConsume()
	runErr := make(chan error, 1)
	go func() { runErr <- cons.Run(consume, s.handle) }()
	go trackLag(bg, admin, cfg.Group, cfg.KafkaTopic, m, 5*time.Second)

	done := make(chan struct{})
	if !cfg.Follow {
		events, err := bus.NewTail(ctx, cfg.Config, protocol.TopicEvents, since, busMetrics)
		if err != nil {
			return fmt.Errorf("open %s: %w", protocol.TopicEvents, err)
		}
		defer closeLogged(log, "events reader", events.Close)
		loaderDone := make(chan struct{})
		go func() {
			if err := watchLoader(work, events, cfg.QueueID, log, loaderDone); err != nil {
				log.Error().Err(err).Msg("queue-events reader stopped")
			}
		}()
		go func() {
			select {
			case <-loaderDone:
			case <-work.Done():
				return
			}
			if caughtUp(work, admin, cfg.Group, cfg.KafkaTopic, m) == nil {
				close(done)
			}
		}()
	}

	var consumeErr error
	select {
	case consumeErr = <-runErr:
	case <-done:
		stopConsume()
		consumeErr = <-runErr
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	switch {
	case consumeErr != nil && work.Err() == nil:
		return reportFatal(ctx, em, consumeErr, log)
	case errors.Is(context.Cause(work), control.ErrStopRequested), ctx.Err() != nil:
		why := "stopped by signal"
		if errors.Is(context.Cause(work), control.ErrStopRequested) {
			why = "stopped on request"
		}
		log.Info().Int64("records", s.written.Load()).Str("reason", why).Msg("interrupted")
		return em.Interrupted(tctx, why)
	default:
		total, err := st.Count(tctx, cfg.CollectionName)
		if err != nil {
			total = s.written.Load()
		}
		log.Info().Int64("records", total).Msg("finished")
		return em.Finished(tctx, total, fmt.Sprintf("stored %d records in %s", total, cfg.CollectionName))
	}
}

// reportFatal sends a terminal error event for err and returns err.
func reportFatal(ctx context.Context, em *telemetry.Emitter, err error, log zerolog.Logger) error {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if eerr := em.Error(tctx, err, true); eerr != nil {
		log.Error().Err(eerr).Msg("error event not sent")
	}
	return err
}

func closeLogged(log zerolog.Logger, what string, close func() error) {
	if err := close(); err != nil {
		log.Warn().Err(err).Str("what", what).Msg("close")
	}
}
