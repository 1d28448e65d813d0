package flow

import (
	"context"
	"testing"
	"time"
)

// TestLaunchCarriesTheKindsDeadline: every run of a history step is
// launched with its kind's deadline; a live stream's steps, which run until
// stopped, with none.
func TestLaunchCarriesTheKindsDeadline(t *testing.T) {
	deadlines := map[string]time.Duration{KindLoad: time.Hour, KindStore: 2 * time.Hour}
	for _, tt := range []struct {
		name string
		req  Request
		want []time.Duration // by launch: loader, connector
	}{
		{"history", Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
			Steps: []string{KindLoad, KindStore}}, []time.Duration{time.Hour, 2 * time.Hour}},
		{"live", Request{Symbols: []string{"BTCUSDT"}, Types: []string{"ws_trades"}, Steps: []string{KindLoad, KindStore}},
			[]time.Duration{0, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "", nil, Options{Deadlines: deadlines})
			if _, err := r.eng.Submit(context.Background(), tt.req); err != nil {
				t.Fatal(err)
			}
			specs := r.l.specs()
			if len(specs) != len(tt.want) {
				t.Fatalf("%d launches, want %d", len(specs), len(tt.want))
			}
			for i, s := range specs {
				if s.Deadline != tt.want[i] {
					t.Errorf("%s launched with deadline %s, want %s", s.Service, s.Deadline, tt.want[i])
				}
			}
		})
	}
}
