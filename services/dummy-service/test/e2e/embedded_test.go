package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// The unit tier runs every scenario against the embedded broker, each test
// with a broker of its own.

func plain(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) }

func sasl(t *testing.T) bus.Config {
	return bustest.Embedded(t, embedded.Options{SASLUser: "streamforge", SASLPassword: "streamforge-secret"})
}

func TestEmbeddedPingPong(t *testing.T)         { t.Parallel(); testPingPong(t, plain(t), false) }
func TestEmbeddedPingPongSASL(t *testing.T)     { t.Parallel(); testPingPong(t, sasl(t), false) }
func TestEmbeddedStop(t *testing.T)             { t.Parallel(); testStop(t, plain(t)) }
func TestEmbeddedStopIsForOneRun(t *testing.T)  { t.Parallel(); testStopIsForOneRun(t, plain(t)) }
func TestEmbeddedSignedCommands(t *testing.T)   { t.Parallel(); testSignedCommands(t, plain(t)) }
func TestEmbeddedStopDuringLoad(t *testing.T)   { t.Parallel(); testStopDuringLoad(t, plain(t)) }
func TestEmbeddedSigterm(t *testing.T)          { t.Parallel(); testSigterm(t, plain(t)) }
func TestEmbeddedFailAfter(t *testing.T)        { t.Parallel(); testFailAfter(t, plain(t)) }
func TestEmbeddedSimulateLoading(t *testing.T)  { t.Parallel(); testSimulateLoading(t, plain(t)) }
func TestEmbeddedMalformedControl(t *testing.T) { t.Parallel(); testMalformedControl(t, plain(t)) }
func TestEmbeddedWrongPassword(t *testing.T)    { t.Parallel(); testWrongPassword(t, sasl(t)) }
func TestEmbeddedNoPong(t *testing.T)           { t.Parallel(); testNoPong(t, plain(t)) }
