package binancesim

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// TestMarketDataEndpoints follows rest-api.md "Market Data endpoints": the shape and weight of /api/v3/trades
// ("Recent trades list", 25), uiKlines ("UIKlines", the klines shape, 2), avgPrice ("Current average price", 2),
// ticker/price ("Symbol price ticker", 2 or 4), ticker/bookTicker ("Symbol order book ticker", 2 or 4) and
// ticker/24hr ("24hr ticker price change statistics", FULL and MINI, 2 for one symbol, 80 for all).
func TestMarketDataEndpoints(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{})
	now := clk.Now().UnixMilli()
	weightOf := func(path string, params ...string) (int, response) {
		t.Helper()
		before := sim.usedWeight("127.0.0.1")
		r := get(t, base, path, vals(params...))
		after, _ := strconv.Atoi(r.header.Get("X-MBX-USED-WEIGHT-1M"))
		return after - before, r
	}

	// trades: the last individual trades, ids consecutive, quantities on the LOT_SIZE step.
	w, r := weightOf("/api/v3/trades", "symbol", "BTCUSDT", "limit", "50")
	type trade struct {
		ID           int64  `json:"id"`
		Price        string `json:"price"`
		Qty          string `json:"qty"`
		QuoteQty     string `json:"quoteQty"`
		Time         int64  `json:"time"`
		IsBuyerMaker bool   `json:"isBuyerMaker"`
		IsBestMatch  bool   `json:"isBestMatch"`
	}
	trades := decode[[]trade](t, r)
	last, _ := sim.market.lastAggTrades("BTCUSDT", now*1000+999, 1)
	if w != 25 || len(trades) != 50 || trades[49].ID != last[0].LastTradeID || trades[49].Time > now {
		t.Errorf("trades: weight %d, %d trades ending at %d; want 25, 50 ending at %d", w, len(trades), trades[len(trades)-1].ID, last[0].LastTradeID)
	}
	for i, tr := range trades {
		if i > 0 && tr.ID != trades[i-1].ID+1 {
			t.Fatalf("trade ids %d then %d", trades[i-1].ID, tr.ID)
		}
		if q, _ := strconv.ParseFloat(tr.Qty, 64); q <= 0 || math.Abs(q*1e5-math.Round(q*1e5)) > 1e-6 {
			t.Errorf("trade %d quantity %s is not a positive multiple of BTCUSDT's step 0.00001", tr.ID, tr.Qty)
		}
	}

	// uiKlines: the klines answer.
	kl := []string{"symbol", "ETHUSDT", "interval", "1h", "limit", "5"}
	w, r = weightOf("/api/v3/uiKlines", kl...)
	if want := get(t, base, "/api/v3/klines", vals(kl...)); w != 2 || !bytes.Equal(r.body, want.body) {
		t.Errorf("uiKlines: weight %d, body %s; want 2 and the klines body", w, r.body)
	}

	// avgPrice.
	w, r = weightOf("/api/v3/avgPrice", "symbol", "BTCUSDT")
	avg := decode[struct {
		Mins      int    `json:"mins"`
		Price     string `json:"price"`
		CloseTime int64  `json:"closeTime"`
	}](t, r)
	if p, _ := strconv.ParseFloat(avg.Price, 64); w != 2 || avg.Mins != 5 || p <= 0 || avg.CloseTime > now {
		t.Errorf("avgPrice: weight %d, %+v", w, avg)
	}

	// ticker/price: one object for symbol, a list otherwise; the last trade's price.
	type price struct {
		Symbol string `json:"symbol"`
		Price  string `json:"price"`
	}
	w, r = weightOf("/api/v3/ticker/price", "symbol", "BTCUSDT")
	if p := decode[price](t, r); w != 2 || p.Price != fixed(last[0].Price) {
		t.Errorf("ticker/price: weight %d, %+v; want 2 and %s", w, p, fixed(last[0].Price))
	}
	w, r = weightOf("/api/v3/ticker/price")
	if ps := decode[[]price](t, r); w != 4 || len(ps) != 4 {
		t.Errorf("ticker/price for all: weight %d, %d symbols", w, len(ps))
	}

	// ticker/bookTicker: the book's best levels, bid below ask.
	type book struct {
		Symbol   string `json:"symbol"`
		BidPrice string `json:"bidPrice"`
		BidQty   string `json:"bidQty"`
		AskPrice string `json:"askPrice"`
		AskQty   string `json:"askQty"`
	}
	w, r = weightOf("/api/v3/ticker/bookTicker", "symbols", `["BTCUSDT","ETHUSDT"]`)
	books := decode[[]book](t, r)
	if w != 4 || len(books) != 2 {
		t.Fatalf("bookTicker: weight %d, %d symbols", w, len(books))
	}
	for _, bk := range books {
		bid, _ := strconv.ParseFloat(bk.BidPrice, 64)
		ask, _ := strconv.ParseFloat(bk.AskPrice, 64)
		if bid <= 0 || ask <= bid {
			t.Errorf("bookTicker %+v: want 0 < bid < ask", bk)
		}
	}

	// ticker/24hr FULL for one symbol: the count is the trades of the last 24 hours.
	type full struct {
		Symbol             string `json:"symbol"`
		PriceChange        string `json:"priceChange"`
		PriceChangePercent string `json:"priceChangePercent"`
		WeightedAvgPrice   string `json:"weightedAvgPrice"`
		PrevClosePrice     string `json:"prevClosePrice"`
		LastPrice          string `json:"lastPrice"`
		LastQty            string `json:"lastQty"`
		BidPrice           string `json:"bidPrice"`
		BidQty             string `json:"bidQty"`
		AskPrice           string `json:"askPrice"`
		AskQty             string `json:"askQty"`
		OpenPrice          string `json:"openPrice"`
		HighPrice          string `json:"highPrice"`
		LowPrice           string `json:"lowPrice"`
		Volume             string `json:"volume"`
		QuoteVolume        string `json:"quoteVolume"`
		OpenTime           int64  `json:"openTime"`
		CloseTime          int64  `json:"closeTime"`
		FirstID            int64  `json:"firstId"`
		LastID             int64  `json:"lastId"`
		Count              int64  `json:"count"`
	}
	w, r = weightOf("/api/v3/ticker/24hr", "symbol", "SOLUSDT")
	f := decode[full](t, r)
	day, err := sim.Market().AggTrades("SOLUSDT", time.UnixMilli(now-msPerDay+1), time.UnixMilli(now))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, a := range day {
		n += a.LastTradeID - a.FirstTradeID + 1
	}
	if w != 2 || f.Count != n || f.FirstID != day[0].FirstTradeID || f.LastID != day[len(day)-1].LastTradeID ||
		f.LastPrice != fixed(day[len(day)-1].Price) || f.CloseTime != now {
		t.Errorf("ticker/24hr: weight %d, %+v; want 2, count %d, ids %d..%d", w, f, n, day[0].FirstTradeID, day[len(day)-1].LastTradeID)
	}
	w, r = weightOf("/api/v3/ticker/24hr", "type", "MINI")
	var minis []map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &minis); err != nil || w != 80 || len(minis) != 4 {
		t.Fatalf("ticker/24hr MINI for all: weight %d, %s", w, r.body)
	}
	if _, ok := minis[0]["priceChange"]; ok {
		t.Errorf("a MINI ticker carries priceChange: %s", r.body)
	}
}

