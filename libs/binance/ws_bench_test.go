package binance

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// BenchmarkWSDecodeDispatch measures the client end to end against the simulator flooding one aggTrade stream:
// reading frames, splitting the envelope, de-duplicating, calling fn and decoding the event with
// ParseAggTradeEvent. One op is one message; msgs/s is the throughput, which the simulator (on the same CPUs)
// bounds from below.
func BenchmarkWSDecodeDispatch(b *testing.B) {
	_, base := startWSSim(b, time.Now, binancesim.WSOptions{Rate: 5_000_000})
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@aggTrade"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	var last int64
	err = c.Run(context.Background(), func(m WSMessage) error {
		if n == 0 {
			b.ResetTimer() // the connection is open and the stream flowing
		}
		a, err := ParseAggTradeEvent(m.Data)
		if err != nil {
			return err
		}
		if last != 0 && a.AggID != last+1 {
			b.Errorf("agg id %d after %d", a.AggID, last)
		}
		last = a.AggID
		if n++; n >= b.N {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkWSSustained20k streams 20,000 messages a second and reports the latency from the trade's time (the
// simulator publishes a trade when the clock reaches it) to fn: p50 and p99 in milliseconds. One op is one message,
// so the run lasts b.N/20,000 seconds.
func BenchmarkWSSustained20k(b *testing.B) {
	const rate = 20_000
	_, base := startWSSim(b, time.Now, binancesim.WSOptions{Rate: rate})
	c, err := NewWSClient(WSOptions{URL: base, Streams: []string{"btcusdt@aggTrade"}})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]float64, 0, b.N)
	n := 0
	err = c.Run(context.Background(), func(m WSMessage) error {
		a, err := ParseAggTradeEvent(m.Data)
		if err != nil {
			return err
		}
		if n > rate/10 { // after the first 100 ms, which hold the catch-up from the connection's opening
			lat = append(lat, float64(m.Received.UnixMicro()-a.Time*1000)/1000)
		}
		if n++; n >= b.N+rate/10 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		b.Fatal(err)
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}
