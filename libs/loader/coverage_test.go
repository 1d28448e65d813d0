package loader

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/coverage"
)

// verdict is the part of a ledger hour these tests compare.
type verdict struct {
	Hour              int // hours after the range's start
	State             coverage.State
	Source, Reason    string
	Backfill          string
	Records, Expected int64
}

func verdicts(l coverage.Ledger, from int64) []verdict {
	var out []verdict
	for _, h := range l.Hours() {
		out = append(out, verdict{Hour: int((h.Time - from) / coverage.HourMs), State: h.State, Source: h.Source,
			Reason: h.Reason, Backfill: h.Backfill, Records: h.Records, Expected: h.Expected})
	}
	return out
}

// TestHistoryCoverage loads a day of 5m candles from the simulator: with the
// day's archive published every hour is present from the archive; with the
// exchange's clock two hours before the day's end the archive is absent,
// the hours REST has are present from REST with that reason, the hour at
// its clock is short, the last is missing.
func TestHistoryCoverage(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	full := func(src, reason string) []verdict {
		var v []verdict
		for i := range 24 {
			v = append(v, verdict{Hour: i, State: coverage.Present, Source: src, Reason: reason, Records: 12, Expected: 12})
		}
		return v
	}
	tests := []struct {
		name     string
		simClock time.Time
		want     []verdict
	}{
		{name: "archive published", simClock: day.Add(48 * time.Hour), want: full("archive", "")},
		{
			name: "archive absent, REST short of the day's end", simClock: day.Add(22 * time.Hour),
			want: append(full("rest", coverage.ReasonArchiveAbsent)[:22],
				// The simulator, like Binance, answers the candle that opens at its clock.
				verdict{Hour: 22, State: coverage.Degraded, Source: "rest", Reason: coverage.ReasonShort(1, 12), Records: 1, Expected: 12},
				verdict{Hour: 23, State: coverage.Missing, Reason: coverage.ReasonNoRecords, Expected: 12}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := binancesim.New(binancesim.Options{Clock: func() time.Time { return tc.simClock }})
			url, stop := sim.Start()
			t.Cleanup(stop)
			dt, err := ParseDataType("api_candles_5m")
			if err != nil {
				t.Fatal(err)
			}
			start, end := day, day.Add(24*time.Hour)
			h := &history{
				job:  Job{QueueID: "wf-cov-test", Symbols: []string{"BTCUSDT"}, Type: dt, Start: start, End: end, Topic: "wf-cov-test-data"},
				rest: binance.NewClient(url, binance.ClientOptions{MaxAttempts: 1}), arch: binance.NewArchive(url, &http.Client{}, t.TempDir()),
				out: newFakeSender(t, 0), concurrency: 2, batchSize: 500, useArchives: true, checkEdges: true, now: day.Add(72 * time.Hour),
				m: newMetrics(prometheus.NewRegistry()), prog: newProgress(start, end, 0), log: zerolog.Nop(),
			}
			if err := h.run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			ls := h.ledgers()
			if len(ls) != 1 || ls[0].Symbol != "BTCUSDT" || ls[0].Type != "api_candles_5m" {
				t.Fatalf("ledgers %+v, want one of BTCUSDT api_candles_5m", ls)
			}
			if d := cmp.Diff(tc.want, verdicts(ls[0], start.UnixMilli())); d != "" {
				t.Errorf("ledger (-want +got):\n%s", d)
			}
		})
	}
}

