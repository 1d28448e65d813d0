// Package binancesim is an embeddable, Binance-compatible exchange simulator for tests, the demo and benchmarks. It
// serves the spot REST market-data endpoints, data.binance.vision-style archives and replays of recorded archive
// files, and injects faults on demand. All data is deterministic from a seed and an injected clock.
//
// # Market
//
// Market generates correlated assets (Cholesky of a configurable correlation matrix) as geometric Brownian motion
// with occasional jumps, with an intraday activity pattern (busiest around 14:30 UTC, quieter at weekends). It emits
// aggregate trades with contiguous ids per symbol and derives klines of any interval exactly from them, so the
// kline, aggTrades and archive views always agree. Any period can be computed without generating history: each
// (symbol, day) has its own PRNG streams, and only a cheap day-level walk (open price, trade counts, first ids) runs
// from MarketConfig.Start. The default rate is 2 aggregate trades per second for BTCUSDT (about 5.2 million a month).
//
// Generation is top-down (summary.go): a day's summary gives, per minute, up to six price levels along the price
// path, each with its side, its aggregate and individual trade counts and its quantity. Minute and whole-day candles
// are aggregated from the summary; a day's trades are generated from it only when trades or sub-minute candles are
// asked for, splitting each level's counts and quantity exactly (the minute's first trade at its opening level, the
// last at its closing one, every individual trade at least one LOT_SIZE step), so a candle always equals the
// aggregate of its trades. A summary costs a few draws per minute, about 0.5 ms per day, against about 20 ms for a
// BTCUSDT day of trades. Days are cached (the last few days' summaries, trades and minute candles, every whole-day
// candle) and generated outside the market's lock, so a request that generates days never stalls others or the
// streams (cache.go). The first 1d, 1w or 1M request over days never seen computes one summary per day, a one-off
// warm-up: about 0.6 s for the ~1,070 days from a 2024 start to December 2026 on a two-core machine
// (BenchmarkColdMonthlyKlines), where it took 29 s when whole-day candles were aggregated from generated trades;
// later requests answer in tens of microseconds (BenchmarkLongIntervalKlines).
//
// # REST
//
// GET /api/v3/ping, time, exchangeInfo, klines, uiKlines, aggTrades, trades, depth, avgPrice, ticker/price,
// ticker/bookTicker and ticker/24hr (tickers.go), with Binance's weights (1, 1, 20, 2, 2, 4, 25, 5/25/50/250 by
// depth limit, 2, and 2 to 80 by the number of symbols for the tickers), following binance-spot-api-docs as of 2025 (rules_test.go cites the sections):
// spot error codes with HTTP 400 (-1100, -1101 for a repeated parameter, -1102, -1104 for a parameter the endpoint
// does not read, -1105, -1106, -1120, -1121, -1128, -1130); aggTrades without the old one-hour window (startTime or
// endTime alone, any distance apart); depth limits above 5000 truncated to 5000; timestamps parameters in
// milliseconds or microseconds (16 digits) and microsecond output with X-MBX-TIME-UNIT: MICROSECOND; exchangeInfo
// with today's symbol shape and filters and the symbol, symbols and symbolStatus parameters. Weight is counted per
// client IP per clock minute, rejected requests included, and every REST response
// carries X-MBX-USED-WEIGHT-1M. Over Options.WeightLimit a request gets 429 with Retry-After (seconds to the end of
// the window) and {"code":-1003,...}; once an IP has had Options.BanAfter429 such 429s in one window, its next
// over-budget request gets 418 and the IP is banned for Options.BanDuration (418 with Retry-After to the ban's end).
// Stats exposes the accounting, so a test can prove a client never exceeded the budget (MaxWeightUsed <= limit).
//
// # Archives
//
// /data/spot/{daily,monthly}/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<date>.zip and
// /data/spot/{daily,monthly}/aggTrades/<SYMBOL>/<SYMBOL>-aggTrades-<date>.zip, each with a .CHECKSUM file
// ("<sha256>  <name>.zip"). The zip holds one header-less CSV; times are microseconds for periods from 2025-01-01, as
// on the real site, and a trade's microseconds carry a real sub-millisecond part. Periods not fully before the clock are 404. Options.Replay serves recorded CSV files instead.
//
// # Faults
//
// Fail429, Ban, Fail5xx, Slow and Drop inject faults into the next requests (REST and archive; Ban affects REST only)
// and ClearFaults cancels them. They apply before weight accounting, at most one kind per request, in this order:
// dropped connection, 5xx, 429, ban (418), latency; a request answered by a fault is not charged weight. Stats
// counts each kind. Stats.EarlyRetries counts REST requests that arrived before the Retry-After of a 429 or 418
// sent to the same IP was over, so a test can prove a client waits as told.
//
// # WebSocket streams
//
// /stream?streams=a/b (combined, {"stream":...,"data":...}) and /ws/<stream> (raw) carry <symbol>@aggTrade, @trade
// (quantities split on the LOT_SIZE step), @kline_<interval>, @depth / @depth@1000ms / @depth@100ms, the partial
// books @depth5/10/20[@100ms], @bookTicker, @ticker and @miniTicker (ws_more.go) in Binance's payload shapes, every
// timestamp in microseconds with ?timeUnit=MICROSECOND on the URL, with SUBSCRIBE, UNSUBSCRIBE and
// LIST_SUBSCRIPTIONS requests, 1024 streams and 5 incoming messages per second per connection. Trades are the
// market's own aggregate trades as the clock passes them; depth diffs and /api/v3/depth read one order book per
// symbol, so a client following Binance's "manage a local order book" rules stays in sync; the book keeps 4000 levels
// per side around the moving price (ws_book_depth.go), so it stays two-sided and deep while the price trends. The server pings
// (WSOptions.PingInterval) and cuts clients that do not answer, cuts connections at WSOptions.MaxLifetime (Binance's
// 24 h, compressed in tests), and can drop every connection (DropWS) or skip depth update ids (InjectDepthGap).
// WSOptions.Rate streams synthetic trades at a fixed rate for load tests; WSOptions.Replay sends a recorded stream
// (the cryptofeed format of the fixtures' ws-recording) with its REST depth snapshots. See ws.go.
package binancesim
