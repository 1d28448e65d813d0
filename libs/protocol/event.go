package protocol

import (
	"encoding/json"
	"strconv"
)

// Status is the stage a worker reports on queue-events.
type Status string

// The statuses a worker reports. Finished, Interrupted and a fatal Error end a
// worker's life; the others are progress.
const (
	StatusStarted     Status = "started"
	StatusLoading     Status = "loading"
	StatusHeartbeat   Status = "heartbeat"
	StatusFinished    Status = "finished"
	StatusError       Status = "error"
	StatusInterrupted Status = "interrupted"
	StatusPong        Status = "pong"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusStarted, StatusLoading, StatusHeartbeat, StatusFinished, StatusError, StatusInterrupted, StatusPong:
		return true
	}
	return false
}

// Terminal reports whether an event with status s must carry finished=true.
// An error may be terminal or not: a worker that keeps going after a
// recoverable error reports it with finished=false.
func (s Status) Terminal() bool { return s == StatusFinished || s == StatusInterrupted }

// Event is a message on queue-events: one step of a worker's life.
type Event struct {
	QueueID        string `json:"queue_id"`
	Producer       string `json:"producer"`
	Symbol         string `json:"symbol,omitempty"`
	Type           string `json:"type,omitempty"`
	Status         Status `json:"status"`
	Message        string `json:"message,omitempty"`
	RecordsWritten int64  `json:"records_written"`
	Finished       bool   `json:"finished"`
	// Timestamp is when the event happened, in Unix seconds with a
	// fractional part.
	Timestamp float64 `json:"timestamp"`
	// Error carries the cause of an error event in words a person can act on.
	Error string `json:"error,omitempty"`
	// ReplyTo names the command (Command.CommandID) this event answers.
	ReplyTo string `json:"reply_to,omitempty"`
	// Percent is how much of the task is done, 0 to 100, when the worker
	// can tell (a loader: the share of its time range covered).
	Percent float64 `json:"percent,omitempty"`
	// Rate is the worker's recent throughput in records per second.
	Rate float64 `json:"rate,omitempty"`
	// ETASeconds is the worker's estimate of the time left.
	ETASeconds float64 `json:"eta_seconds,omitempty"`
	// Result is a JSON object summing up what a finished worker made, for
	// people and dashboards: a graph's size and degrees, a model's metrics
	// beside its baselines, where its artifacts are. An interrupted worker
	// may send one too, for what it made before the stop (a live stream's
	// coverage ledger up to it).
	Result json.RawMessage `json:"result,omitempty"`
	// RunID names the run (attempt) of the worker that sent the event, as
	// given in RUN_ID or the start command's run_id; queue-manager ignores
	// events of any run but a step's current one. Added by StreamForge;
	// optional (older workers send none).
	RunID string `json:"run_id,omitempty"`
	// Sig authenticates the event: HMAC-SHA256 with the task's key over the
	// event without it (sign.go). Added by StreamForge; optional unless
	// MESSAGE_SIGNING is required.
	Sig string `json:"sig,omitempty"`
	// Permanent marks an error event whose cause a retry cannot fix: a
	// symbol the exchange does not list, a type the worker does not load,
	// a bad configuration. queue-manager fails the step at once instead of
	// relaunching it. Added by StreamForge; optional (false when absent).
	Permanent bool `json:"permanent,omitempty"`

	// Extra keeps fields this version does not know.
	Extra Extra `json:"-"`
}

