package scenario

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/coverage"
)

// TestPrintCoverage: a complete load step is one line; an incomplete one
// names its holes and why, at most maxHoles of them.
func TestPrintCoverage(t *testing.T) {
	var holes []string
	for i := range maxHoles + 2 {
		holes = append(holes, fmt.Sprintf("BTCUSDT api_trades 2026-10-01T%02d:00Z missing: %s", 2*i, coverage.ReasonNoRecords))
	}
	holes[0] = "BTCUSDT api_trades 2026-10-01T00:00Z degraded: websocket gap (backfill failed)"
	var out bytes.Buffer
	printCoverage(&out, []*Coverage{
		{Symbol: "BTCUSDT", Type: "api_candles_5m", Summary: coverage.Summary{Hours: 24, Present: 24, Complete: true}},
		{Symbol: "BTCUSDT", Type: "api_trades", Summary: coverage.Summary{Hours: 24, Present: 12, Degraded: 1, Missing: 11}, Holes: holes},
	})
	got := out.String()
	for _, want := range []string{
		"BTCUSDT api_candles_5m           complete: 24 of 24 hours present\n",
		"BTCUSDT api_trades               INCOMPLETE: 12 of 24 hours present, 1 degraded, 11 missing, 0 unrecorded\n",
		"    BTCUSDT api_trades 2026-10-01T00:00Z degraded: websocket gap (backfill failed)\n",
		"    " + holes[maxHoles-1] + "\n",
		"    ... and 2 more (GET /api/v1/coverage)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("coverage printed without %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, holes[maxHoles]) {
		t.Errorf("printed more than %d holes:\n%s", maxHoles, got)
	}
}
