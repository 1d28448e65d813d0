package market

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// BenchmarkHub: n clients of one symbol follow a fixed stream — a book
// snapshot, 2,000 diffs and 20,000 trades, published beforehand — through
// the broker until each has seen all of it; records/s is the stream's
// records over that time. One client is the baseline (make bench reports
// 4 and 16 as ratios against it): with the readers shared, each client
// added costs a frame per tick, not a read of the topics.
func BenchmarkHub(b *testing.B) {
	b.Run("baseline=subscribers=1", func(b *testing.B) { benchHub(b, 1) })
	for _, n := range []int{4, 16} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchHub(b, n) })
	}
}

func benchHub(b *testing.B, n int) {
	const trades, diffs = 20_000, 2_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	br := newTestBroker(b)
	admin, err := bus.NewAdmin(br.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	done := func(f Frame) bool { return f.TradeCount == trades && len(f.Asks) > 0 && f.Asks[0] == Level{101, 7} }
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		tt, bt := fmt.Sprintf("bench-%d-trades-data", i), fmt.Sprintf("bench-%d-book-data", i)
		if err := admin.EnsureTopics(ctx, bus.TopicSpec{Name: tt, Partitions: 1}, bus.TopicSpec{Name: bt, Partitions: 1}); err != nil {
			b.Fatal(err)
		}
		now := time.Now().UnixMilli()
		book := []any{binance.BookSnapshot{Symbol: "ETHUSDT", Time: now, LastUpdateID: 1, Bids: []Level{{99, 1}}, Asks: []Level{{101, 1}}}}
		for d := range int64(diffs) {
			ask := []Level{}
			if d == diffs-1 {
				ask = []Level{{101, 7}}
			}
			book = append(book, binance.BookDiff{Symbol: "ETHUSDT", Time: now, FirstUpdateID: d + 2, FinalUpdateID: d + 2, Bids: []Level{{float64(90 + d%9), float64(d % 3)}}, Asks: ask})
		}
		br.publish(b, ctx, bt, book...)
		ts := make([]any, trades)
		for t := range int64(trades) {
			ts[t] = binance.AggTrade{Symbol: "ETHUSDT", Time: now + t/20, AggID: t + 1, Price: float64(100 + t%7), Qty: 0.5, BuyerMaker: t%2 == 0}
		}
		br.publish(b, ctx, tt, ts...)
		var live atomic.Pointer[Live]
		live.Store(&Live{Workflow: "wf", Topics: map[string]Stream{tt: Trades, bt: Book}})
		f := hubFeed(br, &live, nil, time.Millisecond)
		b.StartTimer()

		clients := make([]*client, n)
		for c := range clients {
			clients[c] = watch(ctx, f, nil)
		}
		for _, c := range clients {
			c.until(b, ctx, "the whole stream", done)
		}
		for _, c := range clients {
			c.leave(b)
		}

		b.StopTimer()
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64((trades+diffs+1)*b.N)/b.Elapsed().Seconds(), "records/s")
}