// TestTradeQuantitiesRespectLotSize: every individual trade (@trade, /api/v3/trades) of a day gets a positive
// multiple of the symbol's LOT_SIZE stepSize, and the parts add up to the aggregate trade's quantity. Before, the
// quantity was divided evenly off the step (0.00333333 of a 0.01 step) and could be zero.
func TestTradeQuantitiesRespectLotSize(t *testing.T) {
	m, err := NewMarket(DefaultMarketConfig(3))
	if err != nil {
		t.Fatal(err)
	}
	for s, sc := range m.cfg.Symbols {
		step := pow10(8 - sc.QtyDecimals)
		multi := 0
		for _, a := range m.dayTrades(s, 3) {
			parts := splitQty(a, step)
			if len(parts) > 1 {
				multi++
			}
			var sum int64
			for _, q := range parts {
				if q <= 0 || q%step != 0 {
					t.Fatalf("%s trade %d: part %d of %d is not a positive multiple of the step %d", sc.Symbol, a.ID, q, a.Qty, step)
				}
				sum += q
			}
			if sum != a.Qty {
				t.Fatalf("%s trade %d: parts add up to %d, not %d", sc.Symbol, a.ID, sum, a.Qty)
			}
		}
		if multi == 0 {
			t.Fatalf("%s: no aggregate trade of several trades: the test did not test splitting", sc.Symbol)
		}
	}
}

