package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/store"
)

// testCoverage writes a coverage ledger, rewrites one hour with another
// verdict and reads it back by symbol, type and time range: the ledger's
// deterministic keys make the rewrite replace the hour.
func testCoverage(t *testing.T, s store.Store) {
	ctx := t.Context()
	if hs, err := coverage.Read(ctx, s, "BTCUSDT", "", Start, Start+coverage.HourMs); err != nil || hs != nil {
		t.Fatalf("read before any write: %v, %v; want no hours, no error", hs, err)
	}
	stored := int64(7)
	var hs []coverage.Hour
	for i := range int64(3) {
		for _, typ := range []string{"api_trades", "api_candles_5m"} {
			hs = append(hs, coverage.Hour{Symbol: "BTCUSDT", Type: typ, Time: Start + i*coverage.HourMs, State: coverage.Present,
				Source: "archive", Records: 7, Stored: &stored})
		}
	}
	hs = append(hs, coverage.Hour{Symbol: "ETHUSDT", Type: "api_trades", Time: Start, State: coverage.Present, Records: 1})
	if err := coverage.Write(ctx, s, hs); err != nil {
		t.Fatal(err)
	}
	again := coverage.Hour{Symbol: "BTCUSDT", Type: "api_trades", Time: Start + coverage.HourMs, State: coverage.Degraded,
		Source: "live+rest", Reason: coverage.ReasonWSGap, Backfill: coverage.BackfillClosed, Records: 9}
	if err := coverage.Write(ctx, s, []coverage.Hour{again}); err != nil {
		t.Fatal(err)
	}
	got, err := coverage.Read(ctx, s, "BTCUSDT", "api_trades", Start+coverage.HourMs, Start+3*coverage.HourMs)
	if err != nil {
		t.Fatal(err)
	}
	want := []coverage.Hour{again, hs[4]}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("coverage read (-want +got):\n%s", d)
	}
}
