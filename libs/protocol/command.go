package protocol

import "strconv"

// CommandKind is what queue-manager asks a worker to do.
type CommandKind string

// The commands a worker understands.
const (
	CommandStart CommandKind = "start"
	CommandStop  CommandKind = "stop"
	CommandPing  CommandKind = "ping"
)

// Valid reports whether k is a known command.
func (k CommandKind) Valid() bool {
	switch k {
	case CommandStart, CommandStop, CommandPing:
		return true
	}
	return false
}

// Command is a message on queue-control. Only queue-manager (and the
// debug-producer tool) write them; every worker reads them and acts on those
// addressed to its queue_id and, when Target is set, to its service name or
// telemetry_id.
type Command struct {
	Command        CommandKind `json:"command"`
	QueueID        string      `json:"queue_id"`
	Target         string      `json:"target,omitempty"`
	Symbol         string      `json:"symbol,omitempty"`
	Type           string      `json:"type,omitempty"`
	TimeRange      string      `json:"time_range,omitempty"`
	KafkaTopic     string      `json:"kafka_topic,omitempty"`
	CollectionName string      `json:"collection_name,omitempty"`
	TelemetryID    string      `json:"telemetry_id,omitempty"`
	Image          string      `json:"image,omitempty"`
	// Timestamp is when the command was sent, in Unix seconds with a
	// fractional part.
	Timestamp float64 `json:"timestamp"`
	// CommandID identifies one command so that its answer (a pong, say) can
	// name it in Event.ReplyTo. Added by StreamForge; optional.
	CommandID string `json:"command_id,omitempty"`
	// RunID names the run (attempt) a start or stop command is for; the
	// worker of that run carries it in every event it sends. Added by
	// StreamForge; optional.
	RunID string `json:"run_id,omitempty"`
	// Sig authenticates the command: HMAC-SHA256 with the task's key over
	// the command without it (sign.go). Added by StreamForge; optional
	// unless MESSAGE_SIGNING is required.
	Sig string `json:"sig,omitempty"`

	// Extra keeps fields this version does not know.
	Extra Extra `json:"-"`
}

// AddressedTo reports whether a worker of the given service with the given
// telemetry id running queueID should act on c.
func (c *Command) AddressedTo(queueID, service, telemetryID string) bool {
	if c.QueueID != queueID {
		return false
	}
	return c.Target == "" || c.Target == service || (telemetryID != "" && c.Target == telemetryID)
}

// UnmarshalJSON decodes a command, keeping unknown fields in Extra. A field of
// the wrong JSON type is reported as a *FieldError naming it.
func (c *Command) UnmarshalJSON(data []byte) error {
	type known Command // the same fields without this method
	var k known
	unknown, err := decodeKnown(data, &k)
	if err != nil {
		return err
	}
	if !unknown {
		*c = Command(k)
		return nil
	}
	m, err := decodeObject(data)
	if err != nil {
		return err
	}
	*c = Command{}
	for k, raw := range m {
		var err error
		switch k {
		case "command":
			var s string
			err = field(k, raw, &s)
			c.Command = CommandKind(s)
		case "queue_id":
			err = field(k, raw, &c.QueueID)
		case "target":
			err = field(k, raw, &c.Target)
		case "symbol":
			err = field(k, raw, &c.Symbol)
		case "type":
			err = field(k, raw, &c.Type)
		case "time_range":
			err = field(k, raw, &c.TimeRange)
		case "kafka_topic":
			err = field(k, raw, &c.KafkaTopic)
		case "collection_name":
			err = field(k, raw, &c.CollectionName)
		case "telemetry_id":
			err = field(k, raw, &c.TelemetryID)
		case "image":
			err = field(k, raw, &c.Image)
		case "timestamp":
			err = field(k, raw, &c.Timestamp)
		case "command_id":
			err = field(k, raw, &c.CommandID)
		case "run_id":
			err = field(k, raw, &c.RunID)
		case "sig":
			err = field(k, raw, &c.Sig)
		default:
			if c.Extra == nil {
				c.Extra = Extra{}
			}
			c.Extra[k] = raw
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON encodes the command with the protocol's field names, known fields
// first in a fixed order, then any Extra fields sorted by name.
func (c Command) MarshalJSON() ([]byte, error) {
	w := newObjectWriter(256)
	w.str("command", string(c.Command))
	w.str("queue_id", c.QueueID)
	w.strOmit("target", c.Target)
	w.strOmit("symbol", c.Symbol)
	w.strOmit("type", c.Type)
	w.strOmit("time_range", c.TimeRange)
	w.strOmit("kafka_topic", c.KafkaTopic)
	w.strOmit("collection_name", c.CollectionName)
	w.strOmit("telemetry_id", c.TelemetryID)
	w.strOmit("image", c.Image)
	w.key("timestamp")
	w.buf = strconv.AppendFloat(w.buf, c.Timestamp, 'f', -1, 64)
	w.strOmit("command_id", c.CommandID)
	w.strOmit("run_id", c.RunID)
	w.extra(c.Extra)
	w.strOmit("sig", c.Sig) // last: the signed bytes are the encoding without it
	return w.bytes(), nil
}

// Validate checks c and returns a *FieldError naming the first bad field.
func (c *Command) Validate() error {
	if !c.Command.Valid() {
		if c.Command == "" {
			return &FieldError{Field: "command", Problem: "is required"}
		}
		return &FieldError{Field: "command", Problem: "unknown command " + strconv.Quote(string(c.Command)) + " (want start, stop or ping)"}
	}
	if err := validateQueueID("queue_id", c.QueueID); err != nil {
		return err
	}
	if c.Timestamp <= 0 {
		return &FieldError{Field: "timestamp", Problem: "must be a positive Unix time in seconds"}
	}
	if c.Command == CommandStart {
		if c.Target == "" {
			return &FieldError{Field: "target", Problem: "is required for start"}
		}
		if err := ValidateSymbols(c.Symbol); err != nil {
			return &FieldError{Field: "symbol", Problem: err.Error()}
		}
		if err := ValidateType(c.Type); err != nil {
			return &FieldError{Field: "type", Problem: err.Error()}
		}
	} else if c.Symbol != "" {
		if err := ValidateSymbols(c.Symbol); err != nil {
			return &FieldError{Field: "symbol", Problem: err.Error()}
		}
	}
	if c.TimeRange != "" {
		if _, err := ParseTimeRange(c.TimeRange); err != nil {
			return &FieldError{Field: "time_range", Problem: err.Error()}
		}
	}
	if c.KafkaTopic != "" {
		if err := ValidateTopic(c.KafkaTopic); err != nil {
			return &FieldError{Field: "kafka_topic", Problem: err.Error()}
		}
	}
	if c.CollectionName != "" {
		if err := ValidateCollection(c.CollectionName); err != nil {
			return &FieldError{Field: "collection_name", Problem: err.Error()}
		}
	}
	if c.TelemetryID != "" {
		if err := ValidateTelemetryID(c.TelemetryID); err != nil {
			return &FieldError{Field: "telemetry_id", Problem: err.Error()}
		}
	}
	return nil
}

// DecodeCommand parses and validates a queue-control message.
func DecodeCommand(data []byte) (Command, error) {
	var c Command
	if err := c.UnmarshalJSON(data); err != nil {
		return Command{}, err
	}
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}
