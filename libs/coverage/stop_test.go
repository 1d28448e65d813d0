package coverage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTrackerStop: a stream stopped before its range's end (or without
// one) covers the hours up to the stop and none after; the stop's hour
// expects only the candles that open before the stop.
func TestTrackerStop(t *testing.T) {
	perMinute := func(a, b int64) int64 { return (b - a + 59_999) / 60_000 } // 1m candles opening in [a, b)
	type hour struct {
		Time              int64
		State             State
		Records, Expected int64
	}
	tests := []struct {
		name     string
		from, to int64 // the tracker's range (to 0: no end)
		expect   Expect
		counts   []int64 // records, epoch ms
		stop     int64
		want     []hour
	}{
		{
			name: "a range of three hours stopped in its second: the third is not missing",
			from: h0, to: h0 + 3*HourMs, counts: []int64{h0 + 1, h0 + HourMs + 5}, stop: h0 + HourMs + 10,
			want: []hour{{h0, Present, 1, 0}, {h0 + HourMs, Present, 1, 0}},
		},
		{
			name: "no end: a quiet hour before the stop is missing, none after it",
			from: h0 + 30*60_000, counts: []int64{h0 + 40*60_000}, stop: h0 + 2*HourMs + 1,
			want: []hour{{h0, Present, 1, 0}, {h0 + HourMs, Missing, 0, 0}, {h0 + 2*HourMs, Missing, 0, 0}},
		},
		{
			name: "candles: the stop's hour expects those opening before the stop", expect: perMinute,
			from: h0, to: h0 + 2*HourMs, counts: []int64{h0 + HourMs, h0 + HourMs + 60_000}, stop: h0 + HourMs + 2*60_000,
			want: []hour{{h0, Missing, 0, 60}, {h0 + HourMs, Present, 2, 2}},
		},
		{
			name: "a record after the stop (the exchange's clock ahead) moves the stop after it",
			from: h0, counts: []int64{h0 + HourMs + 7}, stop: h0 + HourMs - 3,
			want: []hour{{h0, Missing, 0, 0}, {h0 + HourMs, Present, 1, 0}},
		},
		{
			name: "stopped before the range began: no hour",
			from: h0 + HourMs, to: h0 + 2*HourMs, stop: h0,
		},
		{
			name: "a stop after the range's end changes nothing",
			from: h0, to: h0 + HourMs, counts: []int64{h0 + 1}, stop: h0 + 5*HourMs,
			want: []hour{{h0, Present, 1, 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker("BTCUSDT", "ws_trades", tc.from, tc.to, tc.expect)
			for _, ms := range tc.counts {
				tr.Count(ms, Live)
			}
			tr.Stop(tc.stop)
			var got []hour
			for _, h := range tr.Ledger().Hours() {
				got = append(got, hour{h.Time, h.State, h.Records, h.Expected})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("hours after Stop(%d) (-want +got):\n%s", tc.stop, d)
			}
		})
	}
}
