// Package worker is the life every StreamForge worker shares: check Kafka,
// open the producer, the queue-events emitter and the queue-control
// listener, send heartbeats, run the job under a context that a stop command
// or a signal cancels, and end with the one terminal event that says how it
// ended.
package worker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/control"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// Options describe the worker.
type Options struct {
	// Service is the worker's service name: the target it answers to and
	// the prefix of its telemetry_id.
	Service string
	// HeartbeatInterval is the time between heartbeat events.
	HeartbeatInterval time.Duration
	// ControlLookback is how far back queue-control is read at start, so a
	// command sent before the worker came up still counts.
	ControlLookback time.Duration
	// CreateTopics ensures queue-control, queue-events and Topics exist.
	CreateTopics bool
	Topics       []bus.TopicSpec
	// Producer tunes the producer's batching and compression (Metrics is
	// filled in; RideOut defaults to DefaultRideOut).
	Producer bus.ProducerOptions
	// StartWait bounds how long Start waits for Kafka to answer and for
	// the topics it creates to have leaders (zero: DefaultStartWait).
	StartWait time.Duration
	// Signing and Key: the worker signs its events with Key and acts only
	// on the commands Signing accepts (protocol.SigningMode; "" is off).
	Signing protocol.SigningMode
	Key     []byte
}

// DefaultStartWait is how long a worker's start waits for an unreachable
// Kafka: longer than a broker's rolling restart, during which Jobs
// routinely start.
const DefaultStartWait = 3 * time.Minute

// DefaultRideOut is how long a worker's records wait out a Kafka outage
// before its job fails.
const DefaultRideOut = 2 * time.Minute

