package binancesim

import (
	"bytes"
	"math"
	"net/http"
	"strconv"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// The market-data endpoints real clients call besides klines, aggTrades and depth (rest-api.md "Market Data
// endpoints"): /api/v3/trades, uiKlines, avgPrice, ticker/price, ticker/bookTicker and ticker/24hr, and the
// statistics the @ticker, @miniTicker and @bookTicker streams share with them.

// top returns the best bid and ask of symbol s's book at nowMs (zero levels on an empty side).
func (bs *bookSet) top(s int, nowMs int64) (updateID int64, bid, ask level) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.book(s, nowMs)
	bid, ask = b.best(true), b.best(false)
	return b.lastID, bid, ask
}

// stats24h is a rolling 24-hour window ending at a moment, as ticker/24hr and @ticker report it.
type stats24h struct {
	open, close         int64 // window [open, close], epoch ms
	c                   Candle
	prevClose, lastQty  int64
	firstID, lastID     int64 // individual trade ids, -1 without trades
	updateID            int64
	bid, ask            level
	priceChange, pctStr string
	weightedAvg         float64
}

func (s *Sim) rolling24h(sym int, nowMs int64) stats24h {
	m := s.market
	st := stats24h{open: nowMs - msPerDay + 1, close: nowMs}
	st.c = m.candle(sym, st.open, nowMs, nowMs)
	st.firstID, st.lastID = m.tradeIDRange(sym, st.open, nowMs)
	name := m.cfg.Symbols[sym].Symbol
	if before, _ := m.lastAggTrades(name, st.open*1000-1, 1); len(before) == 1 {
		st.prevClose = before[0].Price
	}
	if last, _ := m.lastAggTrades(name, nowMs*1000+999, 1); len(last) == 1 {
		st.lastQty = last[0].Qty
	}
	st.updateID, st.bid, st.ask = s.ws.books.top(sym, nowMs)
	change := st.c.Close - st.c.Open
	st.priceChange = string(appendSigned(nil, change))
	pct := 0.0
	if st.c.Open > 0 {
		pct = float64(change) / float64(st.c.Open) * 100
	}
	st.pctStr = strconv.FormatFloat(pct, 'f', 3, 64)
	if st.c.Volume > 0 {
		st.weightedAvg = st.c.QuoteVolume / (float64(st.c.Volume) / 1e8)
	}
	return st
}

// appendSigned is appendFixed for values that may be negative.
func appendSigned(b []byte, v int64) []byte {
	if v < 0 {
		return appendFixed(append(b, '-'), -v)
	}
	return appendFixed(b, v)
}

// tickerSymbols returns the symbols a ticker endpoint is asked for: one (symbol), a list (symbols) or all, and
// whether the answer is a single object. symbol and symbols together are -1106 (rest-api.md: "Parameter symbol and
// symbols cannot be used in combination").
func (s *Sim) tickerSymbols(q map[string][]string) (syms []int, single bool, e *apiError) {
	one, list := first(q, "symbol"), first(q, "symbols")
	switch {
	case one != "" && list != "":
		return nil, false, &apiError{-1106, "Parameter 'symbols' sent when not required."}
	case one != "":
		i, ok := s.market.symbol(one)
		if !ok {
			return nil, false, &apiError{-1121, "Invalid symbol."}
		}
		return []int{i}, true, nil
	case list != "":
		var names []string
		if err := exactjson.Unmarshal([]byte(list), &names); err != nil || len(names) == 0 {
			return nil, false, &apiError{-1100, `Illegal characters found in parameter 'symbols'; legal range is '^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'.`}
		}
		for _, n := range names {
			i, ok := s.market.symbol(n)
			if !ok {
				return nil, false, &apiError{-1121, "Invalid symbol."}
			}
			syms = append(syms, i)
		}
		return syms, false, nil
	}
	for i := range s.market.cfg.Symbols {
		syms = append(syms, i)
	}
	return syms, false, nil
}

