//go:build integration

// Package chaos runs the fault experiments of the chaos suite on a real
// three-node Apache Kafka 4.x cluster (bustest.StartCluster, toxiproxy in
// front of every node): the local stack — queue-manager with the local
// launcher, the real loader and connector, the exchange simulator, the
// SQLite store — loads a day of BTCUSDT trades, first with no fault (the
// baseline, in the same run), then under each fault, and every run is
// measured against the simulator's own market: lost and extra records,
// duplicates in the data topic, attempts, false finishes, time to recover.
//
// The tests carry the integration build tag. CHAOS_REPORT names a file the
// figures are written to as a Markdown table (make chaos: docs/chaos.md).
package chaos

import (
	"os"
	"testing"

	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }
