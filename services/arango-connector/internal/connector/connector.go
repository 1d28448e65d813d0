package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/worker"
)

// Run consumes the task's data topic into st until the loader has finished
// and everything it wrote is stored (finished event, nil error), until a stop
// command or a signal (interrupted event, nil error), or until an error that
// retrying cannot fix (error event, non-nil error).
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, st store.Store) error {
	dlqTopic := protocol.DLQTopic(cfg.KafkaTopic)
	w, err := worker.Start(ctx, rt, cfg.Config, cfg.Task, cfg.SigningSettings.Apply(worker.Options{
		Service: Name, HeartbeatInterval: cfg.HeartbeatInterval, ControlLookback: cfg.ControlLookback,
		CreateTopics: cfg.CreateTopics, Topics: []bus.TopicSpec{{Name: cfg.KafkaTopic}, {Name: dlqTopic}}, StartWait: cfg.StartWait,
	}))
	if err != nil {
		return err
	}
	defer w.Close()
	log := w.Log.With().Str("topic", cfg.KafkaTopic).Str("collection", cfg.CollectionName).Logger()

	if err := st.EnsureCollection(ctx, store.MarketData(cfg.CollectionName)); err != nil {
		// A name or index the store refuses is refused again on a retry;
		// only an outage (store.ErrUnavailable) may pass.
		return w.End(ctx, store.Permanent(fmt.Errorf("prepare collection %s: %w", cfg.CollectionName, err)), nil)
	}
	// Progress counts what this run stored; the finished event counts the
	// task's own records in the store, whatever earlier runs or other
	// workflows left in the (shared) collection.
	base, err := cfg.ownRecords(ctx, st)
	if err != nil {
		return w.End(ctx, store.Permanent(err), nil)
	}
	m := newMetrics(rt.Registry)
	s := &sink{st: st, collection: cfg.CollectionName, dlq: w.Producer, dlqTopic: dlqTopic, em: w.Events, m: m, log: log,
		retryMax: cfg.RetryMax, progress: cfg.ProgressInterval}

	cons, err := bus.NewConsumer(w.Kafka, bus.ConsumerOptions{
		Group: cfg.Group, Topics: []string{cfg.KafkaTopic}, BatchSize: cfg.BatchSize, BatchWait: cfg.BatchWait, Metrics: w.Metrics,
		// An outage the records' producer would not outlive ends the run
		// too, rather than leave it waiting while heartbeats say alive.
		RideOut:         worker.DefaultRideOut,
		OnTopicsMissing: topicWaitLogger(log),
		OnOutage: func(err error) {
			if err != nil {
				log.Warn().Err(err).Msg("kafka cannot be read or committed to; retrying")
			} else {
				log.Info().Msg("kafka answers again")
			}
		},
	})
	if err != nil {
		return err
	}
	defer closeLogged(log, "consumer", cons.Close)
	var events *bus.Tail
	if !cfg.Follow {
		events, err = bus.NewTail(ctx, w.Kafka, protocol.TopicEvents, time.Now().Add(-cfg.ControlLookback), w.Metrics)
		if err != nil {
			return fmt.Errorf("open %s: %w", protocol.TopicEvents, err)
		}
		defer closeLogged(log, "events reader", events.Close)
	}

	if err := w.Started(ctx, fmt.Sprintf("storing %s into %s", cfg.KafkaTopic, cfg.CollectionName)); err != nil {
		return err
	}
	log.Info().Int64("records_at_start", base).Int("batch_size", cfg.BatchSize).Msg("started")

	// Every goroutine Run starts is ended and waited for by stopAll before
	// the terminal event, and so before the caller closes the store: the
	// consumer's last batch is written (or abandoned) first. The consumer
	// and the loader watcher run under ctx, not work: a stop command ends
	// work, and they go on while the run drains (a signal ends ctx, and
	// them at once).
	work := w.Work()
	consume, stopConsume := context.WithCancel(ctx)
	watch, stopWatch := context.WithCancel(ctx)
	lagCtx, stopLag := context.WithCancel(context.WithoutCancel(ctx))
	var g sync.WaitGroup
	stopAll := func() { stopConsume(); stopWatch(); stopLag(); g.Wait() }
	defer stopAll()
	runErr := make(chan error, 1)
	g.Go(func() { runErr <- cons.Run(consume, s.handle) })
	g.Go(func() { trackLag(lagCtx, w.Admin, cfg.Group, cfg.KafkaTopic, m, 5*time.Second) })

	// ends holds the latest terminal event of a load run (finished, or
	// interrupted by a stop command); watchErr says why that can no
	// longer be learnt (queue-events unreadable for longer than the
	// ride-out), and caught whether everything the finished loader wrote
	// is stored: the run then ends in an error rather than wait while
	// heartbeats say it is alive.
	ends := make(chan protocol.Event, 1)
	watchErr := make(chan error, 1)
	caught := make(chan error, 1)
	if events != nil {
		trust := eventTrust(rt.Registry, w.Signing, w.Key, log)
		events.OnError = func(partition int, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("queue-events cannot be read; retrying")
			} else {
				log.Info().Int("partition", partition).Msg("queue-events can be read again")
			}
		}
		g.Go(func() {
			err := watchLoader(watch, events, cfg.QueueID, cfg.RunID, trust, log, func(ev protocol.Event) {
				select { // only the latest counts
				case <-ends:
				default:
				}
				ends <- ev
			})
			if err != nil {
				watchErr <- fmt.Errorf("read %s: %w", protocol.TopicEvents, err)
			}
		})
	}

	var loader *protocol.Event // the load run's terminal event, once received
	for {
		select {
		case err := <-runErr:
			// The consumer ends by itself only on a failure or when ctx
			// was cancelled by a signal; End tells the two apart.
			stopAll()
			return w.End(ctx, err, nil)
		case err := <-watchErr:
			stopAll()
			return w.End(ctx, err, nil)
		case ev := <-ends:
			loader = &ev
			if ev.Status != protocol.StatusFinished {
				continue // stopped: this run ends on its own stop command (draining then)
			}
			g.Go(func() {
				caught <- caughtUp(watch, w.Admin, cfg.Group, cfg.KafkaTopic, m, log, worker.DefaultRideOut)
			})
		case err := <-caught:
			if err != nil {
				if watch.Err() != nil {
					continue // a signal: runErr or work says so
				}
				stopAll()
				return w.End(ctx, fmt.Errorf("wait until everything the loader wrote is stored: %w", err), nil)
			}
			return finish(ctx, w, cfg, st, s, loader.Result, stopConsume, runErr, stopAll, log)
		case <-work.Done():
			var cov *coverageResult
			if _, why := w.Stopped(); why == protocol.ReasonStopRequested {
				d := &drainer{cfg: cfg, st: st, k: w.Admin, m: m, log: log, ends: ends, runErr: runErr, watchErr: watchErr,
					loader: loader, follow: events == nil}
				cov = d.drain(ctx)
			}
			stopAll()
			if cov == nil {
				return w.End(ctx, nil, nil)
			}
			return w.EndWith(ctx, nil, nil, cov)
		}
	}
}

