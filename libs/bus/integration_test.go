//go:build integration

package bus_test

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// The same suite as against the embedded broker, against real Apache Kafka
// 4.x started by platform/kafka/kafka.sh (make test-integration).

func TestRealBroker(t *testing.T) {
	runSuite(t, func(t *testing.T) bus.Config { return bustest.Real(t, false) })
}

func TestRealBrokerSASL(t *testing.T) {
	runSuite(t, func(t *testing.T) bus.Config { return bustest.Real(t, true) })
}

func TestRealWrongPasswordFailsFast(t *testing.T) {
	checkWrongPassword(t, bustest.Real(t, true))
}
