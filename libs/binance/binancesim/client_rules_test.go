package binancesim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// quietSimAndClient is simAndClient on a market of a few trades a minute, starting 2024-08-10, so a month of
// trades is quick to generate.
func quietSimAndClient(t *testing.T, clock *fakeClock) (*binancesim.Sim, *binance.Client, string) {
	t.Helper()
	mc := binancesim.DefaultMarketConfig(7)
	mc.Start = time.Date(2024, 8, 10, 0, 0, 0, 0, time.UTC)
	for i := range mc.Symbols {
		mc.Symbols[i].AggTradesPerSecond = 0.02
	}
	sim := binancesim.New(binancesim.Options{Market: mc, Clock: clock.Now})
	url, stop := sim.Start()
	t.Cleanup(stop)
	c := binance.NewClient(url, binance.ClientOptions{Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 },
		Limiter: binance.NewLimiter(6000, clock.Now, clock.Sleep)})
	return sim, c, url
}

// TestClientReadsAMonthOfTradesWithAHandfulOfCalls: a month of trades whose first trade lies nine days in (the
// market opens 2024-08-10). Since 2022-12-05 aggTrades takes startTime and endTime any distance apart
// (binance-spot-api-docs rest-api.md "Compressed/Aggregate trades list", CHANGELOG.md), so the start is one call,
// where the old hour-by-hour search made 217; the rest are pages of 1000 by fromId.
func TestClientReadsAMonthOfTradesWithAHandfulOfCalls(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 9, 5, 0, 0, 0, 0, time.UTC)}
	sim, c, _ := quietSimAndClient(t, clock)
	from := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	want, err := sim.Market().AggTrades("SOLUSDT", from, to.Add(-time.Millisecond))
	if err != nil || len(want) == 0 {
		t.Fatalf("market: %d trades, %v", len(want), err)
	}
	ctx := context.Background()
	first, ok, err := c.FirstAggTradeID(ctx, "SOLUSDT", from.UnixMilli(), to.UnixMilli())
	if err != nil || !ok || first != want[0].ID {
		t.Fatalf("FirstAggTradeID = %d, %v, %v; want %d", first, ok, err, want[0].ID)
	}
	if n := sim.Stats().Requests["/api/v3/aggTrades"]; n != 1 {
		t.Errorf("finding the month's first trade took %d aggTrades calls, want 1", n)
	}
	n := 0
	err = c.AggTrades(ctx, "SOLUSDT", first, to.UnixMilli(), func(a binance.AggTrade) error {
		if a.AggID != want[n].ID || a.Time != want[n].Time {
			t.Fatalf("trade %d: %+v, market %+v", n, a, want[n])
		}
		n++
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("read %d trades of %d: %v", n, len(want), err)
	}
	pages := len(want)/1000 + 1
	if got := sim.Stats().Requests["/api/v3/aggTrades"]; got != 1+pages {
		t.Errorf("the month took %d aggTrades calls, want %d (one to find the start, %d pages)", got, 1+pages, pages)
	}

	// Before the market opened there is nothing: one call says so.
	before := sim.Stats().Requests["/api/v3/aggTrades"]
	if _, ok, err := c.FirstAggTradeID(ctx, "SOLUSDT", from.UnixMilli(), from.AddDate(0, 0, 9).UnixMilli()); ok || err != nil {
		t.Errorf("nine days before the market: ok %v, err %v", ok, err)
	}
	if got := sim.Stats().Requests["/api/v3/aggTrades"] - before; got != 1 {
		t.Errorf("an empty range took %d calls, want 1", got)
	}
}

// TestClientReadsMicrosecondArchives: 2025+ spot archives carry microsecond times with a real sub-millisecond part
// (CHANGELOG.md 2025-01-01, data.binance.vision); the client truncates them to the trade's millisecond.
func TestClientReadsMicrosecondArchives(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)}
	sim, _, url := quietSimAndClient(t, clock)
	day := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	want, err := sim.Market().AggTrades("BTCUSDT", day, day.Add(24*time.Hour-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sub := 0
	for _, a := range want {
		if a.Micros%1000 != 0 {
			sub++
		}
	}
	if sub < len(want)/2 {
		t.Fatalf("only %d of %d trades have a sub-millisecond time", sub, len(want))
	}
	var got []binance.AggTrade
	err = binance.NewArchive(url, nil, t.TempDir()).AggTrades(context.Background(), "BTCUSDT", binance.Daily, day,
		func(a binance.AggTrade) error {
			got = append(got, a)
			return nil
		})
	if err != nil || len(got) != len(want) {
		t.Fatalf("archive: %d trades of %d, %v", len(got), len(want), err)
	}
	for i := range want {
		if got[i].AggID != want[i].ID || got[i].Time != want[i].Time {
			t.Fatalf("trade %d: client %+v, market %+v", i, got[i], want[i])
		}
	}
}

// TestClientErrorHandling: permanent errors (errors.md, HTTP 400) surface after one attempt with Binance's code
// and message; 5xx and 429 are retried.
func TestClientErrorHandling(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 9, 5, 0, 0, 0, 0, time.UTC)}
	sim, c, _ := quietSimAndClient(t, clock)
	ctx := context.Background()
	iv, _ := binance.ParseInterval("1h")
	from := time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC).UnixMilli()

	var apiErr *binance.APIError
	err := c.Klines(ctx, "NOPEUSDT", iv, from, from+3_600_000, func(binance.Candle) error { return nil })
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Code != -1121 ||
		apiErr.Msg != "Invalid symbol." || apiErr.Attempts != 1 {
		t.Errorf("unknown symbol: %v, want one attempt with 400 -1121 Invalid symbol.", err)
	}
	_, err = c.ExchangeInfo(ctx, "BTCUSDT", "NOPEUSDT")
	if !errors.As(err, &apiErr) || apiErr.Code != -1121 || apiErr.Attempts != 1 {
		t.Errorf("exchangeInfo with an unknown symbol: %v, want -1121 after one attempt", err)
	}
	info, err := c.ExchangeInfo(ctx, "BTCUSDT", "ETHUSDT")
	if err != nil || len(info.Symbols) != 2 || info.Validate("BTCUSDT", "ETHUSDT") != nil {
		t.Errorf("exchangeInfo for two symbols: %+v, %v", info, err)
	}
	book, err := c.Depth(ctx, "BTCUSDT", 6000)
	if err != nil || len(book.Bids) > 5000 || len(book.Bids) == 0 {
		t.Errorf("depth limit 6000: %d bids, %v; want at most 5000 (rest-api.md: truncated, not refused)", len(book.Bids), err)
	}

	sim.Fail5xx(2, http.StatusServiceUnavailable)
	sim.Fail429(1, 2*time.Second)
	n := 0
	err = c.Klines(ctx, "BTCUSDT", iv, from, from+5*3_600_000, func(binance.Candle) error { n++; return nil })
	if err != nil || n != 5 {
		t.Errorf("after two 503s and a 429: %d candles, %v", n, err)
	}
}