// tickerWeight is the weight of ticker/price and ticker/bookTicker (2 for one symbol, 4 otherwise) and of
// ticker/24hr (2 for 1 to 20 symbols, 40 up to 100, 80 above or for all), per rest-api.md.
func tickerWeight(path string, q map[string][]string) int {
	n := 0 // symbols named; 0 means all
	if first(q, "symbol") != "" {
		n = 1
	} else if list := first(q, "symbols"); list != "" {
		n = bytes.Count([]byte(list), []byte(",")) + 1
	}
	if path != "/api/v3/ticker/24hr" {
		if n == 1 {
			return 2
		}
		return 4
	}
	switch {
	case n >= 1 && n <= 20:
		return 2
	case n >= 21 && n <= 100:
		return 40
	}
	return 80
}

func (s *Sim) tickers(w http.ResponseWriter, path string, q map[string][]string, unit timeUnit) {
	syms, single, e := s.tickerSymbols(q)
	if e == nil && path == "/api/v3/ticker/24hr" {
		if t := first(q, "type"); t != "" && t != "FULL" && t != "MINI" {
			e = &apiError{-1100, "Illegal characters found in parameter 'type'; legal range is 'FULL, MINI'."}
		}
	}
	if e != nil {
		fail(w, e)
		return
	}
	now := s.now()
	var b []byte
	if !single {
		b = append(b, '[')
	}
	for i, sym := range syms {
		if i > 0 {
			b = append(b, ',')
		}
		name := s.market.cfg.Symbols[sym].Symbol
		switch path {
		case "/api/v3/ticker/price":
			price := int64(0)
			if last, _ := s.market.lastAggTrades(name, now*1000+999, 1); len(last) == 1 {
				price = last[0].Price
			}
			b = appendFixed(append(append(append(b, `{"symbol":"`...), name...), `","price":"`...), price)
			b = append(b, `"}`...)
		case "/api/v3/ticker/bookTicker":
			_, bid, ask := s.ws.books.top(sym, now)
			b = append(append(append(b, `{"symbol":"`...), name...), `","bidPrice":"`...)
			b = appendFixed(b, bid.price)
			b = appendFixed(append(b, `","bidQty":"`...), bid.qty)
			b = appendFixed(append(b, `","askPrice":"`...), ask.price)
			b = appendFixed(append(b, `","askQty":"`...), ask.qty)
			b = append(b, `"}`...)
		default:
			b = s.append24hr(b, name, s.rolling24h(sym, now), first(q, "type") == "MINI", unit)
		}
	}
	if !single {
		b = append(b, ']')
	}
	writeJSON(w, b)
}

// append24hr writes one ticker/24hr object, FULL or MINI.
func (s *Sim) append24hr(b []byte, name string, st stats24h, mini bool, unit timeUnit) []byte {
	c := st.c
	b = append(append(append(b, `{"symbol":"`...), name...), '"')
	if !mini {
		b = append(append(append(b, `,"priceChange":"`...), st.priceChange...), `","priceChangePercent":"`...)
		b = append(b, st.pctStr...)
		b = appendFloat(append(b, `","weightedAvgPrice":"`...), st.weightedAvg)
		b = appendFixed(append(b, `","prevClosePrice":"`...), st.prevClose)
		b = append(b, '"')
	}
	b = appendFixed(append(b, `,"lastPrice":"`...), c.Close)
	if !mini {
		b = appendFixed(append(b, `","lastQty":"`...), st.lastQty)
		b = appendFixed(append(b, `","bidPrice":"`...), st.bid.price)
		b = appendFixed(append(b, `","bidQty":"`...), st.bid.qty)
		b = appendFixed(append(b, `","askPrice":"`...), st.ask.price)
		b = appendFixed(append(b, `","askQty":"`...), st.ask.qty)
	}
	b = appendFixed(append(b, `","openPrice":"`...), c.Open)
	b = appendFixed(append(b, `","highPrice":"`...), c.High)
	b = appendFixed(append(b, `","lowPrice":"`...), c.Low)
	b = appendFixed(append(b, `","volume":"`...), c.Volume)
	b = appendFloat(append(b, `","quoteVolume":"`...), c.QuoteVolume)
	b = unit.instant(append(b, `","openTime":`...), st.open)
	b = unit.instant(append(b, `,"closeTime":`...), st.close)
	b = strconv.AppendInt(append(b, `,"firstId":`...), st.firstID, 10)
	b = strconv.AppendInt(append(b, `,"lastId":`...), st.lastID, 10)
	b = strconv.AppendInt(append(b, `,"count":`...), c.Trades, 10)
	return append(b, '}')
}