// Settings are the environment every worker reads the same way; embed them
// in a service's Config and pass Options() to Start.
type Settings struct {
	ProgressInterval  time.Duration `envconfig:"PROGRESS_INTERVAL" default:"2s" desc:"least time between progress events"`
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL" default:"10s" desc:"time between heartbeat events"`
	ControlLookback   time.Duration `envconfig:"CONTROL_LOOKBACK" default:"24h" desc:"how far back in queue-control to look at start for a command sent before the worker came up"`
	CreateTopics      bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"false" desc:"create queue-control and queue-events when missing"`
	StartWait         time.Duration `envconfig:"KAFKA_START_WAIT" default:"3m" desc:"how long the start waits for Kafka to answer and its topics to have leaders; wrong credentials, denied access and TLS errors fail at once"`
	SigningSettings
}

// Validate checks the settings and reports every problem, each naming its
// variable.
func (s *Settings) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PROGRESS_INTERVAL", s.ProgressInterval}, {"HEARTBEAT_INTERVAL", s.HeartbeatInterval}, {"CONTROL_LOOKBACK", s.ControlLookback}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", d.name, d.v))
		}
	}
	if s.StartWait < 0 {
		errs = append(errs, fmt.Errorf("KAFKA_START_WAIT: must not be negative, got %s", s.StartWait))
	}
	errs = append(errs, s.SigningSettings.Validate())
	return errors.Join(errs...)
}

// Options returns the worker options these settings describe for service.
func (s *Settings) Options(service string) Options {
	return s.SigningSettings.Apply(Options{Service: service, HeartbeatInterval: s.HeartbeatInterval, ControlLookback: s.ControlLookback,
		CreateTopics: s.CreateTopics, StartWait: s.StartWait})
}

// Worker holds what a running worker uses. Create it with Start and Close it
// when done.
type Worker struct {
	// Task is the task with TelemetryID filled in; its RunID (RUN_ID) is
	// carried in every event the worker sends.
	Task protocol.Task
	// Kafka is the client configuration with ClientID filled in, for any
	// further clients the job opens.
	Kafka    bus.Config
	Log      zerolog.Logger
	Admin    *bus.Admin
	Producer *bus.Producer
	Metrics  *bus.Metrics
	Events   *telemetry.Emitter
	Control  *control.Listener
	// Signing and Key are Options.Signing and Key, for a worker that checks
	// other workers' events of its task (a connector, its loader's).
	Signing protocol.SigningMode
	Key     []byte

	rt       *service.Runtime
	work     context.Context
	stopWork context.CancelFunc
	stopBG   context.CancelFunc
	bg       sync.WaitGroup // the listener and the heartbeats
	closers  []func() error
}

// Start connects to Kafka, opens the producer, emitter and control
// listener, and starts heartbeats. A Kafka that does not answer is waited
// for, up to StartWait; wrong settings or credentials, denied access and
// TLS errors fail at once.
// The job runs under Work(); call Started when it begins and End when it
// is over.
func Start(ctx context.Context, rt *service.Runtime, cfg bus.Config, task protocol.Task, o Options) (*Worker, error) {
	if cfg.ClientID == "" {
		cfg.ClientID = o.Service
	}
	if task.TelemetryID == "" {
		id, err := telemetryID(o.Service, task.QueueID)
		if err != nil {
			return nil, err
		}
		task.TelemetryID = id
	}
	w := &Worker{Task: task, Kafka: cfg, rt: rt, Signing: o.Signing, Key: o.Key}
	lc := rt.Log.With().Str("queue_id", task.QueueID).Str("telemetry_id", task.TelemetryID)
	if task.RunID != "" {
		lc = lc.Str("run_id", task.RunID)
	}
	w.Log = lc.Logger()
	ok := false
	defer func() {
		if !ok {
			w.Close()
		}
	}()

	var err error
	if w.Admin, err = bus.NewAdmin(cfg); err != nil {
		return nil, err
	}
	if err := w.reach(ctx, o); err != nil {
		return nil, err
	}
	w.Metrics = bus.NewMetrics(rt.Registry)
	po := o.Producer
	if po.RideOut == 0 {
		// A worker's records wait out a Kafka outage rather than fail
		// its job: queue-manager waits it out too.
		po.RideOut = DefaultRideOut
	}
	po.Metrics = w.Metrics
	if w.Producer, err = bus.NewProducer(cfg, po); err != nil {
		return nil, err
	}
	w.closers = append(w.closers, w.Producer.Close)
	w.Events = telemetry.New(w.Producer, task, task.TelemetryID, telemetry.Options{Registerer: rt.Registry, Key: o.Key})

	tail, err := control.Open(ctx, cfg, o.ControlLookback, w.Metrics)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", protocol.TopicControl, err)
	}
	w.closers = append(w.closers, tail.Close)
	tail.OnError = func(partition int, err error) {
		if err != nil {
			w.Log.Warn().Err(err).Msg("queue-control cannot be read; retrying")
		} else {
			w.Log.Info().Int("partition", partition).Msg("queue-control can be read again")
		}
	}
	w.Control = control.New(tail, w.Events, control.Options{
		QueueID: task.QueueID, Service: o.Service, TelemetryID: task.TelemetryID, RunID: task.RunID, Registerer: rt.Registry, Log: w.Log,
		Signing: o.Signing, Key: o.Key,
	})

	// The listener and heartbeats outlive the job, so that the terminal
	// event still follows a stop; Close ends them.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	w.stopBG = stopBG
	w.bg.Go(func() {
		if err := w.Control.Run(bg); err != nil {
			w.Log.Error().Err(err).Msg("queue-control listener stopped")
		}
	})
	w.bg.Go(func() {
		w.Events.RunHeartbeats(bg, o.HeartbeatInterval, func(err error) { w.Log.Warn().Err(err).Msg("heartbeat not sent") })
	})
	w.work, w.stopWork = control.WithStop(ctx, w.Control)
	ok = true
	return w, nil
}

// reach waits, up to StartWait, until Kafka answers and, with CreateTopics,
// the topics exist and have leaders.
func (w *Worker) reach(ctx context.Context, o Options) error {
	wait := o.StartWait
	if wait <= 0 {
		wait = DefaultStartWait
	}
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	waiting := func(err error) { w.Log.Warn().Err(err).Dur("start_wait", wait).Msg("kafka unreachable; waiting") }
	err := bus.UntilReachable(sctx, w.Admin.Check, waiting)
	if err == nil && o.CreateTopics {
		specs := append([]bus.TopicSpec{{Name: protocol.TopicControl}, {Name: protocol.TopicEvents}}, o.Topics...)
		err = bus.UntilReachable(sctx, func(ctx context.Context) error { return w.Admin.EnsureTopics(ctx, specs...) }, waiting)
	}
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		return fmt.Errorf("kafka not ready within KAFKA_START_WAIT (%s): %w", wait, err)
	}
	return err
}

// SetRunID adopts id as the worker's run, for a worker started without
// RUN_ID that learns its run from a start command: later events carry it,
// and commands of other runs are ignored from then on.
func (w *Worker) SetRunID(id string) {
	w.Task.RunID = id
	w.Events.SetRunID(id)
	w.Control.SetRunID(id)
}

// Work is the context the job runs under: it is cancelled by a stop command
// for this worker (cause control.ErrStopRequested) or by a signal.
func (w *Worker) Work() context.Context { return w.work }

// Stopped reports whether the job was told to stop, and why.
func (w *Worker) Stopped() (bool, string) {
	switch {
	case errors.Is(context.Cause(w.work), control.ErrStopRequested):
		return true, protocol.ReasonStopRequested
	case w.work.Err() != nil:
		return true, protocol.ReasonSignal
	}
	return false, ""
}

// Started sends the started event and marks the service ready. A signal
// arriving meanwhile does not cancel the event: it is then followed by
// interrupted, in order.
func (w *Worker) Started(ctx context.Context, msg string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := w.Events.Started(sctx, msg); err != nil {
		return err
	}
	w.rt.SetReady(true)
	return nil
}

// End sends the terminal event for how the job ended and returns the
// service's result:
//   - jobErr is not nil and the job was not stopped: a fatal error event,
//     and jobErr is returned (the process exits non-zero);
//   - finished is not nil and jobErr is nil: finished sends the finished
//     event, and its error is returned;
//   - otherwise the job was stopped: an interrupted event, and nil.
//
// Terminal events are sent even when ctx was cancelled by a signal.
func (w *Worker) End(ctx context.Context, jobErr error, finished func(ctx context.Context) error) error {
	return w.EndWith(ctx, jobErr, finished, nil)
}

// EndWith is End whose interrupted event carries interrupted as its result
// (a JSON object: what the job made before it was stopped, see
// telemetry.Emitter.InterruptedWith); nil sends none, as End does. The
// error and finished cases ignore it.
func (w *Worker) EndWith(ctx context.Context, jobErr error, finished func(ctx context.Context) error, interrupted any) error {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	stopped, why := w.Stopped()
	switch {
	case jobErr != nil && !stopped:
		if err := w.Events.Error(tctx, jobErr, true); err != nil {
			w.Log.Error().Err(err).Msg("error event not sent")
		}
		return jobErr
	case finished != nil && jobErr == nil:
		return finished(tctx)
	default:
		if !stopped {
			why = "stopped"
		}
		w.Log.Info().Int64("records", w.Events.Records()).Str("reason", why).Bool("result", interrupted != nil).Msg("interrupted")
		if interrupted == nil {
			return w.Events.Interrupted(tctx, why)
		}
		return w.Events.InterruptedWith(tctx, why, interrupted)
	}
}

// Close stops the listener and heartbeats, waits for them, and then
// releases the Kafka clients, so that no pong or heartbeat is sent on a
// closed producer.
func (w *Worker) Close() {
	if w.stopWork != nil {
		w.stopWork()
	}
	if w.stopBG != nil {
		w.stopBG()
	}
	w.bg.Wait()
	for i := len(w.closers) - 1; i >= 0; i-- {
		if err := w.closers[i](); err != nil {
			w.Log.Warn().Err(err).Msg("close")
		}
	}
}

// telemetryID derives <service>__<6 hex> from a workflow queue id, or picks a
// random suffix for any other id.
func telemetryID(svc, queueID string) (string, error) {
	if q, err := protocol.ParseQueueID(queueID); err == nil {
		return protocol.TelemetryID(svc, q.Suffix), nil
	}
	suffix, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return "", err
	}
	return protocol.TelemetryID(svc, suffix), nil
}
