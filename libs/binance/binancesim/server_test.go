package binancesim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// kline is the documented 12-element array; json.Number keeps the integers exact.
type kline [12]any

type aggTradeJSON struct {
	A int64  `json:"a"`
	P string `json:"p"`
	Q string `json:"q"`
	F int64  `json:"f"`
	L int64  `json:"l"`
	T int64  `json:"T"`
	M bool   `json:"m"`
	B bool   `json:"M"`
}

func klineRow(c Candle) kline {
	return kline{float64(c.OpenTime), fixed(c.Open), fixed(c.High), fixed(c.Low), fixed(c.Close), fixed(c.Volume),
		float64(c.CloseTime), strconv.FormatFloat(c.QuoteVolume, 'f', 8, 64), float64(c.Trades), fixed(c.TakerBuyVolume),
		strconv.FormatFloat(c.TakerBuyQuoteVolume, 'f', 8, 64), "0"}
}

func aggRow(a AggTrade) aggTradeJSON {
	return aggTradeJSON{A: a.ID, P: fixed(a.Price), Q: fixed(a.Qty), F: a.FirstTradeID, L: a.LastTradeID, T: a.Time,
		M: a.BuyerMaker, B: true}
}

func TestResponseShapes(t *testing.T) {
	_, base, clk := newTestSim(t, Options{})

	if got := string(get(t, base, "/api/v3/ping", nil).body); got != "{}" {
		t.Errorf("ping body = %s, want {}", got)
	}
	tm := decode[struct {
		ServerTime int64 `json:"serverTime"`
	}](t, get(t, base, "/api/v3/time", nil))
	if tm.ServerTime != clk.Now().UnixMilli() {
		t.Errorf("serverTime = %d, want %d", tm.ServerTime, clk.Now().UnixMilli())
	}

	var info struct {
		RateLimits []struct {
			RateLimitType, Interval string
			IntervalNum, Limit      int
		} `json:"rateLimits"`
		Symbols []struct {
			Symbol, Status string
		} `json:"symbols"`
	}
	r := get(t, base, "/api/v3/exchangeInfo", nil)
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatalf("decode exchangeInfo: %v", err)
	}
	if rl := info.RateLimits[0]; rl.RateLimitType != "REQUEST_WEIGHT" || rl.Interval != "MINUTE" || rl.IntervalNum != 1 || rl.Limit != 6000 {
		t.Errorf("first rate limit = %+v, want REQUEST_WEIGHT 6000/1 MINUTE", rl)
	}
	if len(info.Symbols) != 4 || info.Symbols[0].Symbol != "BTCUSDT" || info.Symbols[0].Status != "TRADING" {
		t.Errorf("symbols = %+v", info.Symbols)
	}

	kl := decode[[]kline](t, get(t, base, "/api/v3/klines", vals("symbol", "ETHUSDT", "interval", "5m", "limit", "3")))
	if len(kl) != 3 {
		t.Fatalf("klines len = %d, want 3", len(kl))
	}
	for i, want := range []string{"float64", "string", "string", "string", "string", "string", "float64", "string", "float64", "string", "string", "string"} {
		if got := typeName(kl[0][i]); got != want {
			t.Errorf("kline field %d is %s, want %s", i, got, want)
		}
	}
	// Without startTime the latest candles are returned; the last one contains now.
	if open := int64(kl[2][0].(float64)); open != Interval("5m").Floor(clk.Now().UnixMilli()) {
		t.Errorf("last kline opens at %d, want the candle of now", open)
	}

	trades := decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT", "limit", "5")))
	if len(trades) != 5 || !trades[0].B || trades[0].P == "" {
		t.Errorf("aggTrades = %+v, want 5 documented objects", trades)
	}
	for _, tr := range trades {
		if tr.T > clk.Now().UnixMilli() {
			t.Errorf("trade %d at %d is after now", tr.A, tr.T)
		}
	}

	depth := decode[struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}](t, get(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "5")))
	if depth.LastUpdateID <= 0 || len(depth.Bids) != 5 || len(depth.Asks) != 5 {
		t.Errorf("depth = %+v", depth)
	}
	bid, _ := strconv.ParseFloat(depth.Bids[0][0], 64)
	ask, _ := strconv.ParseFloat(depth.Asks[0][0], 64)
	if bid >= ask {
		t.Errorf("best bid %v >= best ask %v", bid, ask)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case float64:
		return "float64"
	case string:
		return "string"
	}
	return "other"
}

