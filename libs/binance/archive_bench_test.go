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
// as JSON (the download is done once, outside the timer), the general way
// and the loader's way.
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

	month, err := arch.FetchKlines(ctx, "BTCUSDT", iv, binance.Monthly, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = month.Close() })
	day, err := arch.FetchAggTrades(ctx, "BTCUSDT", binance.Daily, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = day.Close() })

	// via=structs parses each row into a record and encodes it; via=text
	// (what the loader does) writes the JSON straight from the CSV text.
	loads := []struct {
		name          string
		structs, text func(add func(t int64, rec []byte) error) error
	}{
		{"data=candles-1m-month", func(add func(int64, []byte) error) error {
			var buf []byte
			return month.Klines("BTCUSDT", iv, func(c binance.Candle) error {
				buf = c.AppendJSON(buf[:0])
				return add(c.OpenTime, buf)
			})
		}, func(add func(int64, []byte) error) error { return month.KlinesJSON("BTCUSDT", iv, add) }},
		{"data=trades-day", func(add func(int64, []byte) error) error {
			var buf []byte
			return day.AggTrades("BTCUSDT", func(a binance.AggTrade) error {
				buf = a.AppendJSON(buf[:0])
				return add(a.Time, buf)
			})
		}, func(add func(int64, []byte) error) error { return day.AggTradesJSON("BTCUSDT", add) }},
	}
	for _, l := range loads {
		for _, via := range []struct {
			name string
			run  func(add func(int64, []byte) error) error
		}{{"via=structs", l.structs}, {"via=text", l.text}} {
			b.Run(l.name+"/"+via.name, func(b *testing.B) {
				out := make([]byte, 0, 4<<20)
				var n int
				add := func(_ int64, rec []byte) error {
					if len(out) > 3<<20 {
						out = out[:0]
					}
					out = append(out, rec...)
					n++
					return nil
				}
				b.ReportAllocs()
				for b.Loop() {
					n = 0
					if err := via.run(add); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
