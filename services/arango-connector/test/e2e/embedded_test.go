package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// The unit tier: each scenario on an embedded broker of its own, with
// record counts sized for a quick run.

func plain(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) }

func TestEmbeddedExactlyOnce(t *testing.T) { testExactlyOnce(t, plain(t), 20_000) }
func TestEmbeddedKillRestart(t *testing.T) { testKillRestart(t, plain(t), 100_000) }
func TestEmbeddedPoison(t *testing.T)      { testPoison(t, plain(t)) }
func TestEmbeddedStoreOutage(t *testing.T) { testStoreOutage(t, plain(t)) }
func TestEmbeddedStop(t *testing.T)        { testStop(t, plain(t)) }
func TestEmbeddedOwnRange(t *testing.T)    { testOwnRange(t, plain(t)) }
