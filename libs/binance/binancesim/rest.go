package binancesim

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// apiError is a Binance error response.
type apiError struct {
	code int
	msg  string
}

func mandatory(name string) *apiError {
	return &apiError{-1102, fmt.Sprintf("Mandatory parameter '%s' was not sent, was empty/null, or malformed.", name)}
}

// intParam parses an optional integer query parameter; ok is false when it is absent.
func intParam(q map[string][]string, name string) (v int64, ok bool, e *apiError) {
	vals := q[name]
	if len(vals) == 0 || vals[0] == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false, &apiError{-1100, fmt.Sprintf("Illegal characters found in parameter '%s'; legal range is '^[0-9]{1,20}$'.", name)}
	}
	return n, true, nil
}

func (s *Sim) symbolParam(q map[string][]string) (string, *apiError) {
	sym := ""
	if v := q["symbol"]; len(v) > 0 {
		sym = v[0]
	}
	if sym == "" {
		return "", mandatory("symbol")
	}
	if _, ok := s.market.symbol(sym); !ok {
		return "", &apiError{-1121, "Invalid symbol."}
	}
	return sym, nil
}

// limitParam parses limit with a default and a maximum; out of range is error -1130.
func limitParam(q map[string][]string, def, maxLimit int64) (int, *apiError) {
	l, ok, e := intParam(q, "limit")
	if e != nil {
		return 0, e
	}
	if !ok {
		return int(def), nil
	}
	if l < 1 || l > maxLimit {
		return 0, &apiError{-1130, "Invalid data sent for a parameter."}
	}
	return int(l), nil
}

func fail(w http.ResponseWriter, e *apiError) {
	writeError(w, http.StatusBadRequest, e.code, e.msg)
}

