package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// The unit tier: each scenario on an embedded broker of its own, with sizes
// for a quick run. The integration tier (real_test.go) runs issue #3's sizes.

func plain(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) }

// Two partial days and four whole days from daily archives: 6,430 one-minute candles.
func TestEmbeddedCandles(t *testing.T) {
	testCandles(t, plain(t), "1m", "2024-08-29T12:30:00Z", "2024-09-03T07:40:00Z")
}

// Archives off: everything over REST.
func TestEmbeddedCandlesREST(t *testing.T) {
	testCandles(t, plain(t), "5m", "2024-08-30T00:00:00Z", "2024-09-02T03:00:00Z", "LOADER_ARCHIVES=false")
}

// Three daily archives, two of them read in part.
func TestEmbeddedTrades(t *testing.T) {
	testTrades(t, plain(t), "2024-03-01T22:10:00Z", "2024-03-03T01:20:00Z", 140_000)
}

func TestEmbeddedKillRestart(t *testing.T) {
	testKillRestart(t, plain(t), "2024-03-01T20:00:00Z", "2024-03-03T04:00:00Z")
}

func TestEmbeddedFixtures(t *testing.T) { testFixtures(t, plain(t)) }
func TestEmbeddedBadInput(t *testing.T) { testBadInput(t, plain(t)) }
func TestEmbeddedStop(t *testing.T) {
	testStop(t, plain(t), "2024-03-01T20:00:00Z", "2024-03-04T04:00:00Z")
}
func TestEmbeddedStartCommand(t *testing.T) { testStartCommand(t, plain(t)) }

// The weight budget is ample here (a minute would have to pass otherwise);
// the 429s and the ban are injected all the same.
func TestEmbeddedRateLimits(t *testing.T) {
	testRateLimits(t, plain(t), 6000, "2024-03-05T00:00:00Z", "2024-03-05T04:00:00Z")
}

func TestEmbeddedLiveTrades(t *testing.T)       { testLiveTrades(t, plain(t)) }
func TestEmbeddedLiveOrderbook(t *testing.T)    { testLiveOrderbook(t, plain(t)) }
func TestEmbeddedLiveCandlesRange(t *testing.T) { testLiveCandlesRange(t, plain(t)) }
func TestEmbeddedLiveTradesRange(t *testing.T)  { testLiveTradesRange(t, plain(t)) }
func TestEmbeddedLiveRelaunch(t *testing.T)     { testLiveRelaunch(t, plain(t)) }
func TestEmbeddedLiveBookTicker(t *testing.T)   { testLiveBookTicker(t, plain(t)) }
func TestEmbeddedLiveDepth(t *testing.T)        { testLiveDepthSnapshots(t, plain(t)) }

// The differential test (issue #22): every stored field of every record
// against the simulator's own answer for the same range.
func TestEmbeddedDiff(t *testing.T) { testDiff(t, plain(t)) }