// avgPrice serves /api/v3/avgPrice: the volume-weighted price of the last 5 minutes (rest-api.md "Current average
// price"), with the close time of the last trade in them.
func (s *Sim) avgPrice(w http.ResponseWriter, q map[string][]string, unit timeUnit) {
	sym, e := s.symbolParam(q)
	if e != nil {
		fail(w, e)
		return
	}
	i, _ := s.market.symbol(sym)
	now := s.now()
	from := now - 5*msPerMinute + 1
	c := s.market.candle(i, from, now, now)
	price := float64(c.Close) / 1e8
	if c.Volume > 0 {
		price = c.QuoteVolume / (float64(c.Volume) / 1e8)
	}
	closeTime := now
	if last, _ := s.market.lastAggTrades(sym, now*1000+999, 1); len(last) == 1 {
		closeTime = last[0].Time
	}
	b := appendFloat([]byte(`{"mins":5,"price":"`), math.Round(price*1e8)/1e8)
	b = unit.instant(append(b, `","closeTime":`...), closeTime)
	writeJSON(w, append(b, '}'))
}

// recentTrades serves /api/v3/trades: the most recent individual trades (rest-api.md "Recent trades list"; limit
// default 500, max 1000). Each aggregate trade's individual trades share its price and time and split its quantity
// on the LOT_SIZE step (splitQty).
func (s *Sim) recentTrades(w http.ResponseWriter, q map[string][]string, unit timeUnit) {
	sym, e := s.symbolParam(q)
	if e != nil {
		fail(w, e)
		return
	}
	limit, e := limitParam(q, 500, 1000)
	if e != nil {
		fail(w, e)
		return
	}
	i, _ := s.market.symbol(sym)
	step := pow10(8 - s.market.cfg.Symbols[i].QtyDecimals)
	aggs, _ := s.market.lastAggTrades(sym, s.now()*1000+999, limit) // each holds at least one trade
	type trade struct {
		id, price, qty int64
		t              AggTrade
	}
	var out []trade
	for _, a := range aggs {
		for k, qty := range splitQty(a, step) {
			out = append(out, trade{a.FirstTradeID + int64(k), a.Price, qty, a})
		}
	}
	out = out[max(0, len(out)-limit):]
	b := make([]byte, 0, 160*len(out)+2)
	b = append(b, '[')
	for k, t := range out {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, `{"id":`...), t.id, 10)
		b = appendFixed(append(b, `,"price":"`...), t.price)
		b = appendFixed(append(b, `","qty":"`...), t.qty)
		b = appendFloat(append(b, `","quoteQty":"`...), float64(t.price)*float64(t.qty)/1e16)
		b = unit.trade(append(b, `","time":`...), t.t)
		b = strconv.AppendBool(append(b, `,"isBuyerMaker":`...), t.t.BuyerMaker)
		b = append(b, `,"isBestMatch":true}`...)
	}
	writeJSON(w, append(b, ']'))
}

// splitQty splits an aggregate trade's quantity over its individual trades on the quantity step (LOT_SIZE
// stepSize), every part at least one step: the first parts take the remainder.
func splitQty(a AggTrade, step int64) []int64 {
	n := a.LastTradeID - a.FirstTradeID + 1
	units := a.Qty / step
	out := make([]int64, n)
	for k := range out {
		u := units / n
		if int64(k) < units%n {
			u++
		}
		out[k] = u * step
	}
	return out
}
