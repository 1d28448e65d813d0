//go:build integration

package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// The integration tier runs the same scenarios against real Apache Kafka 4.x
// (platform/kafka/kafka.sh), on its PLAINTEXT and SASL SCRAM-SHA-512
// listeners. Here the one-second pong bound of issue #2 is checked.

func realPlain(t *testing.T) bus.Config { return bustest.Real(t, false) }
func realSASL(t *testing.T) bus.Config  { return bustest.Real(t, true) }

func TestRealPingPong(t *testing.T)         { testPingPong(t, realPlain(t), true) }
func TestRealPingPongSASL(t *testing.T)     { testPingPong(t, realSASL(t), true) }
func TestRealStop(t *testing.T)             { testStop(t, realPlain(t)) }
func TestRealStopSASL(t *testing.T)         { testStop(t, realSASL(t)) }
func TestRealStopDuringLoad(t *testing.T)   { testStopDuringLoad(t, realPlain(t)) }
func TestRealSigterm(t *testing.T)          { testSigterm(t, realPlain(t)) }
func TestRealFailAfter(t *testing.T)        { testFailAfter(t, realPlain(t)) }
func TestRealFailAfterSASL(t *testing.T)    { testFailAfter(t, realSASL(t)) }
func TestRealSimulateLoading(t *testing.T)  { testSimulateLoading(t, realPlain(t)) }
func TestRealMalformedControl(t *testing.T) { testMalformedControl(t, realPlain(t)) }
func TestRealWrongPassword(t *testing.T)    { testWrongPassword(t, realSASL(t)) }
func TestRealNoPong(t *testing.T)           { testNoPong(t, realPlain(t)) }
