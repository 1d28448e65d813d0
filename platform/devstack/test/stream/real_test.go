//go:build integration

package stream

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// The integration tier: the same stream on real Apache Kafka 4.x.
func TestRealStream(t *testing.T) {
	cfg := bustest.Real(t, false)
	testStream(t, stack.Options{Kafka: cfg.BootstrapServers, ExchangeAddr: "127.0.0.1:0"})
}

// The book ticker and partial book workflow on real Apache Kafka 4.x.
func TestRealBookStates(t *testing.T) {
	cfg := bustest.Real(t, false)
	testBookStates(t, stack.Options{Kafka: cfg.BootstrapServers, ExchangeAddr: "127.0.0.1:0"})
}
