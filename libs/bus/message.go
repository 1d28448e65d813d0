package bus

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// Message is a Kafka message as the bus takes and hands it out. On Send,
// Topic must be set; Key, Value, Headers and Time are written (a zero Time
// means the time of the Send; the producer's delivery timeout counts from
// Time, so a message whose Time lies further back fails) and Partition is
// chosen by the key. Messages read carry all the fields, Partition and
// Offset included.
//
// The bus has its own message type, not a Kafka client's, so that services
// depend on the bus alone and the client behind it can change.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	// Headers is nil when the message has none.
	Headers []Header
	Time    time.Time
}

// Header is a key and value attached to a message.
type Header struct {
	Key   string
	Value []byte
}

// fromKafka converts a message read by kafka-go. Key, Value and header
// values are shared, not copied; a message without headers allocates
// nothing.
func fromKafka(m *kafka.Message) Message {
	var hs []Header
	if len(m.Headers) > 0 {
		hs = make([]Header, len(m.Headers))
		for i, h := range m.Headers {
			hs[i] = Header(h)
		}
	}
	return Message{
		Topic:     m.Topic,
		Partition: m.Partition,
		Offset:    m.Offset,
		Key:       m.Key,
		Value:     m.Value,
		Headers:   hs,
		Time:      m.Time,
	}
}