func TestQueryErrors(t *testing.T) {
	_, base, _ := newTestSim(t, Options{})
	tests := []struct {
		name   string
		path   string
		params []string
		code   int
	}{
		{"unknown symbol", "/api/v3/klines", []string{"symbol", "FOOBAR", "interval", "1m"}, -1121},
		{"missing symbol", "/api/v3/klines", []string{"interval", "1m"}, -1102},
		{"bad interval", "/api/v3/klines", []string{"symbol", "BTCUSDT", "interval", "7m"}, -1120},
		{"missing interval", "/api/v3/klines", []string{"symbol", "BTCUSDT"}, -1102},
		{"limit too big", "/api/v3/klines", []string{"symbol", "BTCUSDT", "interval", "1m", "limit", "1001"}, -1130},
		{"malformed time", "/api/v3/klines", []string{"symbol", "BTCUSDT", "interval", "1m", "startTime", "x"}, -1100},
		{"inverted range", "/api/v3/klines", []string{"symbol", "BTCUSDT", "interval", "1m", "startTime", "2000", "endTime", "1000"}, -1128},
		{"fromId with time", "/api/v3/aggTrades", []string{"symbol", "BTCUSDT", "fromId", "1", "startTime", "0"}, -1128},
		{"depth unknown symbol", "/api/v3/depth", []string{"symbol", "btcusdt"}, -1121},
		{"depth limit zero", "/api/v3/depth", []string{"symbol", "BTCUSDT", "limit", "0"}, -1130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, base, tt.path, vals(tt.params...))
			var body apiErrorBody
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("decode %s: %v", r.body, err)
			}
			if r.status != http.StatusBadRequest || body.Code != tt.code {
				t.Errorf("got %d %+v, want 400 code %d", r.status, body, tt.code)
			}
		})
	}
}

func TestKlinesPagination(t *testing.T) {
	t.Parallel()
	sim, base, _ := newTestSim(t, Options{})
	tests := []struct {
		interval Interval
		from, to time.Time
		limit    int
	}{
		{"1m", time.Date(2025, 1, 30, 22, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 3, 7, 0, 0, time.UTC), 1000},
		{"1h", time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), 333},
		{"1s", time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 3, 0, 40, 0, 0, time.UTC), 1000},
		{"1M", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 5},
	}
	for _, tt := range tests {
		t.Run(string(tt.interval), func(t *testing.T) {
			want, err := sim.Market().Candles("BTCUSDT", tt.interval, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []kline
			next := tt.from.UnixMilli()
			for pages := 0; ; pages++ {
				page := decode[[]kline](t, get(t, base, "/api/v3/klines", vals("symbol", "BTCUSDT",
					"interval", string(tt.interval), "startTime", strconv.FormatInt(next, 10), "endTime", ms(tt.to),
					"limit", strconv.Itoa(tt.limit))))
				got = append(got, page...)
				if len(page) < tt.limit || pages > 100 {
					break
				}
				next = tt.interval.Next(int64(page[len(page)-1][0].(float64)))
			}
			if len(got) != len(want) {
				t.Fatalf("got %d candles, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != klineRow(want[i]) {
					t.Fatalf("candle %d = %v, want %v", i, got[i], klineRow(want[i]))
				}
				if i > 0 && int64(got[i][0].(float64)) != tt.interval.Next(int64(got[i-1][0].(float64))) {
					t.Fatalf("gap or duplicate between candles %d and %d", i-1, i)
				}
			}
		})
	}
}

func TestAggTradesFromIDPagination(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{})
	from := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 4, 0, 0, 0, time.UTC).Add(-time.Millisecond)
	want, err := sim.Market().AggTrades("BTCUSDT", from, to)
	if err != nil {
		t.Fatal(err)
	}
	first := decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT",
		"startTime", ms(from), "endTime", ms(from.Add(time.Hour)), "limit", "1")))
	if len(first) != 1 {
		t.Fatalf("no trade in the first hour")
	}
	var got []aggTradeJSON
	for next := first[0].A; ; {
		page := decode[[]aggTradeJSON](t, get(t, base, "/api/v3/aggTrades", vals("symbol", "BTCUSDT",
			"fromId", strconv.FormatInt(next, 10), "limit", "1000")))
		done := false
		for _, tr := range page {
			if tr.T > to.UnixMilli() {
				done = true
				break
			}
			got = append(got, tr)
		}
		if done || len(page) == 0 {
			break
		}
		next = page[len(page)-1].A + 1
	}
	if len(got) != len(want) {
		t.Fatalf("got %d trades, want %d", len(got), len(want))
	}
	var trades int64
	for i := range got {
		if got[i] != aggRow(want[i]) {
			t.Fatalf("trade %d = %+v, want %+v", i, got[i], aggRow(want[i]))
		}
		if i > 0 && (got[i].A != got[i-1].A+1 || got[i].F != got[i-1].L+1) {
			t.Fatalf("ids not contiguous at %d: %+v after %+v", i, got[i], got[i-1])
		}
		trades += got[i].L - got[i].F + 1
	}
	klines := decode[[]kline](t, get(t, base, "/api/v3/klines", vals("symbol", "BTCUSDT", "interval", "1h",
		"startTime", ms(from), "endTime", ms(to))))
	var fromKlines int64
	for _, k := range klines {
		fromKlines += int64(k[8].(float64))
	}
	if len(klines) != 8 || fromKlines != trades {
		t.Errorf("klines: %d candles with %d trades, want 8 candles with %d trades", len(klines), fromKlines, trades)
	}
}

