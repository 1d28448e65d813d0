// Package debugproducer is the debug-producer tool: it sends ping or stop to
// a task on queue-control and, when asked, waits on queue-events for the
// answer (a pong, or the worker's interrupted/finished event).
package debugproducer

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Name is the tool's name in messages.
const Name = "debug-producer"

// Options are the command-line settings.
type Options struct {
	QueueID      string
	Command      string
	Target       string
	ExpectPong   bool
	ExpectFinish bool
	Timeout      time.Duration
	// Key signs the commands (nil: unsigned); Main derives it from Signing.
	Key []byte
}

// Main runs the tool with args and the process environment. It prints one
// line per outcome to stdout, one line naming the problem to stderr, and
// returns the exit code: 0 when the command was sent and every expectation
// met, 1 when an expectation failed or Kafka refused, 2 for bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o Options
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.QueueID, "queue-id", "", "task to address (required)")
	fs.StringVar(&o.Command, "command", "ping", "ping or stop (stop pings first and stops each worker that answers, for its run only)")
	fs.StringVar(&o.Target, "target", "", "service name or telemetry_id to address (default: every worker of the task)")
	fs.BoolVar(&o.ExpectPong, "expect-pong", false, "wait for the pong and fail without it (ping)")
	fs.BoolVar(&o.ExpectFinish, "expect-finish", false, "wait for the interrupted or finished event (stop)")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long to wait for Kafka and for the answer")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s --queue-id ID [--command ping|stop] [--expect-pong|--expect-finish] [--timeout 10s]\n\nFlags:\n", Name)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprintf(stdout, "\nEnvironment (the same Kafka settings as the services):\n")
		_ = envconfig.Usagef("", &bus.Config{}, stdout, envconfig.DefaultTableFormat)
		_ = envconfig.Usagef("", &Signing{}, stdout, envconfig.DefaultTableFormat)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 2
	}
	var cfg bus.Config
	if err := envconfig.Process("", &cfg); err != nil {
		fmt.Fprintf(stderr, "%s: configuration: %v\n", Name, err)
		return 2
	}
	if cfg.ClientID == "" {
		cfg.ClientID = Name
	}
	var sg Signing
	err := envconfig.Process("", &sg)
	if err == nil {
		o.Key, err = sg.key(o.QueueID)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: configuration: %v\n", Name, err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: configuration: %v\n", Name, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := Send(ctx, cfg, o)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 1
	}
	fmt.Fprintln(stdout, res)
	return 0
}

func (o Options) validate() error {
	if o.QueueID == "" {
		return errors.New("--queue-id is required")
	}
	if err := workflowIDError(o.QueueID); err != nil {
		return err
	}
	switch protocol.CommandKind(o.Command) {
	case protocol.CommandPing:
		if o.ExpectFinish {
			return errors.New("--expect-finish goes with --command stop")
		}
	case protocol.CommandStop:
		if o.ExpectPong {
			return errors.New("--expect-pong goes with --command ping")
		}
	default:
		return fmt.Errorf("--command %q: want ping or stop", o.Command)
	}
	if o.Timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	return nil
}

// Send sends the command and waits for the expected answer until ctx ends.
// It returns a line describing what happened. A stop is sent to each worker
// that answers a ping first, for its run only (see stopRuns).
func Send(ctx context.Context, cfg bus.Config, o Options) (string, error) {
	admin, err := bus.NewAdmin(cfg)
	if err != nil {
		return "", err
	}
	if err := admin.Check(ctx); err != nil {
		return "", err
	}
	if protocol.CommandKind(o.Command) == protocol.CommandStop {
		prod, err := bus.NewProducer(cfg, bus.ProducerOptions{Linger: time.Millisecond})
		if err != nil {
			return "", err
		}
		defer prod.Close()
		return stopRuns(ctx, cfg, prod, o)
	}
	id, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return "", err
	}
	cmd := protocol.Command{Command: protocol.CommandKind(o.Command), QueueID: o.QueueID, Target: o.Target,
		Timestamp: protocol.Timestamp(time.Now()), CommandID: Name + "-" + id}
	if err := cmd.Validate(); err != nil {
		return "", err
	}
	wait := o.ExpectPong || o.ExpectFinish
	var events *bus.Tail
	if wait {
		// Listen before sending, so a fast answer cannot slip past. A
		// second of slack covers clock skew between this host and the
		// broker's timestamps.
		events, err = bus.NewTail(ctx, cfg, protocol.TopicEvents, time.Now().Add(-time.Second), nil)
		if err != nil {
			return "", fmt.Errorf("watch %s: %w", protocol.TopicEvents, err)
		}
		defer events.Close()
	}
	prod, err := bus.NewProducer(cfg, bus.ProducerOptions{Linger: time.Millisecond})
	if err != nil {
		return "", err
	}
	defer prod.Close()
	sent := time.Now()
	if err := publish(ctx, prod, cmd, o.Key); err != nil {
		return "", err
	}
	if !wait {
		return fmt.Sprintf("sent %s to %s (command_id %s)", cmd.Command, cmd.QueueID, cmd.CommandID), nil
	}
	ev, err := awaitAnswer(ctx, events, cmd)
	if err != nil {
		return "", err
	}
	took := time.Since(sent).Round(time.Millisecond)
	if ev.Status == protocol.StatusPong {
		return fmt.Sprintf("pong from %s for %s in %s", ev.Producer, ev.QueueID, took), nil
	}
	return fmt.Sprintf("%s: %s %s after %d records in %s", ev.QueueID, ev.Producer, ev.Status, ev.RecordsWritten, took), nil
}

var errFound = errors.New("found")

func awaitAnswer(ctx context.Context, events *bus.Tail, cmd protocol.Command) (protocol.Event, error) {
	var got protocol.Event
	err := events.Run(ctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || ev.QueueID != cmd.QueueID {
			return nil // not ours, or not readable: keep waiting
		}
		if matches(ev, cmd) {
			got = ev
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return got, nil
	}
	if err != nil {
		return protocol.Event{}, err
	}
	what := "pong"
	if cmd.Command == protocol.CommandStop {
		what = "interrupted or finished event"
	}
	return protocol.Event{}, fmt.Errorf("no %s for queue_id %s within the timeout: is a worker for it running and connected to the same Kafka?", what, cmd.QueueID)
}

func matches(ev protocol.Event, cmd protocol.Command) bool {
	switch cmd.Command {
	case protocol.CommandPing:
		return ev.Status == protocol.StatusPong && (ev.ReplyTo == "" || ev.ReplyTo == cmd.CommandID)
	case protocol.CommandStop:
		return ev.Finished
	}
	return false
}
