package bus

import (
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestTemporaryKafkaErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("offset fetch: %w", kafka.NotCoordinatorForGroup), true},
		{kafka.GroupCoordinatorNotAvailable, true},
		{kafka.GroupLoadInProgress, true},
		{kafka.TopicAuthorizationFailed, false},
		{errors.New("connection refused"), false},
	} {
		if got := temporary(tt.err); got != tt.want {
			t.Errorf("temporary(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
