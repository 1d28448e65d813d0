//go:build integration

package bus_test

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// TestRealConsumerWaitsForAMissingTopic: the same on real Apache Kafka,
// whose brokers here do not create topics on demand: the checks must not
// create it either.
func TestRealConsumerWaitsForAMissingTopic(t *testing.T) {
	cfg := bustest.Real(t, false)
	testWaitForMissingTopic(t, cfg, func(topic string) error {
		bustest.Topics(t, cfg, 1, topic)
		return nil
	}, nil)
}
