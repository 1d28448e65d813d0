package market

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// TestFeedFollowsTheTopics: on a real (embedded) broker, the feed reads a
// live stream's topics into frames — the book from its snapshot and diff,
// every trade counted — and once nothing streams the symbol it says so and
// ends.
func TestFeedFollowsTheTopics(t *testing.T) {
	const trades, book = "wf-1-trades-data", "wf-1-book-data"
	b, err := embedded.Start(embedded.Options{Topics: []string{trades, book}, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	testFeed(t, b.Config(), trades, book)
}

// testFeed runs TestFeedFollowsTheTopics on the broker cfg reaches, whose
// topics trades and book exist.
func testFeed(t *testing.T, cfg bus.Config, trades, book string) {
	prod, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().UnixMilli()
	publish := func(topic string, v any) {
		t.Helper()
		val, _ := json.Marshal(v)
		if err := prod.Publish(ctx, topic, []byte("k"), val); err != nil {
			t.Fatal(err)
		}
	}
	publish(book, binance.BookSnapshot{Symbol: "ETHUSDT", Time: now, LastUpdateID: 100, Bids: []Level{{99, 1}, {98, 1}}, Asks: []Level{{101, 2}}})
	publish(book, binance.BookDiff{Symbol: "ETHUSDT", Time: now, FirstUpdateID: 101, FinalUpdateID: 102, Bids: []Level{{100, 3}}, Asks: []Level{{101, 0}, {102, 1}}})
	const n = 500
	for i := range int64(n) {
		publish(trades, binance.AggTrade{Symbol: "ETHUSDT", Time: now + i, AggID: i + 1, Price: 100, Qty: 0.5})
	}

	var streaming atomic.Bool
	streaming.Store(true)
	f := &Feed{Bus: cfg, Every: 20 * time.Millisecond, Resolve: 50 * time.Millisecond, Log: zerolog.Nop(),
		Find: func(context.Context, string) (Live, error) {
			if !streaming.Load() {
				return Live{}, nil
			}
			return Live{Workflow: "wf-1", Topics: map[string]Stream{trades: Trades, book: Book}}, nil
		}}
	defer f.Close()
	var last Frame
	done := make(chan error, 1)
	frames := make(chan Frame, 1000)
	go func() {
		done <- f.Stream(ctx, "ETHUSDT", func(fr Frame) error { frames <- fr; return nil })
	}()
	for got := false; !got; {
		select {
		case last = <-frames:
			got = last.TradeCount == n && len(last.Asks) > 0 && last.Asks[0][0] == 102
		case <-ctx.Done():
			t.Fatalf("the feed never showed the %d trades and the book after its diff; last frame: %+v", n, last)
		}
	}
	if !last.Live || last.Workflow != "wf-1" || !last.Synced {
		t.Fatalf("frame %+v: want live, workflow wf-1, book synced", last)
	}
	if want := []Level{{100, 3}, {99, 1}, {98, 1}}; len(last.Bids) != 3 || last.Bids[0] != want[0] {
		t.Fatalf("bids %v, want %v", last.Bids, want)
	}
	if last.Spread != 2 || last.Mid != 101 {
		t.Fatalf("spread %v mid %v, want 2 and 101", last.Spread, last.Mid)
	}
	streaming.Store(false)
	for {
		select {
		case fr := <-frames:
			if !fr.Live {
				if err := <-done; err != nil {
					t.Fatalf("Stream: %v", err)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("the stream ended upstream but the feed never said so")
		}
	}
}

// TestFeedWithoutStream: nothing streams the symbol: one frame says so and
// the feed ends (a client asks again later).
func TestFeedWithoutStream(t *testing.T) {
	f := &Feed{Find: func(context.Context, string) (Live, error) { return Live{}, nil }, Log: zerolog.Nop()}
	var got []Frame
	if err := f.Stream(context.Background(), "ETHUSDT", func(fr Frame) error { got = append(got, fr); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Live || got[0].Symbol != "ETHUSDT" || got[0].Bids == nil {
		t.Fatalf("frames %+v: want one, not live, with empty (not null) lists", got)
	}
}