// UnmarshalJSON decodes an event, keeping unknown fields in Extra. A field of
// the wrong JSON type is reported as a *FieldError naming it.
func (e *Event) UnmarshalJSON(data []byte) error {
	type known Event // the same fields without this method
	var k known
	unknown, err := decodeKnown(data, &k)
	if err != nil {
		return err
	}
	if !unknown {
		*e = Event(k)
		return nil
	}
	m, err := decodeObject(data)
	if err != nil {
		return err
	}
	*e = Event{}
	for k, raw := range m {
		var err error
		switch k {
		case "queue_id":
			err = field(k, raw, &e.QueueID)
		case "producer":
			err = field(k, raw, &e.Producer)
		case "symbol":
			err = field(k, raw, &e.Symbol)
		case "type":
			err = field(k, raw, &e.Type)
		case "status":
			var s string
			err = field(k, raw, &s)
			e.Status = Status(s)
		case "message":
			err = field(k, raw, &e.Message)
		case "records_written":
			var f float64
			if err = field(k, raw, &f); err == nil {
				if f != float64(int64(f)) {
					err = &FieldError{Field: k, Problem: "want a whole number, got " + string(raw)}
				}
				e.RecordsWritten = int64(f)
			}
		case "finished":
			err = field(k, raw, &e.Finished)
		case "timestamp":
			err = field(k, raw, &e.Timestamp)
		case "error":
			err = field(k, raw, &e.Error)
		case "reply_to":
			err = field(k, raw, &e.ReplyTo)
		case "percent":
			err = field(k, raw, &e.Percent)
		case "rate":
			err = field(k, raw, &e.Rate)
		case "eta_seconds":
			err = field(k, raw, &e.ETASeconds)
		case "result":
			e.Result = append(json.RawMessage(nil), raw...)
		case "run_id":
			err = field(k, raw, &e.RunID)
		case "sig":
			err = field(k, raw, &e.Sig)
		case "permanent":
			err = field(k, raw, &e.Permanent)
		default:
			if e.Extra == nil {
				e.Extra = Extra{}
			}
			e.Extra[k] = raw
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON encodes the event with the protocol's field names, known fields
// first in a fixed order, then any Extra fields sorted by name.
func (e Event) MarshalJSON() ([]byte, error) {
	w := newObjectWriter(256)
	w.str("queue_id", e.QueueID)
	w.str("producer", e.Producer)
	w.strOmit("symbol", e.Symbol)
	w.strOmit("type", e.Type)
	w.str("status", string(e.Status))
	w.strOmit("message", e.Message)
	w.key("records_written")
	w.buf = strconv.AppendInt(w.buf, e.RecordsWritten, 10)
	w.key("finished")
	w.buf = strconv.AppendBool(w.buf, e.Finished)
	w.key("timestamp")
	w.buf = strconv.AppendFloat(w.buf, e.Timestamp, 'f', -1, 64)
	w.strOmit("error", e.Error)
	w.strOmit("reply_to", e.ReplyTo)
	w.floatOmit("percent", e.Percent)
	w.floatOmit("rate", e.Rate)
	w.floatOmit("eta_seconds", e.ETASeconds)
	if len(e.Result) > 0 {
		w.raw("result", e.Result)
	}
	w.strOmit("run_id", e.RunID)
	if e.Permanent {
		w.key("permanent")
		w.buf = append(w.buf, "true"...)
	}
	w.extra(e.Extra)
	w.strOmit("sig", e.Sig) // last: the signed bytes are the encoding without it
	return w.bytes(), nil
}

// Validate checks e and returns a *FieldError naming the first bad field.
func (e *Event) Validate() error {
	if err := validateQueueID("queue_id", e.QueueID); err != nil {
		return err
	}
	if e.Producer == "" {
		return &FieldError{Field: "producer", Problem: "is required"}
	}
	if !e.Status.Valid() {
		if e.Status == "" {
			return &FieldError{Field: "status", Problem: "is required"}
		}
		return &FieldError{Field: "status", Problem: "unknown status " + strconv.Quote(string(e.Status))}
	}
	if e.RecordsWritten < 0 {
		return &FieldError{Field: "records_written", Problem: "must not be negative"}
	}
	if e.Status.Terminal() && !e.Finished {
		return &FieldError{Field: "finished", Problem: "must be true for status " + string(e.Status)}
	}
	if !e.Status.Terminal() && e.Status != StatusError && e.Finished {
		return &FieldError{Field: "finished", Problem: "must be false for status " + string(e.Status)}
	}
	if e.Percent < 0 || e.Percent > 100 {
		return &FieldError{Field: "percent", Problem: "must be between 0 and 100"}
	}
	if e.Rate < 0 || e.ETASeconds < 0 {
		return &FieldError{Field: "rate", Problem: "rate and eta_seconds must not be negative"}
	}
	if e.Timestamp <= 0 {
		return &FieldError{Field: "timestamp", Problem: "must be a positive Unix time in seconds"}
	}
	if len(e.Result) > 0 && (!json.Valid(e.Result) || rawKind(e.Result) != "an object") {
		return &FieldError{Field: "result", Problem: "must be a JSON object"}
	}
	return nil
}

// DecodeEvent parses and validates a queue-events message.
func DecodeEvent(data []byte) (Event, error) {
	var e Event
	if err := e.UnmarshalJSON(data); err != nil {
		return Event{}, err
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}
