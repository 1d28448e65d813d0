package bus

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"
)

func TestFromKafka(t *testing.T) {
	at := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		in   kafka.Message
		want Message
	}{
		{
			name: "every field",
			in: kafka.Message{Topic: "t", Partition: 2, Offset: 41, HighWaterMark: 50, Key: []byte("k"), Value: []byte("v"),
				Headers: []kafka.Header{{Key: "a", Value: []byte("1")}, {Key: "b"}}, Time: at},
			want: Message{Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v"),
				Headers: []Header{{Key: "a", Value: []byte("1")}, {Key: "b"}}, Time: at},
		},
		{
			name: "no headers stay nil",
			in:   kafka.Message{Topic: "t", Headers: []kafka.Header{}},
			want: Message{Topic: "t"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fromKafka(&tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fromKafka (-want +got):\n%s", diff)
			}
			if got.Headers == nil != (len(tt.want.Headers) == 0) {
				t.Errorf("Headers = %#v, want nil exactly when there are none", got.Headers)
			}
		})
	}
}

func TestCommitPositions(t *testing.T) {
	msg := func(topic string, partition int, offset int64) Message {
		return Message{Topic: topic, Partition: partition, Offset: offset, Value: []byte("x")}
	}
	pos := func(topic string, partition int, offset int64) kafka.Message {
		return kafka.Message{Topic: topic, Partition: partition, Offset: offset}
	}
	for _, tt := range []struct {
		name  string
		batch []Message
		want  []kafka.Message
	}{
		{"one message", []Message{msg("a", 0, 7)}, []kafka.Message{pos("a", 0, 7)}},
		{
			name:  "highest offset of each partition",
			batch: []Message{msg("a", 0, 7), msg("a", 1, 3), msg("a", 0, 8), msg("a", 1, 4), msg("a", 0, 9)},
			want:  []kafka.Message{pos("a", 0, 9), pos("a", 1, 4)},
		},
		{
			name:  "same partition of two topics",
			batch: []Message{msg("a", 0, 7), msg("b", 0, 2), msg("a", 0, 8)},
			want:  []kafka.Message{pos("a", 0, 8), pos("b", 0, 2)},
		},
		{
			name:  "out of order within a partition",
			batch: []Message{msg("a", 0, 9), msg("a", 0, 8)},
			want:  []kafka.Message{pos("a", 0, 9)},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A reused buffer holding an earlier batch's positions.
			buf := []kafka.Message{pos("old", 5, 100)}
			got := commitPositions(buf[:0], tt.batch)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("commitPositions (-want +got):\n%s", diff)
			}
		})
	}
}
