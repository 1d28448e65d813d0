// Package telemetry is the event emitter every worker uses to report its life
// on queue-events: started, progress, periodic heartbeats, and one terminal
// event (finished, interrupted or a fatal error).
package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Publisher sends one message. *bus.Producer satisfies it.
type Publisher interface {
	Publish(ctx context.Context, topic string, key, value []byte) error
}

// Options tune an Emitter. The zero value of a field means its default.
type Options struct {
	// Topic is where events go (default queue-events).
	Topic string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer receives the events-sent counter; nil keeps it unregistered.
	Registerer prometheus.Registerer
	// Key signs every event (protocol.Event.Sign): the task's key,
	// MESSAGE_KEY. Nil sends them unsigned.
	Key []byte
}

// Emitter sends the events of one worker of one task. Events are keyed by
// queue_id, so a task's events stay in order. After a terminal event the
// emitter sends nothing more. It is safe for concurrent use.
type Emitter struct {
	pub      Publisher
	topic    string
	base     protocol.Event
	key      []byte
	now      func() time.Time
	sent     *prometheus.CounterVec
	records  atomic.Int64
	mu       sync.Mutex // orders sends, so a heartbeat never overtakes a terminal event
	terminal bool
}

// New returns an emitter for the worker named producer (its telemetry_id)
// running task; every event carries task.RunID as its run_id.
func New(pub Publisher, task protocol.Task, producer string, o Options) *Emitter {
	if o.Topic == "" {
		o.Topic = protocol.TopicEvents
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamforge_events_sent_total", Help: "Events sent on queue-events, by status.",
	}, []string{"status"})
	if o.Registerer != nil {
		if err := o.Registerer.Register(sent); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				sent = are.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	}
	return &Emitter{
		pub: pub, topic: o.Topic, now: o.Now, sent: sent, key: o.Key,
		base: protocol.Event{QueueID: task.QueueID, Producer: producer, Symbol: task.Symbol, Type: task.Type, RunID: task.RunID},
	}
}

// SetSubject sets the symbol and type later events carry, for a worker that
// learns its task from a start command after it started.
func (e *Emitter) SetSubject(symbol, typ string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.base.Symbol, e.base.Type = symbol, typ
}

// SetRunID sets the run_id later events carry, for a worker that learns
// its run from a start command after it started. An empty id changes
// nothing.
func (e *Emitter) SetRunID(id string) {
	if id == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.base.RunID = id
}

// SetRecords records that records have been written in total, without
// sending an event; the next heartbeat or terminal event carries it.
func (e *Emitter) SetRecords(records int64) { e.records.Store(records) }

// Records returns the count of records reported so far.
func (e *Emitter) Records() int64 { return e.records.Load() }

// Done reports whether a terminal event was sent.
func (e *Emitter) Done() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.terminal
}

func (e *Emitter) send(ctx context.Context, ev protocol.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.terminal {
		return nil
	}
	ev.QueueID, ev.Producer, ev.Symbol, ev.Type, ev.RunID = e.base.QueueID, e.base.Producer, e.base.Symbol, e.base.Type, e.base.RunID
	ev.Timestamp = protocol.Timestamp(e.now())
	ev.Finished = ev.Finished || ev.Status.Terminal()
	ev.Sign(e.key)
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Status, err)
	}
	if err := e.pub.Publish(ctx, e.topic, []byte(ev.QueueID), b); err != nil {
		return fmt.Errorf("send %s event: %w", ev.Status, err)
	}
	e.sent.WithLabelValues(string(ev.Status)).Inc()
	e.terminal = ev.Finished
	return nil
}

// Started reports that the worker began its task.
func (e *Emitter) Started(ctx context.Context, msg string) error {
	return e.send(ctx, protocol.Event{Status: protocol.StatusStarted, Message: msg})
}

// Progress records that records have been written in total and reports it.
func (e *Emitter) Progress(ctx context.Context, records int64, msg string) error {
	e.records.Store(records)
	return e.send(ctx, protocol.Event{Status: protocol.StatusLoading, Message: msg, RecordsWritten: records})
}

