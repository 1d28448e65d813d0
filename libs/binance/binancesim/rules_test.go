package binancesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The tests in this file check the simulator against Binance's spot documentation (binance-spot-api-docs:
// rest-api.md, errors.md, CHANGELOG.md); each names the section it follows.

// getHeader is get with request headers.
func getHeader(t *testing.T, base, path string, params url.Values, header map[string]string) response {
	t.Helper()
	u := base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func us(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// TestAggTradesTimeWindow follows rest-api.md "Compressed/Aggregate trades list" and CHANGELOG.md 2022-12-05:
// startTime and endTime no longer need to be within one hour, and either may be sent alone; endTime alone returns
// the most recent trades before it, up to limit (default 500, max 1000).
func TestAggTradesTimeWindow(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{})
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	day, err := sim.Market().AggTrades("BTCUSDT", from, from.Add(24*time.Hour))
	if err != nil || len(day) < 600 {
		t.Fatalf("market: %d trades on the first day, %v", len(day), err)
	}
	ids := func(ts []aggTradeJSON) []int64 {
		out := make([]int64, len(ts))
		for i, a := range ts {
			out[i] = a.A
		}
		return out
	}
	marketIDs := func(ts []AggTrade) []int64 {
		out := make([]int64, len(ts))
		for i, a := range ts {
			out[i] = a.ID
		}
		return out
	}

	// A month between startTime and endTime: the first trades of the month.
	got := decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT", "startTime", ms(from),
		"endTime", ms(to), "limit", "3")))
	if want := marketIDs(day[:3]); !slices.Equal(ids(got), want) {
		t.Errorf("a month's window: ids %v, want %v", ids(got), want)
	}
	// startTime alone, default limit 500.
	got = decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT", "startTime", ms(from))))
	if want := marketIDs(day[:500]); !slices.Equal(ids(got), want) {
		t.Errorf("startTime alone: %d trades from %v, want 500 from %d", len(got), ids(got)[:1], want[0])
	}
	// endTime alone: the most recent trades at or before it, oldest first.
	end := time.UnixMilli(day[600].Time)
	got = decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT", "endTime", ms(end), "limit", "1000")))
	var before []AggTrade
	for _, a := range day {
		if a.Time <= end.UnixMilli() {
			before = append(before, a)
		}
	}
	// A day on either side of midnight too: the window crosses into the previous day.
	prev, err := sim.Market().AggTrades("BTCUSDT", from.Add(-24*time.Hour), from.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	all := append(prev, before...)
	if want := marketIDs(all[len(all)-1000:]); !slices.Equal(ids(got), want) {
		t.Errorf("endTime alone: %d trades ending at %d, want 1000 ending at %d", len(got), got[len(got)-1].A, want[len(want)-1])
	}
}

