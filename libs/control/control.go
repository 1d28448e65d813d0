// Package control is the queue-control listener every worker runs: it reads
// the commands addressed to the worker's task, answers ping with pong, turns
// stop into a signal the worker's loop watches, and hands start commands to
// the worker. Messages that do not parse are logged, counted and skipped; a
// start or stop for another run of the same task is logged, counted and
// ignored.
package control

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
)

// Source delivers queue-control messages. *bus.Tail satisfies it.
type Source interface {
	Run(ctx context.Context, h func(ctx context.Context, m bus.Message) error) error
}

// Responder answers pings. *telemetry.Emitter satisfies it.
type Responder interface {
	Pong(ctx context.Context, replyTo string) error
}

// Options identify the worker and tune the listener.
type Options struct {
	// QueueID, Service and TelemetryID say which commands are this
	// worker's: those for QueueID whose target is empty, Service or
	// TelemetryID.
	QueueID, Service, TelemetryID string
	// RunID is the run (attempt) this worker is (RUN_ID). When set, a start
	// or stop command carrying another run_id is for an older or newer
	// attempt of the same task and is ignored; a command without run_id
	// (an older sender) is accepted. Empty accepts every run until SetRunID.
	RunID string
	// PingTTL: pings older than this are not answered (default 30s), so a
	// worker that starts late does not answer pings nobody waits for.
	PingTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer receives the listener's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Log receives one line per command acted on and per malformed message.
	Log zerolog.Logger
	// Signing and Key say which commands for this worker are acted on
	// (MESSAGE_SIGNING, MESSAGE_KEY): with SigningRequired only those
	// signed with Key, with SigningPermissive unsigned ones too, never a
	// wrongly signed one; the others are skipped and counted. The zero
	// value checks nothing.
	Signing protocol.SigningMode
	Key     []byte
}

// Listener acts on the commands addressed to one worker.
type Listener struct {
	src      Source
	resp     Responder
	o        Options
	stop     chan struct{}
	stopOnce sync.Once
	starts   chan protocol.Command
	runID    atomic.Pointer[string]

	commands   *prometheus.CounterVec
	malformed  prometheus.Counter
	ignored    prometheus.Counter
	otherRun   prometheus.Counter
	unverified *prometheus.CounterVec
}

// New returns a listener reading src and answering pings through resp.
func New(src Source, resp Responder, o Options) *Listener {
	if o.PingTTL <= 0 {
		o.PingTTL = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Listener{
		src: src, resp: resp, o: o,
		stop:   make(chan struct{}),
		starts: make(chan protocol.Command, 16),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_control_commands_total", Help: "queue-control commands addressed to this worker, by command.",
		}, []string{"command"}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_control_messages_malformed_total", Help: "queue-control messages that did not parse or validate (skipped).",
		}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_control_messages_ignored_total", Help: "Valid queue-control messages for other tasks or workers.",
		}),
		otherRun: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_control_commands_other_run_total",
			Help: "start and stop commands for this worker's task but another run (attempt), ignored.",
		}),
		unverified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_control_commands_unverified_total",
			Help: "Commands for this worker without a valid signature, by check (unsigned, bad_signature) and outcome (refused; accepted: unsigned while MESSAGE_SIGNING is permissive).",
		}, []string{"check", "outcome"}),
	}
	l.SetRunID(o.RunID)
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{l.commands, l.malformed, l.ignored, l.otherRun, l.unverified} {
			if err := o.Registerer.Register(c); err != nil {
				o.Log.Warn().Err(err).Msg("control metrics not registered")
			}
		}
	}
	return l
}

// Open positions a reader on queue-control at now minus lookback, so a
// worker started after its start or stop command was sent still sees it.
func Open(ctx context.Context, cfg bus.Config, lookback time.Duration, m *bus.Metrics) (*bus.Tail, error) {
	return bus.NewTail(ctx, cfg, protocol.TopicControl, time.Now().Add(-lookback), m)
}

// Run reads commands until ctx is done, then returns nil. A source that
// fails (Kafka unreachable) is read again after a capped, jittered delay:
// a worker must still see the stop command sent once Kafka is back. The
// outage is logged when it begins and when it ends.
func (l *Listener) Run(ctx context.Context) error {
	backoff := retry.Backoff{Base: 500 * time.Millisecond, Max: 10 * time.Second}
	var down error
	for fails := 0; ; fails++ {
		err := l.src.Run(ctx, func(ctx context.Context, m bus.Message) error {
			if down != nil {
				l.o.Log.Info().Msg("queue-control can be read again")
				down, fails = nil, 0
			}
			return l.Handle(ctx, m)
		})
		if ctx.Err() != nil {
			return nil
		}
		if down == nil {
			l.o.Log.Warn().Err(err).Msg("queue-control cannot be read; retrying")
		}
		down = err
		if !retry.Sleep(ctx, backoff.Delay(fails)) {
			return nil
		}
	}
}

// SetRunID sets the run whose start and stop commands the listener acts on,
// for a worker that learns its run from a start command.
func (l *Listener) SetRunID(id string) { l.runID.Store(&id) }