// finish ends a run whose loader finished once everything it wrote is
// stored: the consumer is stopped after its last batch, the task's records
// are counted and the loader's ledger (in its finished event's result) is
// written.
func finish(ctx context.Context, w *worker.Worker, cfg *Config, st store.Store, s *sink, loaderResult json.RawMessage,
	stopConsume func(), runErr <-chan error, stopAll func(), log zerolog.Logger) error {
	stopConsume()
	err := <-runErr
	stopAll()
	if err != nil {
		return w.End(ctx, err, nil)
	}
	// A count that fails ends the run in an error: queue-manager runs it
	// again, and the records it stored stay (upserts are idempotent).
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	total, err := cfg.ownRecords(cctx, st)
	cancel()
	if err != nil {
		return w.End(ctx, err, nil)
	}
	// The ledger, like the count, is written again by a rerun: its
	// keys are deterministic.
	cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	cov, err := storeCoverage(cctx, st, cfg, loaderResult, log)
	cancel()
	if err != nil {
		return w.End(ctx, err, nil)
	}
	return w.End(ctx, nil, func(tctx context.Context) error {
		log.Info().Int64("records", total).Int64("stored_by_this_run", s.written.Load()).Msg("finished")
		msg := fmt.Sprintf("%d records of %s %s in %s (this run stored %d)",
			total, cfg.Symbol, cfg.rangeText(), cfg.CollectionName, s.written.Load())
		if cov == nil {
			return w.Events.Finished(tctx, total, msg)
		}
		return w.Events.FinishedWith(tctx, total, msg+"; coverage "+cov.text(), cov)
	})
}

func closeLogged(log zerolog.Logger, what string, close func() error) {
	if err := close(); err != nil {
		log.Warn().Err(err).Str("what", what).Msg("close")
	}
}