// TestTimestampsInMicroseconds follows CHANGELOG.md (2024-12 / 2025-01) and rest-api.md "General API Information":
// every timestamp parameter may be in milliseconds or microseconds (16 digits), and the header X-MBX-TIME-UNIT:
// MICROSECOND (or microsecond) turns every timestamp of the response into microseconds.
func TestTimestampsInMicroseconds(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{})
	from := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	trades, err := sim.Market().AggTrades("ETHUSDT", from, from.Add(time.Hour))
	if err != nil || len(trades) < 3 {
		t.Fatalf("market: %d trades, %v", len(trades), err)
	}
	second := trades[1]
	if second.Micros%1000 == 0 && trades[2].Micros%1000 == 0 {
		t.Fatalf("the market's trade times have no sub-millisecond part: %d, %d", second.Micros, trades[2].Micros)
	}

	// A microsecond startTime one microsecond after a trade excludes it; the answer is in microseconds.
	r := getHeader(t, base, "/api/v3/aggTrades", vals("symbol", "ETHUSDT", "startTime", strconv.FormatInt(second.Micros+1, 10),
		"limit", "1"), map[string]string{"X-MBX-TIME-UNIT": "MICROSECOND"})
	got := decode[[]aggTradeJSON](t, r)
	if len(got) != 1 || got[0].A != trades[2].ID || got[0].T != trades[2].Micros {
		t.Errorf("µs startTime and µs output: %+v, want trade %d at %d µs", got, trades[2].ID, trades[2].Micros)
	}
	// Without the header the answer is in milliseconds.
	got = decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "ETHUSDT",
		"startTime", strconv.FormatInt(second.Micros, 10), "limit", "1")))
	if len(got) != 1 || got[0].A != second.ID || got[0].T != second.Time {
		t.Errorf("µs startTime, ms output: %+v, want trade %d at %d ms", got, second.ID, second.Time)
	}

	kl := decode[[]kline](t, getHeader(t, base, "/api/v3/klines", vals("symbol", "ETHUSDT", "interval", "1h",
		"startTime", us(from), "limit", "1"), map[string]string{"X-MBX-TIME-UNIT": "microsecond"}))
	open, _ := kl[0][0].(float64)
	closeT, _ := kl[0][6].(float64)
	if len(kl) != 1 || int64(open) != from.UnixMicro() || int64(closeT) != from.Add(time.Hour).UnixMicro()-1 {
		t.Errorf("klines in µs: open %.0f close %.0f, want %d and %d", open, closeT, from.UnixMicro(), from.Add(time.Hour).UnixMicro()-1)
	}
	tm := decode[struct {
		ServerTime int64 `json:"serverTime"`
	}](t, getHeader(t, base, "/api/v3/time", nil, map[string]string{"X-MBX-TIME-UNIT": "MICROSECOND"}))
	if tm.ServerTime != clk.Now().UnixMilli()*1000 {
		t.Errorf("serverTime in µs = %d, want %d", tm.ServerTime, clk.Now().UnixMilli()*1000)
	}

	r = getHeader(t, base, "/api/v3/time", nil, map[string]string{"X-MBX-TIME-UNIT": "NANOSECOND"})
	var e apiErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != http.StatusBadRequest || e.Code != -1100 {
		t.Errorf("unknown time unit: %d %s, want 400 code -1100", r.status, r.body)
	}
}

// TestSpotErrorCodes follows errors.md (spot): HTTP 400 with {"code","msg"} and the documented code of each fault.
func TestSpotErrorCodes(t *testing.T) {
	_, base, _ := newTestSim(t, Options{})
	tests := []struct {
		name  string
		path  string
		query string
		code  int
	}{
		// -1101 TOO_MANY_PARAMETERS: "Duplicate values for a parameter detected."
		{"repeated parameter", "/api/v3/klines", "symbol=BTCUSDT&symbol=ETHUSDT&interval=1m", -1101},
		// -1104 NOT_ALL_SENT_PARAMETERS_WERE_READ.
		{"unknown parameter", "/api/v3/aggTrades", "symbol=BTCUSDT&fromID=1", -1104},
		{"parameter of another endpoint", "/api/v3/depth", "symbol=BTCUSDT&interval=1m", -1104},
		// -1105 PARAM_EMPTY.
		{"empty parameter", "/api/v3/klines", "symbol=&interval=1m", -1105},
		// -1102 MANDATORY_PARAM_EMPTY_OR_MALFORMED.
		{"missing interval", "/api/v3/klines", "symbol=BTCUSDT", -1102},
		// -1100 ILLEGAL_CHARS.
		{"letters in a time", "/api/v3/aggTrades", "symbol=BTCUSDT&startTime=yesterday", -1100},
		// -1120 BAD_INTERVAL.
		{"bad interval", "/api/v3/klines", "symbol=BTCUSDT&interval=2d", -1120},
		// -1121 BAD_SYMBOL, also for a list naming an unknown symbol (rest-api.md "Exchange information").
		{"unknown symbol", "/api/v3/aggTrades", "symbol=BTCUSD", -1121},
		{"unknown symbol in symbols", "/api/v3/exchangeInfo", `symbols=["BTCUSDT","NOPEUSDT"]`, -1121},
		// symbolStatus cannot be combined with symbol or symbols (rest-api.md "Exchange information").
		{"symbolStatus with symbol", "/api/v3/exchangeInfo", "symbol=BTCUSDT&symbolStatus=TRADING", -1102},
		// -1106 PARAM_NOT_REQUIRED.
		{"symbol and symbols", "/api/v3/exchangeInfo", `symbol=BTCUSDT&symbols=["ETHUSDT"]`, -1106},
		// -1128 OPTIONAL_PARAMS_BAD_COMBO: fromId with a time (rest-api.md "Compressed/Aggregate trades list").
		{"fromId with endTime", "/api/v3/aggTrades", "symbol=BTCUSDT&fromId=5&endTime=1736000000000", -1128},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(base + tt.path + "?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest || e.Code != tt.code || e.Msg == "" {
				t.Errorf("got %d %+v, want 400 code %d with a message", resp.StatusCode, e, tt.code)
			}
			// -1023 is a futures code; -1127 no longer applies to aggTrades.
			if e.Code == -1023 || e.Code == -1127 {
				t.Errorf("code %d is not a spot answer here", e.Code)
			}
		})
	}
}

