//go:build integration

package scenario

import (
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// The integration tier: the same flow over the last whole month, on real
// Apache Kafka 4.x.
func TestRealScenario1(t *testing.T) {
	cfg := bustest.Real(t, false)
	testScenario1(t, stack.Options{Kafka: cfg.BootstrapServers, ExchangeAddr: "127.0.0.1:0"}, scenario.LastMonth(time.Now()))
}

// Workflows do not mix, on real Apache Kafka 4.x.
func TestRealWorkflowIsolation(t *testing.T) {
	cfg := bustest.Real(t, false)
	testIsolation(t, stack.Options{Kafka: cfg.BootstrapServers, ExchangeAddr: "127.0.0.1:0"}, issue19)
}
