package flow

import (
	"context"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestExchangeLoadersCap: history loaders of every workflow share the cap (they share the exchange's weight budget
// per IP); live streams neither count nor wait.
func TestExchangeLoadersCap(t *testing.T) {
	r := newRig(t, "", nil, Options{ExchangeLoaders: 2})
	ctx := context.Background()
	live, err := r.eng.Submit(ctx, Request{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Types: []string{"ws_trades"}, Steps: []string{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	hist := Request{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}}
	a, err := r.eng.Submit(ctx, hist)
	if err != nil {
		t.Fatal(err)
	}
	hist.Types = []string{"api_candles_1m"}
	b, err := r.eng.Submit(ctx, hist)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.get(live.ID); states(got) != "load=running load=running" {
		t.Fatalf("live streams: %s, want both running", states(got))
	}
	gotA, gotB := r.get(a.ID), r.get(b.ID)
	if states(gotA) != "load=running load=running" || states(gotB) != "load=pending load=pending" ||
		gotB.Steps[0].QueuePosition != 1 || gotB.Steps[1].QueuePosition != 2 {
		t.Fatalf("history: %s and %s (positions %d, %d), want the first two running and the others queued 1 and 2",
			states(gotA), states(gotB), gotB.Steps[0].QueuePosition, gotB.Steps[1].QueuePosition)
	}
	r.event(a.Steps[0], protocol.StatusFinished, 1)
	if gotB = r.get(b.ID); states(gotB) != "load=running load=pending" || gotB.Steps[1].QueuePosition != 1 {
		t.Fatalf("after one history loader ended: %s, position %d", states(gotB), gotB.Steps[1].QueuePosition)
	}
}
