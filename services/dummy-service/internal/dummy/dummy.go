// Package dummy is dummy-service: a worker that pretends to be any other. It
// runs the real worker plumbing (queue-control listener, queue-events
// emitter, Kafka producer, metrics) around a simulated load, so the
// orchestration, the Kafka link and failure handling can be exercised without
// an exchange or a database.
package dummy

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/control"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// Name is the service name: the default target and telemetry_id prefix.
const Name = "dummy-service"

// Config is dummy-service's environment.
type Config struct {
	service.Common
	bus.Config
	protocol.Task

	Records           int64         `envconfig:"DUMMY_RECORDS" default:"10000" desc:"records to simulate with --simulate-loading"`
	Rate              float64       `envconfig:"DUMMY_RATE" default:"5000" desc:"simulated records per second (0 = as fast as possible)"`
	BatchSize         int64         `envconfig:"DUMMY_BATCH_SIZE" default:"500" desc:"records per batch; progress is reported after each"`
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL" default:"10s" desc:"time between heartbeat events"`
	ControlLookback   time.Duration `envconfig:"CONTROL_LOOKBACK" default:"1h" desc:"how far back in queue-control to look for this task's commands at start"`
	CreateTopics      bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"false" desc:"create queue-control, queue-events and the data topic if missing (local stacks; Strimzi manages them in a cluster)"`
}

// Validate checks the settings; errors name the variable.
func (c *Config) Validate() error {
	if c.QueueID == "" {
		return errors.New("QUEUE_ID: is required")
	}
	if c.Records < 0 {
		return fmt.Errorf("DUMMY_RECORDS: must not be negative, got %d", c.Records)
	}
	if c.BatchSize < 1 {
		return fmt.Errorf("DUMMY_BATCH_SIZE: must be at least 1, got %d", c.BatchSize)
	}
	if c.Rate < 0 {
		return fmt.Errorf("DUMMY_RATE: must not be negative, got %v", c.Rate)
	}
	if c.HeartbeatInterval <= 0 {
		return fmt.Errorf("HEARTBEAT_INTERVAL: must be positive, got %s", c.HeartbeatInterval)
	}
	return nil
}

// Flags are dummy-service's command-line switches (seed Appendix F).
type Flags struct {
	Debug           bool
	SimulateLoading bool
	FailAfter       int64
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.Debug, "debug", false, "log at debug level")
	fs.BoolVar(&f.SimulateLoading, "simulate-loading", false, "simulate a load: progress events, then finished")
	fs.Int64Var(&f.FailAfter, "fail-after", 0, "after N records send an error event and exit non-zero (implies --simulate-loading)")
}

// Run is the service body: it reports started, answers ping, and either
// simulates a load or idles until stopped. A stop command or SIGTERM ends it
// with an interrupted event and a nil error (exit 0); --fail-after ends it
// with an error event and a non-nil error.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, fl Flags) error {
	log := rt.Log.With().Str("queue_id", cfg.QueueID).Logger()
	if cfg.ClientID == "" {
		cfg.ClientID = Name
	}
	if cfg.TelemetryID == "" {
		id, err := telemetryID(cfg.QueueID)
		if err != nil {
			return err
		}
		cfg.TelemetryID = id
	}
	log = log.With().Str("telemetry_id", cfg.TelemetryID).Logger()

	admin, err := bus.NewAdmin(cfg.Config)
	if err != nil {
		return err
	}
	if err := admin.Check(ctx); err != nil {
		return err
	}
	if cfg.CreateTopics {
		specs := []bus.TopicSpec{{Name: protocol.TopicControl}, {Name: protocol.TopicEvents}}
		if cfg.KafkaTopic != "" {
			specs = append(specs, bus.TopicSpec{Name: cfg.KafkaTopic})
		}
		if err := admin.EnsureTopics(ctx, specs...); err != nil {
			return err
		}
	}

	metrics := bus.NewMetrics(rt.Registry)
	prod, err := bus.NewProducer(cfg.Config, bus.ProducerOptions{Metrics: metrics})
	if err != nil {
		return err
	}
	defer closeLogged(log, "producer", prod.Close)

	em := telemetry.New(prod, cfg.Task, cfg.TelemetryID, telemetry.Options{Registerer: rt.Registry})
	tail, err := control.Open(ctx, cfg.Config, cfg.ControlLookback, metrics)
	if err != nil {
		return fmt.Errorf("open %s: %w", protocol.TopicControl, err)
	}
	defer closeLogged(log, "control reader", tail.Close)
	lis := control.New(tail, em, control.Options{
		QueueID: cfg.QueueID, Service: Name, TelemetryID: cfg.TelemetryID, Registerer: rt.Registry, Log: log,
	})

	// bg runs the listener and heartbeats; it outlives work so that the
	// terminal event is still sent after a stop.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	lisErr := make(chan error, 1)
	go func() { lisErr <- lis.Run(bg) }()
	go em.RunHeartbeats(bg, cfg.HeartbeatInterval, func(err error) { log.Warn().Err(err).Msg("heartbeat not sent") })

	work, stopWork := control.WithStop(ctx, lis)
	defer stopWork()

	// A signal arriving while the started event is in flight must not
	// cancel it: the event is then followed by interrupted, in order.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	err = em.Started(sctx, "dummy-service started")
	cancel()
	if err != nil {
		return err
	}
	rt.SetReady(true)
	log.Info().Bool("simulate_loading", fl.SimulateLoading || fl.FailAfter > 0).Int64("fail_after", fl.FailAfter).Msg("started")

	sim := &simulator{cfg: cfg, prod: prod, em: em, records: simulatedCounter(rt.Registry)}
	var runErr error
	if fl.SimulateLoading || fl.FailAfter > 0 {
		runErr = sim.load(work, fl.FailAfter)
	} else {
		select {
		case <-work.Done():
			runErr = work.Err()
		case err := <-lisErr:
			runErr = fmt.Errorf("queue-control listener: %w", err)
		}
	}
	return finish(ctx, work, em, runErr, log)
}

// finish sends the terminal event that matches how the work ended and
// returns the service's result.
func finish(ctx, work context.Context, em *telemetry.Emitter, runErr error, log zerolog.Logger) error {
	// The terminal event must go out even when ctx was cancelled by a signal.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var fail *failAfterError
	switch {
	case runErr == nil:
		return nil // finished was sent by the simulation
	case errors.As(runErr, &fail):
		if err := em.Error(tctx, fail, true); err != nil {
			return errors.Join(fail, err)
		}
		return &service.ExitError{Code: 1, Err: fail}
	case errors.Is(context.Cause(work), control.ErrStopRequested), ctx.Err() != nil:
		why := "stopped by signal"
		if errors.Is(context.Cause(work), control.ErrStopRequested) {
			why = "stopped on request"
		}
		log.Info().Int64("records", em.Records()).Str("reason", why).Msg("interrupted")
		return em.Interrupted(tctx, why)
	default:
		if err := em.Error(tctx, runErr, true); err != nil {
			log.Error().Err(err).Msg("error event not sent")
		}
		return runErr
	}
}

// failAfterError is the deliberate failure of --fail-after.
type failAfterError struct{ records int64 }

func (e *failAfterError) Error() string {
	return "simulated failure after " + strconv.FormatInt(e.records, 10) + " records (--fail-after)"
}

// telemetryID derives dummy-service__<6 hex> from a workflow queue id, or
// picks a random suffix for any other id.
func telemetryID(queueID string) (string, error) {
	if q, err := protocol.ParseQueueID(queueID); err == nil {
		return protocol.TelemetryID(Name, q.Suffix), nil
	}
	suffix, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return "", err
	}
	return protocol.TelemetryID(Name, suffix), nil
}

func simulatedCounter(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "dummy_records_simulated_total", Help: "Records the simulated load produced.",
	})
	reg.MustRegister(c)
	return c
}

func closeLogged(log zerolog.Logger, what string, close func() error) {
	if err := close(); err != nil {
		log.Warn().Err(err).Str("what", what).Msg("close")
	}
}
