package stream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// TestEmbeddedLiveGapCoverage streams ETHUSDT's trades over a short time
// range, drops the simulator's WebSocket connections in the middle (the
// loader reconnects after a backoff of at least a quarter second, in which
// a market of 50 trades a second trades), and reads the coverage ledger
// back through the API once the workflow finished: the hour of the drop is
// degraded, its reason a websocket gap whose REST backfill closed it; every
// other hour of the range is present.
func TestEmbeddedLiveGapCoverage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0", BinDir: binDir, DataDir: t.TempDir(),
		APIAddr: stacktest.FreeAddr(t), TradeRate: 50,
		Env: []string{fmt.Sprintf("EVENTS_GROUP=gap-%d", time.Now().UnixNano())}}
	s := stacktest.Up(t, ctx, o)
	c := &scenario.Client{API: s.API}
	start := time.Now().UTC().Add(3 * time.Second).Truncate(time.Second)
	end := start.Add(12 * time.Second)
	timeRange := start.Format(time.RFC3339) + "/" + end.Format(time.RFC3339)
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{symbol}, Types: []string{"ws_trades"}, TimeRange: timeRange,
		Steps: []string{"load", "store"}})
	if err != nil {
		t.Fatal(err)
	}
	// The drop, once the stream has been running for a while.
	time.Sleep(time.Until(start.Add(5 * time.Second)))
	dropped := time.Now().UTC()
	if n := s.Simulator().DropWS(); n == 0 {
		t.Fatal("no WebSocket connection to drop: the loader is not streaming")
	}
	final, err := c.Follow(ctx, w.ID, func(*scenario.Workflow) {})
	if err != nil {
		t.Fatal(err)
	}
	if final.State != "finished" {
		t.Fatalf("workflow %s ended %s: %s", final.ID, final.State, final.Error)
	}
	cov, err := c.Coverage(ctx, symbol, "ws_trades", timeRange)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coverage of %s ws_trades over %s: %+v, holes %q", symbol, timeRange, cov.Summary, cov.Holes)
	gapHour := coverage.Floor(dropped.UnixMilli())
	hours := map[int64]coverage.Hour{}
	for _, h := range cov.Hours {
		hours[h.Time] = h
	}
	for hr := coverage.Floor(start.UnixMilli()); hr < end.UnixMilli(); hr += coverage.HourMs {
		h, ok := hours[hr]
		switch {
		case !ok:
			t.Errorf("hour %s not in the ledger: %+v", time.UnixMilli(hr).UTC(), cov)
		case hr == gapHour && (h.State != coverage.Degraded || h.Reason != coverage.ReasonWSGap || h.Backfill != coverage.BackfillClosed ||
			!strings.Contains(h.Source, "rest") || !strings.Contains(h.Source, "live")):
			t.Errorf("hour of the drop %+v, want degraded by a websocket gap the backfill closed, from live and REST", h)
		case hr != gapHour && h.State != coverage.Present:
			t.Errorf("hour %+v, want present", h)
		}
		if ok && (h.Stored == nil || *h.Stored != h.Records) {
			t.Errorf("hour %s: the store holds %v records, the loader published %d", time.UnixMilli(hr).UTC(), h.Stored, h.Records)
		}
	}
	if len(cov.Holes) != 1 || !strings.Contains(cov.Holes[0], "websocket gap (backfill closed)") {
		t.Errorf("holes %q, want the hour of the drop, its gap closed", cov.Holes)
	}
}
