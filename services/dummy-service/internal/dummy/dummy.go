// Package dummy is dummy-service: a worker that pretends to be any other. It
// runs the real worker plumbing (queue-control listener, queue-events
// emitter, Kafka producer, metrics) around a simulated load, so the
// orchestration, the Kafka link and failure handling can be exercised without
// an exchange or a database.
package dummy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/worker"
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
	StartWait         time.Duration `envconfig:"KAFKA_START_WAIT" default:"3m" desc:"how long the start waits for Kafka to answer and its topics to have leaders; wrong credentials, denied access and TLS errors fail at once"`
	worker.SigningSettings
}

// Validate checks the settings and reports every problem (errors.Join),
// each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if c.QueueID == "" {
		errs = append(errs, errors.New("QUEUE_ID: is required"))
	}
	if c.Records < 0 {
		errs = append(errs, fmt.Errorf("DUMMY_RECORDS: must not be negative, got %d", c.Records))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("DUMMY_BATCH_SIZE: must be at least 1, got %d", c.BatchSize))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("DUMMY_RATE: must not be negative, got %v", c.Rate))
	}
	if c.HeartbeatInterval <= 0 {
		errs = append(errs, fmt.Errorf("HEARTBEAT_INTERVAL: must be positive, got %s", c.HeartbeatInterval))
	}
	if c.StartWait < 0 {
		errs = append(errs, fmt.Errorf("KAFKA_START_WAIT: must not be negative, got %s", c.StartWait))
	}
	errs = append(errs, c.SigningSettings.Validate())
	return errors.Join(errs...)
}

// Flags are dummy-service's command-line switches.
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
	var topics []bus.TopicSpec
	if cfg.KafkaTopic != "" {
		topics = append(topics, bus.TopicSpec{Name: cfg.KafkaTopic})
	}
	w, err := worker.Start(ctx, rt, cfg.Config, cfg.Task, cfg.SigningSettings.Apply(worker.Options{
		Service: Name, HeartbeatInterval: cfg.HeartbeatInterval, ControlLookback: cfg.ControlLookback,
		CreateTopics: cfg.CreateTopics, Topics: topics, StartWait: cfg.StartWait,
	}))
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Started(ctx, "dummy-service started"); err != nil {
		return err
	}
	simulate := fl.SimulateLoading || fl.FailAfter > 0
	w.Log.Info().Bool("simulate_loading", simulate).Int64("fail_after", fl.FailAfter).Msg("started")

	if !simulate {
		<-w.Work().Done()
		return w.End(ctx, nil, nil)
	}
	sim := &simulator{cfg: cfg, prod: w.Producer, em: w.Events, records: simulatedCounter(rt.Registry)}
	done, err := sim.load(w.Work(), fl.FailAfter)
	return w.End(ctx, err, func(ctx context.Context) error {
		return w.Events.Finished(ctx, done, "simulated "+strconv.FormatInt(done, 10)+" records")
	})
}

// failAfterError is the deliberate failure of --fail-after.
type failAfterError struct{ records int64 }

func (e *failAfterError) Error() string {
	return "simulated failure after " + strconv.FormatInt(e.records, 10) + " records (--fail-after)"
}

func simulatedCounter(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "dummy_records_simulated_total", Help: "Records the simulated load produced.",
	})
	reg.MustRegister(c)
	return c
}
