package binance_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// BenchmarkArchiveParseEncode measures the loader's per-record hot path on
// the simulator's archives: inflate, parse the CSV and encode every record
// as JSON (the download is done once, outside the timer).
func BenchmarkArchiveParseEncode(b *testing.B) {
	sim := binancesim.New(binancesim.Options{})
	url, stop := sim.Start()
	b.Cleanup(stop)
	arch := binance.NewArchive(url, nil, b.TempDir())
	ctx := context.Background()
	iv, err := binance.ParseInterval("1m")
	if err != nil {
		b.Fatal(err)
	}

	b.Run("data=candles-1m-month", func(b *testing.B) {
		d, err := arch.FetchKlines(ctx, "BTCUSDT", iv, binance.Monthly, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = d.Close() })
		buf := make([]byte, 0, 4<<20)
		var n int
		b.ReportAllocs()
		for b.Loop() {
			n = 0
			err := d.Klines("BTCUSDT", iv, func(c binance.Candle) error {
				if len(buf) > 3<<20 {
					buf = buf[:0]
				}
				buf = c.AppendJSON(buf)
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("data=trades-day", func(b *testing.B) {
		d, err := arch.FetchAggTrades(ctx, "BTCUSDT", binance.Daily, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = d.Close() })
		buf := make([]byte, 0, 4<<20)
		var n int
		b.ReportAllocs()
		for b.Loop() {
			n = 0
			err := d.AggTrades("BTCUSDT", func(a binance.AggTrade) error {
				if len(buf) > 3<<20 {
					buf = buf[:0]
				}
				buf = a.AppendJSON(buf)
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
