package e2e

import (
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/testkit"
)

// The history loaders against the simulator's REST answers. The simulator
// runs on the wall clock, as the exchange does, so that a range can reach
// the part that has no archive yet (today) and past now.

var intervalLen = map[string]time.Duration{
	"1s": time.Second, "1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "1h": time.Hour,
	"1d": 24 * time.Hour,
}

// source is what a range is meant to be loaded from: the test fails when
// the loader did otherwise, as then it would not test what it says.
type source struct{ archives, rest bool }

// loadHistory runs a history loader over [from, to) against a simulator of
// its own, and returns the simulator's URL, the topic's records and the
// wall-clock times just before the loader started and after it ended.
func loadHistory(t *testing.T, cfg bus.Config, market binancesim.MarketConfig, symbol, typ string, from, to time.Time, want source,
	env ...string) (string, task, []record, time.Time, time.Time) {
	t.Helper()
	sim, url := startSim(t, binancesim.Options{Market: market})
	tk := newTask(t, cfg, symbol, typ, rfc3339ms(from)+"/"+rfc3339ms(to))
	before := time.Now()
	p := startLoader(t, cfg, tk, url, env...)
	if code := p.Wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("%s %s: loader exited %d: %s", typ, symbol, code, testkit.LastLine(p.Stderr()))
	}
	after := time.Now()
	st := sim.Stats().Requests
	rest := st["/api/v3/klines"] + st["/api/v3/aggTrades"]
	if got := st["archive"] > 0; got != want.archives {
		t.Fatalf("%s %s %s: %d archive requests; the range was meant to use archives: %t", typ, symbol, tk.timeRange, st["archive"], want.archives)
	}
	if got := rest > 0; got != want.rest {
		t.Fatalf("%s %s %s: %d REST data requests; the range was meant to use REST: %t", typ, symbol, tk.timeRange, rest, want.rest)
	}
	return url, tk, readTopic(t, cfg, tk.topic), before, after
}

// quietMarket is the default market at a tenth of its trade rates: the
// simulator derives every candle from the trades, and a month of them at
// the default rates would take most of the test's time.
func quietMarket() binancesim.MarketConfig {
	m := binancesim.DefaultMarketConfig(0)
	for i := range m.Symbols {
		m.Symbols[i].AggTradesPerSecond /= 10
	}
	return m
}

// testDiffCandles loads candles at several intervals, across month and day
// archives and REST, and compares every candle with the simulator's REST
// kline of the same open time. The topic must hold exactly the candles of
// the range that were closed when the loader ran: a range reaching past now
// must not store the candle still open then.
func testDiffCandles(t *testing.T, cfg bus.Config) {
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	lastMonth := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	restOnly := []string{"LOADER_ARCHIVES=false"}
	cases := []struct {
		name, symbol, interval string
		from, to               time.Time
		src                    source
		env                    []string
	}{
		// The last day of the month before last, last month's archive,
		// this month's days; today is still open. Archives only: without
		// the edge days' cross-check, which asks REST.
		{"1d month and day archives", "BTCUSDT", "1d", lastMonth.AddDate(0, 0, -1), today, source{archives: true},
			[]string{"LOADER_CROSS_CHECK=false"}},
		// The same, and today's closed hours over REST.
		{"1h month and day archives and REST", "ETHUSDT", "1h", lastMonth.AddDate(0, 0, -1), now.Truncate(time.Hour),
			source{true, now.Truncate(time.Hour).After(today)}, nil},
		// From 18:00 of the day before last month: the part of a day archive.
		{"5m month and day archives and REST", "SOLUSDT", "5m", lastMonth.AddDate(0, 0, -1).Add(18 * time.Hour), now.Truncate(5 * time.Minute),
			source{true, now.Truncate(5 * time.Minute).After(today)}, nil},
		{"1m day archives and REST", "BNBUSDT", "1m", today.AddDate(0, 0, -1).Add(-2 * time.Hour), now.Truncate(time.Minute),
			source{true, now.Truncate(time.Minute).After(today)}, nil},
		{"15m REST only", "BTCUSDT", "15m", today.AddDate(0, 0, -2), now.Truncate(15 * time.Minute), source{rest: true}, restOnly},
		// Ranges past now: the candle open at the loader's now is not final.
		// Today has a closed hour for REST to load only after 01:00.
		{"1h day archive and REST past now", "SOLUSDT", "1h", today.AddDate(0, 0, -1), now.Add(3 * time.Hour),
			source{true, now.Truncate(time.Hour).After(today)}, nil},
		{"1m REST only past now", "ETHUSDT", "1m", now.Truncate(time.Minute).Add(-90 * time.Minute), now.Add(30 * time.Minute), source{rest: true}, restOnly},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, tk, recs, before, after := loadHistory(t, cfg, quietMarket(), c.symbol, "api_candles_"+c.interval, c.from, c.to, c.src, c.env...)
			iv := intervalLen[c.interval].Milliseconds()
			from, to := c.from.UnixMilli(), c.to.UnixMilli()
			// Closed before the loader started: required. Closed while it
			// ran: the loader's now lies in between, either is right.
			closed, unsure := min(to, before.UnixMilli()), min(to, after.UnixMilli())
			ref := refKlines(t, url, c.symbol, c.interval, from, unsure-1)
			want := map[int64]storedCandle{}
			maybe := map[int64]storedCandle{}
			for o, k := range ref {
				switch {
				case o+iv <= closed:
					want[o] = k
				case o+iv <= unsure:
					maybe[o] = k
				}
			}
			if len(want) == 0 {
				t.Fatalf("the simulator has no closed candle in %s", tk.timeRange)
			}
			compareCandles(t, tk, recs, want, func(open int64) string {
				switch {
				case open < from || open >= to:
					return "its open time " + msTime(open) + " is outside the range"
				case open+iv > unsure:
					return "it was still open when the loader ran: it closes at " + msTime(open+iv) +
						", the loader ended at " + msTime(after.UnixMilli())
				}
				return ""
			}, maybe)
			t.Logf("%s: %d candles compared (%d closing while the loader ran), %d messages", tk.timeRange, len(want), len(maybe), len(recs))
		})
	}
}

// testDiffTrades loads aggregate trades from a day archive and over REST and
// compares every trade with the simulator's REST aggTrades answer of the
// same id, every field including the maker side.
func testDiffTrades(t *testing.T, cfg bus.Config) {
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	hour := now.Truncate(time.Hour)
	cases := []struct {
		name, symbol string
		from, to     time.Time
		src          source
		env          []string
	}{
		// Six hours inside a past day: the part of a day archive.
		{"day archive", "BNBUSDT", today.AddDate(0, 0, -3).Add(6 * time.Hour), today.AddDate(0, 0, -3).Add(12 * time.Hour),
			source{archives: true}, nil},
		{"REST", "BTCUSDT", hour.Add(-3 * time.Hour), hour.Add(-time.Hour), source{rest: true}, []string{"LOADER_ARCHIVES=false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, tk, recs, _, _ := loadHistory(t, cfg, binancesim.MarketConfig{}, c.symbol, "api_trades", c.from, c.to, c.src, c.env...)
			want := refAggTrades(t, url, c.symbol, c.from.UnixMilli(), c.to.UnixMilli())
			if len(want) < 1000 {
				t.Fatalf("the simulator has %d trades in %s: widen the range", len(want), tk.timeRange)
			}
			compareTrades(t, tk, recs, want)
			t.Logf("%s: %d trades compared, %d messages", tk.timeRange, len(want), len(recs))
		})
	}
}