func TestDeterminism(t *testing.T) {
	paths := []string{
		"/api/v3/klines?symbol=SOLUSDT&interval=15m&startTime=1735689600000&limit=1000",
		"/api/v3/aggTrades?symbol=ETHUSDT&fromId=1000&limit=1000",
		"/api/v3/depth?symbol=BNBUSDT&limit=50",
		"/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-05.zip",
	}
	_, a, _ := newTestSim(t, Options{})
	_, b, _ := newTestSim(t, Options{})
	_, other, _ := newTestSim(t, Options{Market: testMarket(7)})
	for _, p := range paths {
		ra, rb, ro := get(t, a, p, nil), get(t, b, p, nil), get(t, other, p, nil)
		if ra.status != http.StatusOK || string(ra.body) != string(rb.body) {
			t.Errorf("%s: same seed served different bytes (status %d)", p, ra.status)
		}
		if string(ra.body) == string(ro.body) {
			t.Errorf("%s: a different seed served the same bytes", p)
		}
	}
}

func TestKlinesWindowSemantics(t *testing.T) {
	_, base, clk := newTestSim(t, Options{})
	now := clk.Now().UnixMilli() // 2025-02-10 12:00:30
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		name        string
		params      []string
		first, last int64
		n           int
	}{
		{"latest", []string{"limit", "10"}, Interval("1m").Floor(now) - 9*msPerMinute, Interval("1m").Floor(now), 10},
		{"endTime only", []string{"endTime", strconv.FormatInt(at("2025-01-05T10:00:00Z"), 10), "limit", "3"},
			at("2025-01-05T09:58:00Z"), at("2025-01-05T10:00:00Z"), 3},
		{"startTime mid-candle", []string{"startTime", strconv.FormatInt(at("2025-01-05T10:00:00Z")+1, 10), "limit", "2"},
			at("2025-01-05T10:01:00Z"), at("2025-01-05T10:02:00Z"), 2},
		{"both inclusive", []string{"startTime", strconv.FormatInt(at("2025-01-05T10:00:00Z"), 10),
			"endTime", strconv.FormatInt(at("2025-01-05T10:05:00Z"), 10)}, at("2025-01-05T10:00:00Z"), at("2025-01-05T10:05:00Z"), 6},
		{"future is cut at now", []string{"startTime", strconv.FormatInt(now-90_000, 10), "endTime", strconv.FormatInt(now+3_600_000, 10)},
			Interval("1m").Floor(now) - msPerMinute, Interval("1m").Floor(now), 2},
		{"before the market", []string{"endTime", strconv.FormatInt(at("2024-11-30T00:00:00Z"), 10)}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode[[]kline](t, get(t, base, "/api/v3/klines", vals(append([]string{"symbol", "BNBUSDT", "interval", "1m"}, tt.params...)...)))
			if len(got) != tt.n {
				t.Fatalf("got %d candles, want %d", len(got), tt.n)
			}
			if tt.n == 0 {
				return
			}
			if first, last := int64(got[0][0].(float64)), int64(got[len(got)-1][0].(float64)); first != tt.first || last != tt.last {
				t.Errorf("open times %d..%d, want %d..%d", first, last, tt.first, tt.last)
			}
		})
	}
}

func TestCurrentCandleHoldsTradesUntilNow(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{Market: func() MarketConfig {
		cfg := testMarket(42)
		cfg.Symbols[0].AggTradesPerSecond = 1 // enough trades on both sides of now
		return cfg
	}()})
	now := clk.Now()
	open := time.UnixMilli(Interval("1h").Floor(now.UnixMilli())).UTC()
	trades, err := sim.Market().AggTrades("BTCUSDT", open, now)
	if err != nil {
		t.Fatal(err)
	}
	later, err := sim.Market().AggTrades("BTCUSDT", now.Add(time.Millisecond), open.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(trades) == 0 || len(later) == 0 {
		t.Fatalf("want trades before and after now, got %d and %d", len(trades), len(later))
	}
	var want int64
	for _, a := range trades {
		want += a.LastTradeID - a.FirstTradeID + 1
	}
	got := decode[[]kline](t, get(t, base, "/api/v3/klines", vals("symbol", "BTCUSDT", "interval", "1h", "limit", "1")))
	if len(got) != 1 || int64(got[0][8].(float64)) != want || got[0][4] != fixed(trades[len(trades)-1].Price) {
		t.Errorf("current candle = %v, want %d trades closing at %s", got, want, fixed(trades[len(trades)-1].Price))
	}
}