// ProgressInfo is a progress report with the worker's own estimates.
type ProgressInfo struct {
	Records    int64
	Message    string
	Percent    float64 // 0 to 100; 0 when unknown
	Rate       float64 // records per second
	ETASeconds float64
}

// ProgressWith is Progress with the share done, the rate and the time left.
func (e *Emitter) ProgressWith(ctx context.Context, p ProgressInfo) error {
	e.records.Store(p.Records)
	return e.send(ctx, protocol.Event{Status: protocol.StatusLoading, Message: p.Message, RecordsWritten: p.Records,
		Percent: p.Percent, Rate: p.Rate, ETASeconds: p.ETASeconds})
}

// Heartbeat reports that the worker is alive, with the records so far.
func (e *Emitter) Heartbeat(ctx context.Context) error {
	return e.send(ctx, protocol.Event{Status: protocol.StatusHeartbeat, RecordsWritten: e.records.Load()})
}

// Finished reports that the task is complete with records written in total.
func (e *Emitter) Finished(ctx context.Context, records int64, msg string) error {
	e.records.Store(records)
	return e.send(ctx, protocol.Event{Status: protocol.StatusFinished, Message: msg, RecordsWritten: records})
}

// FinishedWith is Finished with a result: a JSON object that sums up what the
// worker made (see protocol.Event.Result). It returns an error when result
// does not encode to a JSON object, before anything is sent.
func (e *Emitter) FinishedWith(ctx context.Context, records int64, msg string, result any) error {
	raw, err := encodeResult(result)
	if err != nil {
		return err
	}
	e.records.Store(records)
	return e.send(ctx, protocol.Event{Status: protocol.StatusFinished, Message: msg, RecordsWritten: records, Result: raw})
}

// encodeResult encodes a terminal event's result, which must be a JSON
// object.
func encodeResult(result any) (json.RawMessage, error) {
	raw, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("encode result: want a JSON object, got %.20s", raw)
	}
	return raw, nil
}

// Interrupted reports that the worker stopped on request before finishing.
func (e *Emitter) Interrupted(ctx context.Context, msg string) error {
	return e.send(ctx, protocol.Event{Status: protocol.StatusInterrupted, Message: msg, RecordsWritten: e.records.Load()})
}

// InterruptedWith is Interrupted with a result, a JSON object like
// FinishedWith's: what the worker made before it was stopped (a live
// loader's coverage ledger up to the stop, the connector's summary of the
// ledger it wrote). It returns an error when result does not encode to a
// JSON object, before anything is sent.
func (e *Emitter) InterruptedWith(ctx context.Context, msg string, result any) error {
	raw, err := encodeResult(result)
	if err != nil {
		return err
	}
	return e.send(ctx, protocol.Event{Status: protocol.StatusInterrupted, Message: msg, RecordsWritten: e.records.Load(), Result: raw})
}

// Error reports cause. A fatal error ends the worker's life (finished=true);
// a recoverable one is reported and the worker goes on. A cause marked with
// protocol.Permanent is sent with permanent=true: a retry cannot fix it.
func (e *Emitter) Error(ctx context.Context, cause error, fatal bool) error {
	return e.send(ctx, protocol.Event{Status: protocol.StatusError, Message: cause.Error(), Error: cause.Error(),
		RecordsWritten: e.records.Load(), Finished: fatal, Permanent: protocol.IsPermanent(cause)})
}

// Pong answers a ping command (its command_id in replyTo).
func (e *Emitter) Pong(ctx context.Context, replyTo string) error {
	return e.send(ctx, protocol.Event{Status: protocol.StatusPong, ReplyTo: replyTo, RecordsWritten: e.records.Load(), Message: "pong"})
}

// RunHeartbeats sends a heartbeat every interval until ctx is done or a
// terminal event was sent. A failed heartbeat is passed to onErr (if not nil)
// and the loop goes on: the next one may get through.
func (e *Emitter) RunHeartbeats(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if e.Done() {
				return
			}
			if err := e.Heartbeat(ctx); err != nil && onErr != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}

// SentCounter returns the counter of events sent with status.
func (e *Emitter) SentCounter(status protocol.Status) prometheus.Counter {
	return e.sent.WithLabelValues(string(status))
}