// forOtherRun reports whether cmd is a start or stop for a run other than
// this worker's. Pings are answered whatever their run: a pong carries the
// worker's own run_id, which lets queue-manager judge it.
func (l *Listener) forOtherRun(cmd protocol.Command) bool {
	if cmd.Command != protocol.CommandStart && cmd.Command != protocol.CommandStop {
		return false
	}
	own := *l.runID.Load()
	return own != "" && cmd.RunID != "" && cmd.RunID != own
}

// Stopped is closed when a stop command for this worker arrives.
func (l *Listener) Stopped() <-chan struct{} { return l.stop }

// Starts delivers start commands for this worker.
func (l *Listener) Starts() <-chan protocol.Command { return l.starts }

// Handle acts on one queue-control message. It returns an error only when
// ctx is done; bad messages and failed pongs are logged and skipped so the
// listener keeps serving.
func (l *Listener) Handle(ctx context.Context, m bus.Message) error {
	cmd, err := protocol.DecodeCommand(m.Value)
	if err != nil {
		l.malformed.Inc()
		l.o.Log.Warn().Err(err).Int("partition", m.Partition).Int64("offset", m.Offset).
			Str("payload", truncate(m.Value, 200)).Msg("malformed control message skipped")
		return nil
	}
	if !cmd.AddressedTo(l.o.QueueID, l.o.Service, l.o.TelemetryID) {
		l.ignored.Inc()
		return nil
	}
	if !l.trusted(cmd, m) {
		return nil
	}
	if l.forOtherRun(cmd) {
		l.otherRun.Inc()
		l.o.Log.Warn().Str("command", string(cmd.Command)).Str("command_id", cmd.CommandID).Str("command_run_id", cmd.RunID).
			Msg("command for another run ignored")
		return nil
	}
	l.commands.WithLabelValues(string(cmd.Command)).Inc()
	log := l.o.Log.With().Str("command", string(cmd.Command)).Str("command_id", cmd.CommandID).Logger()
	switch cmd.Command {
	case protocol.CommandPing:
		if age := l.o.Now().Sub(protocol.TimeOf(cmd.Timestamp)); age > l.o.PingTTL {
			log.Debug().Dur("age", age).Msg("stale ping not answered")
			return nil
		}
		if err := l.resp.Pong(ctx, cmd.CommandID); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Error().Err(err).Msg("pong not sent")
			return nil
		}
		log.Info().Msg("ping answered")
	case protocol.CommandStop:
		log.Info().Msg("stop requested")
		l.stopOnce.Do(func() { close(l.stop) })
	case protocol.CommandStart:
		select {
		case l.starts <- cmd:
			log.Info().Msg("start received")
		default:
			log.Warn().Msg("start dropped: worker is not taking start commands")
		}
	}
	return nil
}

// trusted checks cmd's signature as Options.Signing says, counting and
// logging what it does not simply accept.
func (l *Listener) trusted(cmd protocol.Command, m bus.Message) bool {
	if l.o.Signing == "" || l.o.Signing == protocol.SigningOff {
		return true
	}
	c := cmd.CheckSig(l.o.Key)
	if c == protocol.SigValid {
		return true
	}
	ok := l.o.Signing.Accepts(c)
	outcome := "refused"
	if ok {
		outcome = "accepted"
	}
	l.unverified.WithLabelValues(string(c), outcome).Inc()
	l.o.Log.Warn().Str("command", string(cmd.Command)).Str("command_id", cmd.CommandID).Str("check", string(c)).
		Str("outcome", outcome).Int("partition", m.Partition).Int64("offset", m.Offset).Msg("command not signed with this task's key")
	return ok
}

// UnverifiedCounter returns the counter of commands whose signature check
// found c, with outcome "refused" or "accepted".
func (l *Listener) UnverifiedCounter(c protocol.SigCheck, outcome string) prometheus.Counter {
	return l.unverified.WithLabelValues(string(c), outcome)
}

// MalformedCounter returns the counter of skipped malformed messages.
func (l *Listener) MalformedCounter() prometheus.Counter { return l.malformed }

// OtherRunCounter returns the counter of start and stop commands ignored
// because they carry another run's run_id.
func (l *Listener) OtherRunCounter() prometheus.Counter { return l.otherRun }

// CommandCounter returns the counter of commands acted on of kind k.
func (l *Listener) CommandCounter(k protocol.CommandKind) prometheus.Counter {
	return l.commands.WithLabelValues(string(k))
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

// ErrStopRequested is the cause a worker's context carries when it was
// cancelled by a stop command (see WithStop).
var ErrStopRequested = errors.New("stop requested on queue-control")

// WithStop returns a context cancelled with cause ErrStopRequested when l
// receives a stop command. The returned cancel function also ends the
// goroutine that watches l, and returns once it has.
func WithStop(ctx context.Context, l *Listener) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchStop(ctx, l, cancel)
	}()
	return ctx, func() {
		cancel(context.Canceled)
		<-done
	}
}

// watchStop cancels ctx with cause ErrStopRequested when l receives a stop
// command, and returns then or when ctx ends.
func watchStop(ctx context.Context, l *Listener, cancel context.CancelCauseFunc) {
	select {
	case <-l.Stopped():
		cancel(ErrStopRequested)
	case <-ctx.Done():
	}
}
