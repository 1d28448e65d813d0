package loader

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/coverage"
)

// TestLiveStoppedLedger: a live stream of a three-hour range stopped in
// its first hour reports the ledger up to the stop, the hour of the stop
// present with what was streamed; the range's hours after the stop are
// not in it (they were never streamed, not missing).
func TestLiveStoppedLedger(t *testing.T) {
	start := simNow.Add(-time.Minute)
	r := newLiveRig(t, "ws_trades", start, simNow.Add(2*time.Hour), recordHead{})
	tr := simTrades(t, r.sim)
	r.l.track(r.l.syms["BTCUSDT"])
	for _, a := range tr {
		r.feed(aggTradeEvent(a))
	}
	published := int64(len(r.keys()))
	got := verdicts(r.l.stoppedLedgers(simNow)[0], coverage.Floor(start.UnixMilli()))
	want := []verdict{{Hour: 0, State: coverage.Present, Source: "live", Records: published}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ledger of the stopped stream (-want +got):\n%s", d)
	}
}
