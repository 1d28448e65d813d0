package builder

import (
	"context"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
)

// TestHolesRefuseTheRange: graph-builder refuses a range whose ledger has
// a hole in one of its inputs (permanently, naming it) and builds one whose
// only blemish is a WebSocket gap REST closed, or that the ledger does not
// know.
func TestHolesRefuseTheRange(t *testing.T) {
	const h0 = int64(1_722_470_400_000) // 2024-08-01T00:00Z
	from, to := h0, h0+24*coverage.HourMs
	hour := func(sym, typ string, i int64, st coverage.State, reason, backfill string) coverage.Hour {
		return coverage.Hour{Symbol: sym, Type: typ, Time: h0 + i*coverage.HourMs, State: st, Reason: reason, Backfill: backfill}
	}
	tests := []struct {
		name   string
		ledger []coverage.Hour
		refuse string // a part of the error; empty: no error
	}{
		{name: "no ledger"},
		{name: "complete", ledger: []coverage.Hour{hour("BTCUSDT", "api_candles_5m", 0, coverage.Present, "", "")}},
		{name: "a gap REST closed", ledger: []coverage.Hour{
			hour("BTCUSDT", "api_trades", 3, coverage.Degraded, coverage.ReasonWSGap, coverage.BackfillClosed)}},
		{name: "holes outside the range or of another symbol", ledger: []coverage.Hour{
			hour("BTCUSDT", "api_trades", 24, coverage.Missing, coverage.ReasonNoRecords, ""),
			hour("ETHUSDT", "api_trades", 2, coverage.Missing, coverage.ReasonNoRecords, "")}},
		{name: "a missing hour of trades", ledger: []coverage.Hour{
			hour("BTCUSDT", "api_trades", 5, coverage.Missing, coverage.ReasonNoRecords, "")},
			refuse: "BTCUSDT api_trades 2024-08-01T05:00Z missing: " + coverage.ReasonNoRecords},
		{name: "candles short and a failed backfill", ledger: []coverage.Hour{
			hour("BTCUSDT", "api_candles_5m", 7, coverage.Degraded, coverage.ReasonShort(11, 12), ""),
			hour("BTCUSDT", "api_trades", 9, coverage.Degraded, coverage.ReasonWSGap, coverage.BackfillFailed)},
			refuse: "2 hours with holes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			if err := coverage.Write(context.Background(), st, tc.ledger); err != nil {
				t.Fatal(err)
			}
			cfg := config(t, "BTCUSDT", "btcusdt_api_candles_5m_2024_08_01,btcusdt_api_trades_2024_08_01")
			err := checkHoles(context.Background(), st, cfg.inputs, from, to)
			switch {
			case tc.refuse == "" && err != nil:
				t.Errorf("checkHoles = %v, want the range built", err)
			case tc.refuse != "" && (err == nil || !strings.Contains(err.Error(), tc.refuse) || !protocol.IsPermanent(err)):
				t.Errorf("checkHoles = %v, want a permanent refusal naming %q", err, tc.refuse)
			}
		})
	}
}
