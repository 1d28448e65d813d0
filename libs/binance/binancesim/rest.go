package binancesim

import (
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

func (s *Sim) klines(w http.ResponseWriter, q map[string][]string, unit timeUnit) {
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
	startUs, hasStart, e1 := timeParam(q, "startTime")
	endUs, hasEnd, e2 := timeParam(q, "endTime")
	limit, e3 := limitParam(q, 500, 1000)
	for _, e := range []*apiError{e1, e2, e3} {
		if e != nil {
			fail(w, e)
			return
		}
	}
	// Open times are whole milliseconds: a microsecond bound selects the same candles as its millisecond inside.
	start, end := ceilMs(startUs), floorMs(endUs)
	now := s.now()
	if !hasEnd {
		end = now
	}
	if hasStart && hasEnd && startUs > endUs {
		fail(w, invertedRange)
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
		b = append(unit.instant(append(b, '['), c.OpenTime), `,"`...)
		b = appendFixed(b, c.Open)
		b = append(b, `","`...)
		b = appendFixed(b, c.High)
		b = append(b, `","`...)
		b = appendFixed(b, c.Low)
		b = append(b, `","`...)
		b = appendFixed(b, c.Close)
		b = append(b, `","`...)
		b = appendFixed(b, c.Volume)
		b = append(unit.last(append(b, `",`...), c.CloseTime), `,"`...)
		b = appendFloat(b, c.QuoteVolume)
		b = append(strconv.AppendInt(append(b, `",`...), c.Trades, 10), `,"`...)
		b = appendFixed(b, c.TakerBuyVolume)
		b = append(b, `","`...)
		b = appendFloat(b, c.TakerBuyQuoteVolume)
		b = append(b, `","0"]`...)
	}
	writeJSON(w, append(b, ']'))
}

// invertedRange answers a startTime after endTime. errors.md's -1023 START_TIME_GREATER_THAN_END_TIME is a futures
// code; on spot the nearest documented code is -1128 OPTIONAL_PARAMS_BAD_COMBO.
var invertedRange = &apiError{-1128, "Combination of optional parameters invalid."}

// aggTrades serves /api/v3/aggTrades as rest-api.md "Compressed/Aggregate trades list" documents it since 2022-12-05
// (CHANGELOG.md): fromId (inclusive) alone; startTime and endTime alone or together, with no limit on the window
// (startTime alone: the first trades from it; endTime alone: the most recent trades up to it); neither: the most
// recent trades. fromId combined with a time is error -1128. Times may be milliseconds or microseconds.
func (s *Sim) aggTrades(w http.ResponseWriter, q map[string][]string, unit timeUnit) {
	sym, e := s.symbolParam(q)
	if e != nil {
		fail(w, e)
		return
	}
	fromID, hasFrom, e1 := intParam(q, "fromId")
	startUs, hasStart, e2 := timeParam(q, "startTime")
	endUs, hasEnd, e3 := timeParam(q, "endTime")
	limit, e4 := limitParam(q, 500, 1000)
	for _, e := range []*apiError{e1, e2, e3, e4} {
		if e != nil {
			fail(w, e)
			return
		}
	}
	now := s.now()
	nowUs := now*1000 + 999 // every trade of the current millisecond has happened
	var trades []AggTrade
	var err error
	switch {
	case hasFrom && (hasStart || hasEnd):
		fail(w, &apiError{-1128, "Combination of optional parameters invalid."})
		return
	case hasFrom:
		trades, err = s.market.aggTradesFromID(sym, fromID, now, limit)
	case hasStart && hasEnd && endUs < startUs:
		fail(w, invertedRange)
		return
	case hasStart:
		if !hasEnd {
			endUs = nowUs
		}
		trades, err = s.market.aggTradesByTime(sym, startUs, min(endUs, nowUs), limit)
	default:
		if !hasEnd {
			endUs = nowUs
		}
		trades, err = s.market.lastAggTrades(sym, min(endUs, nowUs), limit)
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
		b = fmt.Appendf(b, `","f":%d,"l":%d,"T":`, t.FirstTradeID, t.LastTradeID)
		b = unit.trade(b, t)
		b = fmt.Appendf(b, `,"m":%t,"M":true}`, t.BuyerMaker)
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
	// rest-api.md "Order book": a limit above 5000 is answered with 5000 levels, not refused.
	limit, e := limitParam(q, 100, math.MaxInt64)
	if e != nil {
		fail(w, e)
		return
	}
	limit = min(limit, 5000)
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
