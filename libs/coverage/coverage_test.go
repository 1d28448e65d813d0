package coverage

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const h0 = int64(1_709_251_200_000) // 2024-03-01T00:00Z

func TestTrackerVerdicts(t *testing.T) {
	perMinute := func(a, b int64) int64 { return (b - a + 59_999) / 60_000 } // 1m candles opening in [a, b)
	tests := []struct {
		name   string
		expect Expect
		do     func(tr *Tracker)
		want   []Hour
	}{
		{
			name: "trades: counted hours present with their sources, an empty hour missing",
			do: func(tr *Tracker) {
				tr.Count(h0+1, Archive)
				tr.Count(h0+2, Archive)
				tr.Count(h0+2*HourMs, REST)
				tr.Note(h0+2*HourMs, Present, ReasonArchiveAbsent, "")
			},
			want: []Hour{
				{Time: h0, State: Present, Source: "archive", Records: 2},
				{Time: h0 + HourMs, State: Missing, Reason: ReasonNoRecords},
				{Time: h0 + 2*HourMs, State: Present, Source: "rest", Reason: ReasonArchiveAbsent, Records: 1},
			},
		},
		{
			name: "a websocket gap: degraded with the backfill's outcome, a failure outweighs a closed gap",
			do: func(tr *Tracker) {
				for i := range 3 {
					tr.Count(h0+int64(i)*HourMs, Live)
				}
				tr.Count(h0+HourMs+5, REST)
				tr.Note(h0+HourMs+5, Degraded, ReasonWSGap, BackfillClosed)
				tr.Note(h0+2*HourMs, Degraded, ReasonWSGap, BackfillClosed)
				tr.Note(h0+2*HourMs+1, Degraded, ReasonWSGap, BackfillFailed)
			},
			want: []Hour{
				{Time: h0, State: Present, Source: "live", Records: 1},
				{Time: h0 + HourMs, State: Degraded, Source: "rest+live", Reason: ReasonWSGap, Backfill: BackfillClosed, Records: 2},
				{Time: h0 + 2*HourMs, State: Degraded, Source: "live", Reason: ReasonWSGap, Backfill: BackfillFailed, Records: 1},
			},
		},
		{
			name: "candles: short hours degraded, records outside the range not counted", expect: perMinute,
			do: func(tr *Tracker) {
				for m := range int64(60) {
					tr.Count(h0+m*60_000, Archive)
				}
				tr.Count(h0+HourMs, Archive)
				tr.Count(h0-1, Archive)
				tr.Count(h0+3*HourMs, Archive)
			},
			want: []Hour{
				{Time: h0, State: Present, Source: "archive", Records: 60, Expected: 60},
				{Time: h0 + HourMs, State: Degraded, Source: "archive", Reason: ReasonShort(1, 60), Records: 1, Expected: 60},
				{Time: h0 + 2*HourMs, State: Missing, Reason: ReasonNoRecords, Expected: 60},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker("BTCUSDT", "api_trades", h0, h0+3*HourMs, tc.expect)
			tc.do(tr)
			// Through JSON, as the ledger travels in the finished event.
			raw, err := json.Marshal(Result{Coverage: []Ledger{tr.Ledger()}})
			if err != nil {
				t.Fatal(err)
			}
			var r Result
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			got := r.Coverage[0].Hours()
			for i := range tc.want {
				tc.want[i].Symbol, tc.want[i].Type = "BTCUSDT", "api_trades"
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("hours (-want +got):\n%s", d)
			}
		})
	}
}

func TestTrackerGrowsWithoutEnd(t *testing.T) {
	tr := NewTracker("BTCUSDT", "ws_trades", h0+30*60_000, 0, nil)
	tr.Count(h0+2*HourMs, Live)
	hs := tr.Ledger().Hours()
	states := []State{}
	for _, h := range hs {
		states = append(states, h.State)
	}
	if want := []State{Missing, Missing, Present}; !slices.Equal(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	tr.End(h0 + 4*HourMs)
	if n := len(tr.Ledger().Hours()); n != 4 {
		t.Errorf("%d hours after End, want 4", n)
	}
}

func TestSummarizeAndHoles(t *testing.T) {
	hs := []Hour{
		{Symbol: "BTCUSDT", Type: "api_trades", Time: h0, State: Present},
		{Symbol: "BTCUSDT", Type: "api_trades", Time: h0 + HourMs, State: Degraded, Reason: ReasonWSGap, Backfill: BackfillClosed},
		{Symbol: "BTCUSDT", Type: "api_trades", Time: h0 + 2*HourMs, State: Missing, Reason: ReasonNoRecords},
		{Symbol: "BTCUSDT", Type: "api_trades", Time: h0 + 3*HourMs, State: Missing, Reason: ReasonNoRecords},
	}
	got := Summarize(hs, h0, h0+5*HourMs)
	want := Summary{Hours: 5, Present: 1, Degraded: 1, Missing: 2, Unknown: 1}
	if got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if s := Summarize(hs[:1], h0, h0+HourMs); !s.Complete {
		t.Errorf("one present hour of one: %+v, want complete", s)
	}
	wantHoles := []string{
		"BTCUSDT api_trades 2024-03-01T01:00Z degraded: websocket gap (backfill closed)",
		"BTCUSDT api_trades 2024-03-01T02:00Z..2024-03-01T03:00Z missing: " + ReasonNoRecords,
	}
	if d := cmp.Diff(wantHoles, Holes(hs)); d != "" {
		t.Errorf("holes (-want +got):\n%s", d)
	}
}