// TestWSBookAndTickerStreams follows web-socket-streams.md: "Partial Book Depth Streams" ({lastUpdateId, bids,
// asks}, 5/10/20 levels), "Individual Symbol Book Ticker Streams" ({u,s,b,B,a,A}), "Individual Symbol Ticker
// Streams" (24hrTicker), "Individual Symbol Mini Ticker Stream" (24hrMiniTicker) and "Diff. Depth Stream"
// (<symbol>@depth@1000ms).
func TestWSBookAndTickerStreams(t *testing.T) {
	_, base, clk := newTestSim(t, Options{WS: WSOptions{PingInterval: time.Hour}})
	streams := "btcusdt@depth5/ethusdt@depth10@100ms/btcusdt@bookTicker/btcusdt@ticker/ethusdt@miniTicker/btcusdt@depth@1000ms"
	c := dialWS(t, base, "/stream?streams="+streams)
	advance(clk, 5*time.Second, 500*time.Millisecond)
	seen := map[string]int{}
	for len(seen) < 6 {
		var env wsEnvelope
		strict(t, readMsg(t, c), &env)
		seen[env.Stream]++
		switch env.Stream {
		case "btcusdt@depth5", "ethusdt@depth10@100ms":
			var d struct {
				LastUpdateID int64       `json:"lastUpdateId"`
				Bids         [][2]string `json:"bids"`
				Asks         [][2]string `json:"asks"`
			}
			strict(t, env.Data, &d)
			want := map[string]int{"btcusdt@depth5": 5, "ethusdt@depth10@100ms": 10}[env.Stream]
			if d.LastUpdateID <= 0 || len(d.Bids) != want || len(d.Asks) != want || d.Bids[0][0] >= d.Asks[0][0] {
				t.Errorf("%s: %s", env.Stream, env.Data)
			}
		case "btcusdt@bookTicker":
			var bt struct {
				U int64  `json:"u"`
				S string `json:"s"`
			}
			if err := json.Unmarshal(env.Data, &bt); err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(env.Data, &raw)
			if len(raw) != 6 || bt.U <= 0 || bt.S != "BTCUSDT" {
				t.Errorf("bookTicker: %s", env.Data)
			}
		case "btcusdt@ticker", "ethusdt@miniTicker":
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(env.Data, &raw); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"btcusdt@ticker": 23, "ethusdt@miniTicker": 9}[env.Stream]
			if len(raw) != want {
				t.Errorf("%s has %d members, want %d: %s", env.Stream, len(raw), want, env.Data)
			}
		case "btcusdt@depth@1000ms":
			var d wsDepth
			strict(t, env.Data, &d)
			if d.E != "depthUpdate" || d.U > d.Uu {
				t.Errorf("depth@1000ms: %s", env.Data)
			}
		default:
			t.Fatalf("message of unsubscribed stream %q", env.Stream)
		}
	}
}
