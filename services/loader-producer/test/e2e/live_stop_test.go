package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

func TestEmbeddedLiveStopLedger(t *testing.T) { testLiveStopLedger(t, plain(t)) }

// testLiveStopLedger streams a symbol's trades over a three-hour range
// from now (the simulator on the wall clock) and stops the loader after a
// few trades: its interrupted event carries the coverage ledger as a
// finished one would, ending at the stop — the hours from the range's
// start to the stop's, none after it (they were not streamed, not
// missing) — counting every trade the topic holds.
func testLiveStopLedger(t *testing.T, cfg bus.Config) {
	_, url := startSim(t, binancesim.Options{})
	start := time.Now().UTC().Truncate(time.Second)
	tk := newTask(t, cfg, "BTCUSDT", "ws_trades", start.Format(time.RFC3339)+"/"+start.Add(3*time.Hour).Format(time.RFC3339))
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startLoader(t, cfg, tk, url)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, 6)
	in := stopLive(t, cfg, tk, p, ev, "loader-producer")
	stopped := protocol.TimeOf(in.Timestamp).UnixMilli()

	if in.Message != protocol.ReasonStopRequested {
		t.Errorf("interrupted event says %q, want %q", in.Message, protocol.ReasonStopRequested)
	}
	var res coverage.Result
	if err := json.Unmarshal(in.Result, &res); err != nil || len(res.Coverage) != 1 {
		t.Fatalf("interrupted event's result %s (%v): want one coverage ledger", in.Result, err)
	}
	l := res.Coverage[0]
	if l.Symbol != tk.symbol || l.Type != tk.typ || l.From != coverage.Floor(start.UnixMilli()) {
		t.Errorf("ledger of %s %s from %d, want %s %s from %d", l.Symbol, l.Type, l.From, tk.symbol, tk.typ, coverage.Floor(start.UnixMilli()))
	}
	hours := l.Hours()
	if len(hours) == 0 || hours[len(hours)-1].Time != coverage.Floor(stopped) {
		t.Fatalf("ledger hours %+v, want them to end with the hour of the stop (%s)", hours, time.UnixMilli(stopped).UTC())
	}
	var counted int64
	for _, h := range hours {
		counted += h.Records
		if h.State == coverage.Degraded || (h.State == coverage.Missing && h.Records > 0) {
			t.Errorf("hour %+v: want present (or missing when no trade fell in it)", h)
		}
	}
	if trades := int64(len(distinct(t, readTopic(t, cfg, tk.topic)))); counted != trades || counted != in.RecordsWritten {
		t.Errorf("the ledger counts %d trades, the topic holds %d, the interrupted event says %d", counted, trades, in.RecordsWritten)
	}
	t.Logf("stopped after %d trades; ledger %+v", counted, hours)
}