// TestDepthLimitTruncated follows rest-api.md "Order book": a limit above 5000 returns 5000 levels (weight 250),
// it is not refused.
func TestDepthLimitTruncated(t *testing.T) {
	_, base, _ := newTestSim(t, Options{})
	type book struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	big := getHeader(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "6000"), nil)
	b5000 := decode[book](t, getHeader(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "5000"), nil))
	b := decode[book](t, big)
	if len(b.Bids) != len(b5000.Bids) || len(b.Asks) != len(b5000.Asks) || len(b.Bids) == 0 {
		t.Errorf("limit 6000: %d/%d levels, limit 5000: %d/%d", len(b.Bids), len(b.Asks), len(b5000.Bids), len(b5000.Asks))
	}
}

// TestExchangeInfoShape follows rest-api.md "Exchange information" and filters.md: today's symbol members and
// filters, and the symbols and symbolStatus parameters.
func TestExchangeInfoShape(t *testing.T) {
	_, base, _ := newTestSim(t, Options{})
	type symbol struct {
		Symbol                          string            `json:"symbol"`
		Status                          string            `json:"status"`
		BaseAsset                       string            `json:"baseAsset"`
		BaseAssetPrecision              int               `json:"baseAssetPrecision"`
		QuoteAsset                      string            `json:"quoteAsset"`
		QuotePrecision                  int               `json:"quotePrecision"`
		QuoteAssetPrecision             int               `json:"quoteAssetPrecision"`
		BaseCommissionPrecision         int               `json:"baseCommissionPrecision"`
		QuoteCommissionPrecision        int               `json:"quoteCommissionPrecision"`
		OrderTypes                      []string          `json:"orderTypes"`
		IcebergAllowed                  bool              `json:"icebergAllowed"`
		OcoAllowed                      bool              `json:"ocoAllowed"`
		OtoAllowed                      bool              `json:"otoAllowed"`
		QuoteOrderQtyMarketAllowed      bool              `json:"quoteOrderQtyMarketAllowed"`
		AllowTrailingStop               bool              `json:"allowTrailingStop"`
		CancelReplaceAllowed            bool              `json:"cancelReplaceAllowed"`
		IsSpotTradingAllowed            bool              `json:"isSpotTradingAllowed"`
		IsMarginTradingAllowed          bool              `json:"isMarginTradingAllowed"`
		Filters                         []json.RawMessage `json:"filters"`
		Permissions                     []string          `json:"permissions"`
		PermissionSets                  [][]string        `json:"permissionSets"`
		DefaultSelfTradePreventionMode  string            `json:"defaultSelfTradePreventionMode"`
		AllowedSelfTradePreventionModes []string          `json:"allowedSelfTradePreventionModes"`
	}
	type info struct {
		Timezone        string            `json:"timezone"`
		ServerTime      int64             `json:"serverTime"`
		RateLimits      []json.RawMessage `json:"rateLimits"`
		ExchangeFilters []json.RawMessage `json:"exchangeFilters"`
		Symbols         []symbol          `json:"symbols"`
	}
	got := decode[info](t, get(t, base, "/api/v3/exchangeInfo", vals("symbols", `["ETHUSDT","BTCUSDT"]`)))
	if len(got.Symbols) != 2 {
		t.Fatalf("symbols=[ETHUSDT,BTCUSDT]: %d symbols", len(got.Symbols))
	}
	s := got.Symbols[0]
	if s.Symbol != "BTCUSDT" || s.Status != "TRADING" || s.BaseAsset != "BTC" || len(s.PermissionSets) == 0 ||
		s.DefaultSelfTradePreventionMode == "" || len(s.AllowedSelfTradePreventionModes) == 0 {
		t.Errorf("symbol %+v", s)
	}
	var types []string
	for _, f := range s.Filters {
		var ft struct {
			FilterType string `json:"filterType"`
		}
		if err := json.Unmarshal(f, &ft); err != nil {
			t.Fatal(err)
		}
		types = append(types, ft.FilterType)
	}
	want := []string{"PRICE_FILTER", "LOT_SIZE", "ICEBERG_PARTS", "MARKET_LOT_SIZE", "TRAILING_DELTA",
		"PERCENT_PRICE_BY_SIDE", "NOTIONAL", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS"}
	if !slices.Equal(types, want) {
		t.Errorf("filters %v, want %v", types, want)
	}
	if n := len(decode[info](t, get(t, base, "/api/v3/exchangeInfo", vals("symbolStatus", "TRADING"))).Symbols); n != 4 {
		t.Errorf("symbolStatus=TRADING: %d symbols, want 4", n)
	}
	if n := len(decode[info](t, get(t, base, "/api/v3/exchangeInfo", vals("symbolStatus", "HALT"))).Symbols); n != 0 {
		t.Errorf("symbolStatus=HALT: %d symbols, want 0", n)
	}
}

// TestWSTimeUnitMicroseconds follows web-socket-streams.md "General WSS information" and CHANGELOG.md (2025-01):
// timeUnit=MICROSECOND on the connection URL turns every timestamp of the events into microseconds; the trade times
// carry their sub-millisecond part. Any other value is refused.
func TestWSTimeUnitMicroseconds(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{WS: WSOptions{PingInterval: time.Hour}})
	c := dialWS(t, base, "/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/btcusdt@depth@100ms&timeUnit=MICROSECOND")
	advance(clk, 2*time.Minute, 5*time.Second)
	seen := map[string]bool{}
	for len(seen) < 3 {
		var env wsEnvelope
		strict(t, readMsg(t, c), &env)
		seen[env.Stream] = true
		switch env.Stream {
		case "btcusdt@aggTrade":
			var a wsAggTrade
			strict(t, env.Data, &a)
			trades, err := sim.Market().AggTrades("BTCUSDT", time.UnixMilli(a.T/1000), time.UnixMilli(a.T/1000))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range trades {
				if m.ID == a.A {
					found = a.T == m.Micros && a.ET >= minMicros
				}
			}
			if !found {
				t.Errorf("aggTrade %s: T is not the trade's microsecond time", env.Data)
			}
		case "btcusdt@kline_1m":
			var k wsKline
			if err := json.Unmarshal(env.Data, &k); err != nil {
				t.Fatal(err)
			}
			if k.K.T%60_000_000 != 0 || k.K.TT != k.K.T+60_000_000-1 || k.ET < minMicros {
				t.Errorf("kline in µs: %s", env.Data)
			}
		case "btcusdt@depth@100ms":
			var d wsDepth
			strict(t, env.Data, &d)
			if d.ET < minMicros {
				t.Errorf("depthUpdate E in µs: %s", env.Data)
			}
		}
	}
	if r := get(t, base, "/ws/btcusdt@trade", vals("timeUnit", "SECOND")); r.status != http.StatusBadRequest {
		t.Errorf("timeUnit=SECOND: %d %s, want 400", r.status, r.body)
	}
}

// TestWeightPerClientAddress follows rest-api.md "IP Limits": the weight budget belongs to the client's IP, so
// clients behind one address share it and another address has its own.
func TestWeightPerClientAddress(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 2, 10, 12, 0, 30, 0, time.UTC)}
	sim := New(Options{Market: testMarket(42), Clock: clk.Now, WeightLimit: 4})
	h := sim.Handler()
	ping := func(addr string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v3/ping", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Header().Get("X-MBX-USED-WEIGHT-1M")
	}
	// Two connections (ports) of one address count together.
	for i, port := range []string{"1001", "1002", "1003", "1004"} {
		if code, used := ping("10.0.0.1:" + port); code != http.StatusOK || used != strconv.Itoa(i+1) {
			t.Fatalf("ping %d from 10.0.0.1: %d, used %s", i+1, code, used)
		}
	}
	if code, _ := ping("10.0.0.1:1005"); code != http.StatusTooManyRequests {
		t.Errorf("the fifth ping from 10.0.0.1: %d, want 429", code)
	}
	if code, used := ping("10.0.0.2:1001"); code != http.StatusOK || used != "1" {
		t.Errorf("another address: %d, used %s; want 200 and its own count 1", code, used)
	}
}
