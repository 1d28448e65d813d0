package bus

import (
	"context"
	"net"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// countingTransport answers metadata requests and counts them.
type countingTransport struct{ calls int }

func (c *countingTransport) RoundTrip(_ context.Context, _ net.Addr, req kafka.Request) (kafka.Response, error) {
	c.calls++
	r := req.(*metadata.Request)
	return &metadata.Response{Topics: []metadata.ResponseTopic{{Name: r.TopicNames[0]}}}, nil
}

func TestSendMemoAsksOncePerSendAndTopic(t *testing.T) {
	ask := func(ctx context.Context, tr kafka.RoundTripper, topic string) {
		t.Helper()
		res, err := tr.RoundTrip(ctx, nil, &metadata.Request{TopicNames: []string{topic}})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.(*metadata.Response).Topics[0].Name; got != topic {
			t.Fatalf("answer for %s names %s", topic, got)
		}
	}
	tests := []struct {
		name   string
		memo   bool
		topics []string
		want   int
	}{
		{"one send, one topic", true, []string{"a", "a", "a", "a"}, 1},
		{"one send, topic changes", true, []string{"a", "a", "b", "b"}, 2},
		{"outside a send", false, []string{"a", "a", "a"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &countingTransport{}
			ctx := context.Background()
			if tt.memo {
				ctx = context.WithValue(ctx, sendMemoKey{}, &metadataMemo{})
			}
			for _, topic := range tt.topics {
				ask(ctx, sendMemo{c}, topic)
			}
			if c.calls != tt.want {
				t.Errorf("metadata requests = %d, want %d", c.calls, tt.want)
			}
		})
	}
}