// appendFixed appends a non-negative 8-decimal fixed-point value the way Binance prints it ("64628.01000000").
func appendFixed(b []byte, v int64) []byte {
	b = strconv.AppendInt(b, v/1e8, 10)
	frac := v % 1e8
	b = append(b, '.')
	for d := int64(1e7); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

func appendFloat(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', 8, 64) }

func (s *Sim) exchangeInfo(w http.ResponseWriter, q map[string][]string) {
	var only map[string]bool
	if v := q["symbol"]; len(v) > 0 && v[0] != "" {
		if _, e := s.symbolParam(q); e != nil {
			fail(w, e)
			return
		}
		only = map[string]bool{v[0]: true}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"timezone":"UTC","serverTime":%d,"rateLimits":[`+
		`{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":%d},`+
		`{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100},`+
		`{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000},`+
		`{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}],"exchangeFilters":[],"symbols":[`,
		s.now(), s.opts.WeightLimit)
	first := true
	for _, sc := range s.market.cfg.Symbols {
		if only != nil && !only[sc.Symbol] {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		tick := strconv.FormatFloat(math.Pow10(-sc.PriceDecimals), 'f', 8, 64)
		step := strconv.FormatFloat(math.Pow10(-sc.QtyDecimals), 'f', 8, 64)
		fmt.Fprintf(&b, `{"symbol":%q,"status":"TRADING","baseAsset":%q,"baseAssetPrecision":8,"quoteAsset":%q,`+
			`"quotePrecision":8,"quoteAssetPrecision":8,"orderTypes":["LIMIT","MARKET"],"isSpotTradingAllowed":true,`+
			`"filters":[{"filterType":"PRICE_FILTER","minPrice":%q,"maxPrice":"1000000.00000000","tickSize":%q},`+
			`{"filterType":"LOT_SIZE","minQty":%q,"maxQty":"9000.00000000","stepSize":%q}],"permissions":[],`+
			`"permissionSets":[["SPOT"]]}`, sc.Symbol, sc.BaseAsset, sc.QuoteAsset, tick, tick, step, step)
	}
	b.WriteString("]}")
	writeJSON(w, b.Bytes())
}

func (s *Sim) klines(w http.ResponseWriter, q map[string][]string) {
	sym, e := s.symbolParam(q)
	if e != nil {
		fail(w, e)
		return
	}
	iv := Interval("")
	if v := q["interval"]; len(v) > 0 {
		iv = Interval(v[0])
	}
	if iv == "" {
		fail(w, mandatory("interval"))
		return
	}
	if !iv.Valid() {
		fail(w, &apiError{-1120, "Invalid interval."})
		return
	}
	start, hasStart, e1 := intParam(q, "startTime")
	end, hasEnd, e2 := intParam(q, "endTime")
	limit, e3 := limitParam(q, 500, 1000)
	for _, e := range []*apiError{e1, e2, e3} {
		if e != nil {
			fail(w, e)
			return
		}
	}
	now := s.now()
	if !hasEnd {
		end = now
	}
	if hasStart && hasEnd && start > end {
		fail(w, &apiError{-1023, "Start time is greater than end time."})
		return
	}
	if !hasStart {
		// Without startTime Binance returns the latest candles up to endTime.
		start = iv.Floor(min(end, now))
		for range limit - 1 {
			start = iv.Floor(start - 1)
		}
	}
	candles, err := s.market.candles(sym, iv, start, end, now, limit)
	if err != nil {
		fail(w, &apiError{-1121, "Invalid symbol."})
		return
	}
	b := make([]byte, 0, 160*len(candles)+2)
	b = append(b, '[')
	for i, c := range candles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(strconv.AppendInt(append(b, '['), c.OpenTime, 10), `,"`...)
		b = appendFixed(b, c.Open)
		b = append(b, `","`...)
		b = appendFixed(b, c.High)
		b = append(b, `","`...)
		b = appendFixed(b, c.Low)
		b = append(b, `","`...)
		b = appendFixed(b, c.Close)
		b = append(b, `","`...)
		b = appendFixed(b, c.Volume)
		b = append(strconv.AppendInt(append(b, `",`...), c.CloseTime, 10), `,"`...)
		b = appendFloat(b, c.QuoteVolume)
		b = append(strconv.AppendInt(append(b, `",`...), c.Trades, 10), `,"`...)
		b = appendFixed(b, c.TakerBuyVolume)
		b = append(b, `","`...)
		b = appendFloat(b, c.TakerBuyQuoteVolume)
		b = append(b, `","0"]`...)
	}
	writeJSON(w, append(b, ']'))
}

// aggTrades serves /api/v3/aggTrades: fromId (inclusive) alone, or a time window of at most one hour, or the most
// recent trades. fromId combined with a time is error -1128, a window longer than an hour is -1127.
func (s *Sim) aggTrades(w http.ResponseWriter, q map[string][]string) {
	sym, e := s.symbolParam(q)
	if e != nil {
		fail(w, e)
		return
	}
	fromID, hasFrom, e1 := intParam(q, "fromId")
	start, hasStart, e2 := intParam(q, "startTime")
	end, hasEnd, e3 := intParam(q, "endTime")
	limit, e4 := limitParam(q, 500, 1000)
	for _, e := range []*apiError{e1, e2, e3, e4} {
		if e != nil {
			fail(w, e)
			return
		}
	}
	now := s.now()
	const hour = 60 * msPerMinute
	var trades []AggTrade
	var err error
	switch {
	case hasFrom && (hasStart || hasEnd):
		fail(w, &apiError{-1128, "Combination of optional parameters invalid."})
		return
	case hasFrom:
		trades, err = s.market.aggTradesFromID(sym, fromID, now, limit)
	case hasStart && hasEnd && end < start:
		fail(w, &apiError{-1023, "Start time is greater than end time."})
		return
	case hasStart && hasEnd && end-start > hour:
		fail(w, &apiError{-1127, "More than 1 hours between startTime and endTime."})
		return
	case hasStart:
		if !hasEnd {
			end = start + hour
		}
		trades, err = s.market.aggTradesByTime(sym, start, min(end, now), limit)
	default:
		if !hasEnd {
			end = now
		}
		trades, err = s.market.lastAggTrades(sym, end-hour, min(end, now), limit)
	}
	if err != nil {
		fail(w, &apiError{-1121, "Invalid symbol."})
		return
	}
	b := make([]byte, 0, 120*len(trades)+2)
	b = append(b, '[')
	for i, t := range trades {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"a":%d,"p":"`, t.ID)
		b = appendFixed(b, t.Price)
		b = append(b, `","q":"`...)
		b = appendFixed(b, t.Qty)
		b = fmt.Appendf(b, `","f":%d,"l":%d,"T":%d,"m":%t,"M":true}`, t.FirstTradeID, t.LastTradeID, t.Time, t.BuyerMaker)
	}
	writeJSON(w, append(b, ']'))
}

// depth serves the symbol's live order book (see ws_book.go) at its current update id, or the recorded snapshot of a
// symbol of the WebSocket replay.
func (s *Sim) depth(w http.ResponseWriter, q map[string][]string) {
	sym := ""
	if v := q["symbol"]; len(v) > 0 {
		sym = v[0]
	}
	replayed := s.ws.replayed(sym)
	if !replayed {
		var e *apiError
		if sym, e = s.symbolParam(q); e != nil {
			fail(w, e)
			return
		}
	}
	limit, e := limitParam(q, 100, 5000)
	if e != nil {
		fail(w, e)
		return
	}
	if replayed {
		body, _, err := s.ws.replayDepth(sym, limit)
		if err != nil {
			writeError(w, http.StatusInternalServerError, -1000, err.Error())
			return
		}
		writeJSON(w, body)
		return
	}
	si, _ := s.market.symbol(sym)
	writeJSON(w, s.ws.books.snapshotJSON(si, s.now(), limit))
}