// TestLiveCoverageGap streams the trades of the two minutes around
// simNow (an hour's change) with a WebSocket gap injected in the second
// hour: the first hour is present from the stream, the hour of the gap is
// degraded with the backfill's outcome, closed when REST gave the missed
// trades, failed when it did not.
func TestLiveCoverageGap(t *testing.T) {
	tests := []struct {
		name     string
		restDown bool
		want     verdict
	}{
		{name: "backfill closed the gap", want: verdict{Hour: 1, State: coverage.Degraded, Source: "rest+live",
			Reason: coverage.ReasonWSGap, Backfill: coverage.BackfillClosed}},
		{name: "backfill failed", restDown: true, want: verdict{Hour: 1, State: coverage.Degraded, Source: "live",
			Reason: coverage.ReasonWSGap, Backfill: coverage.BackfillFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end := simNow.Add(-time.Minute), simNow.Add(time.Minute)
			probe := binancesim.New(binancesim.Options{Clock: func() time.Time { return end }})
			tr, err := probe.Market().AggTrades("BTCUSDT", start, end)
			if err != nil {
				t.Fatal(err)
			}
			k := 0 // the first trade of the second hour
			for k < len(tr) && tr[k].Time < simNow.UnixMilli() {
				k++
			}
			if k < 3 || len(tr) < k+8 {
				t.Fatalf("%d trades, %d before %s: too few around the hour's change", len(tr), k, simNow)
			}
			r := newLiveRig(t, "ws_trades", time.UnixMilli(tr[0].Time).UTC(), end, recordHead{})
			r.clock.Store(end.UnixMilli())
			r.l.track(r.l.syms["BTCUSDT"])
			for i := range k + 1 {
				r.feed(aggTradeEvent(tr[i]))
			}
			if tc.restDown {
				r.sim.Fail5xx(1, 500)
			}
			r.feed(aggTradeEvent(tr[k+5])) // the connection dropped: tr[k+1..k+4] were missed
			r.feed(aggTradeEvent(tr[k+6]))
			got := verdicts(r.l.ledgers()[0], coverage.Floor(tr[0].Time))
			if len(got) != 2 {
				t.Fatalf("%d hours in the ledger, want 2: %+v", len(got), got)
			}
			if first := (verdict{State: coverage.Present, Source: "live", Records: int64(k)}); got[0] != first {
				t.Errorf("first hour %+v, want %+v", got[0], first)
			}
			got[1].Records = 0
			if d := cmp.Diff(tc.want, got[1]); d != "" {
				t.Errorf("hour of the gap (-want +got):\n%s", d)
			}
		})
	}
}

// TestHistoryCrossChecksArchiveWithREST: a day archive at the range's edge
// is compared with REST hour by hour; where REST lacks a candle or has
// another close price the hour is degraded with what disagreed, the
// others stay present.
func TestHistoryCrossChecksArchiveWithREST(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	sim := binancesim.New(binancesim.Options{Clock: func() time.Time { return day.Add(48 * time.Hour) }})
	h5, h7 := day.Add(5*time.Hour).UnixMilli(), day.Add(7*time.Hour).UnixMilli()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/klines" {
			sim.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rec, r)
		var rows [][]any
		if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
			t.Errorf("klines answer %s: %v", rec.Body.Bytes(), err)
		}
		out := rows[:0]
		for _, row := range rows {
			switch int64(row[0].(float64)) {
			case h5: // REST lacks it
				continue
			case h7: // another close price
				row[4] = "1.00000000"
			}
			out = append(out, row)
		}
		maps.Copy(w.Header(), rec.Header())
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	dt, err := ParseDataType("api_candles_5m")
	if err != nil {
		t.Fatal(err)
	}
	start, end := day, day.Add(24*time.Hour)
	h := &history{
		job:  Job{QueueID: "wf-cov-test", Symbols: []string{"BTCUSDT"}, Type: dt, Start: start, End: end, Topic: "wf-cov-test-data"},
		rest: binance.NewClient(srv.URL, binance.ClientOptions{MaxAttempts: 1}), arch: binance.NewArchive(srv.URL, &http.Client{}, t.TempDir()),
		out: newFakeSender(t, 0), concurrency: 2, batchSize: 500, useArchives: true, checkEdges: true, now: day.Add(72 * time.Hour),
		m: newMetrics(prometheus.NewRegistry()), prog: newProgress(start, end, 0), log: zerolog.Nop(),
	}
	if err := h.run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var bad []verdict
	for _, v := range verdicts(h.ledgers()[0], start.UnixMilli()) {
		if v.State != coverage.Present {
			bad = append(bad, v)
		}
	}
	want := []verdict{
		{Hour: 5, State: coverage.Degraded, Source: "archive", Reason: coverage.ReasonSourcesDisagree(12, 11, false), Records: 12, Expected: 12},
		{Hour: 7, State: coverage.Degraded, Source: "archive", Reason: coverage.ReasonSourcesDisagree(12, 12, true), Records: 12, Expected: 12},
	}
	if d := cmp.Diff(want, bad); d != "" {
		t.Errorf("hours not present (-want +got):\n%s", d)
	}
}
