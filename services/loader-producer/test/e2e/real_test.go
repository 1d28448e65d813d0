//go:build integration

package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// The integration tier: real Apache Kafka 4.x, issue #3's sizes.

// A month of one-minute candles: a monthly archive, two daily archives and
// REST edges on both sides (44,280 candles).
func TestRealCandlesMonth(t *testing.T) {
	testCandles(t, bustest.Real(t, false), "1m", "2024-07-30T21:00:00Z", "2024-09-02T03:00:00Z")
}

// A million aggregate trades: six daily archives and REST edges.
func TestRealTradesMillion(t *testing.T) {
	testTrades(t, bustest.Real(t, false), "2024-03-04T05:30:00Z", "2024-03-10T09:45:00Z", 1_000_000)
}

// Over SCRAM-SHA-512, as on a Strimzi cluster.
func TestRealTradesSCRAM(t *testing.T) {
	testTrades(t, bustest.Real(t, true), "2024-03-01T22:10:00Z", "2024-03-03T01:20:00Z", 140_000)
}

func TestRealFixtures(t *testing.T) { testFixtures(t, bustest.Real(t, false)) }
func TestRealBadInput(t *testing.T) { testBadInput(t, bustest.Real(t, false)) }

func TestRealKillRestart(t *testing.T) {
	testKillRestart(t, bustest.Real(t, false), "2024-03-04T00:00:00Z", "2024-03-08T12:00:00Z")
}

func TestRealStop(t *testing.T) {
	testStop(t, bustest.Real(t, false), "2024-03-01T20:00:00Z", "2024-03-04T04:00:00Z")
}

func TestRealStartCommand(t *testing.T) { testStartCommand(t, bustest.Real(t, false)) }

// A budget of 240 weight per minute against about 300 needed: the loader
// must wait for the next minute, besides the injected 429s and ban.
func TestRealRateLimits(t *testing.T) {
	testRateLimits(t, bustest.Real(t, false), 240, "2024-03-05T00:00:00Z", "2024-03-05T09:00:00Z")
}

func TestRealLiveTrades(t *testing.T)       { testLiveTrades(t, bustest.Real(t, false)) }
func TestRealLiveOrderbook(t *testing.T)    { testLiveOrderbook(t, bustest.Real(t, false)) }
func TestRealLiveCandlesRange(t *testing.T) { testLiveCandlesRange(t, bustest.Real(t, false)) }
func TestRealLiveRelaunch(t *testing.T)     { testLiveRelaunch(t, bustest.Real(t, false)) }
func TestRealLiveBookTicker(t *testing.T)   { testLiveBookTicker(t, bustest.Real(t, false)) }
func TestRealLiveDepth(t *testing.T)        { testLiveDepthSnapshots(t, bustest.Real(t, false)) }

// The differential test (issue #22) on real Kafka.
func TestRealDiff(t *testing.T) { testDiff(t, bustest.Real(t, false)) }
