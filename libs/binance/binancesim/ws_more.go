package binancesim

import (
	"strconv"
	"strings"
)

// The book and ticker streams of web-socket-streams.md: "Partial Book Depth Streams" (<symbol>@depth<levels> and
// @depth<levels>@100ms, levels 5, 10 or 20, every 1000 or 100 ms), "Individual Symbol Book Ticker Streams"
// (<symbol>@bookTicker, on every change of the best bid or ask), "Individual Symbol Ticker Streams" (<symbol>@ticker,
// every 1000 ms) and "Individual Symbol Mini Ticker Stream" (<symbol>@miniTicker, every 1000 ms). They read the same
// book and market as /api/v3/depth and ticker/24hr.

// parseMoreKind sets sub's kind for the streams of this file and reports whether kind is one of them.
func parseMoreKind(sub *wsSub, kind string) bool {
	switch kind {
	case "bookTicker":
		sub.kind = kindBookTicker
		return true
	case "ticker":
		sub.kind, sub.period = kindTicker, 1000
		return true
	case "miniTicker":
		sub.kind, sub.period = kindMiniTicker, 1000
		return true
	}
	levels, speed, _ := strings.Cut(strings.TrimPrefix(kind, "depth"), "@")
	if !strings.HasPrefix(kind, "depth") || (levels != "5" && levels != "10" && levels != "20") {
		return false
	}
	switch speed {
	case "", "1000ms":
		sub.period = 1000
	case "100ms":
		sub.period = 100
	default:
		return false
	}
	sub.kind, sub.levels = kindPartial, map[string]int{"5": 5, "10": 10, "20": 20}[levels]
	return true
}

// sendMore sends what is due on a stream of this file.
func (c *wsConn) sendMore(sub *wsSub, nowMs int64) error {
	h := c.hub
	switch sub.kind {
	case kindBookTicker:
		id, bid, ask := h.books.top(sub.sym, nowMs)
		if id == sub.last {
			return nil
		}
		sub.last = id
		b := strconv.AppendInt(append(make([]byte, 0, 160), `{"u":`...), id, 10)
		b = append(append(append(b, `,"s":"`...), sub.symbol...), `","b":"`...)
		b = appendFixed(b, bid.price)
		b = appendFixed(append(b, `","B":"`...), bid.qty)
		b = appendFixed(append(b, `","a":"`...), ask.price)
		b = appendFixed(append(b, `","A":"`...), ask.qty)
		return c.send(sub.name, append(b, `"}`...))
	case kindPartial, kindTicker, kindMiniTicker:
		if nowMs-sub.updated < sub.period {
			return nil
		}
		sub.updated = nowMs
	}
	switch sub.kind {
	case kindPartial:
		return c.send(sub.name, h.books.snapshotJSON(sub.sym, nowMs, sub.levels))
	case kindTicker, kindMiniTicker:
		st := h.s.rolling24h(sub.sym, nowMs)
		return c.send(sub.name, appendTickerEvent(nil, sub, st, nowMs, c.unit))
	}
	return nil
}

// appendTickerEvent writes a 24hrTicker or 24hrMiniTicker event.
func appendTickerEvent(b []byte, sub *wsSub, st stats24h, nowMs int64, unit timeUnit) []byte {
	k := st.c
	mini := sub.kind == kindMiniTicker
	if mini {
		b = append(b, `{"e":"24hrMiniTicker","E":`...)
	} else {
		b = append(b, `{"e":"24hrTicker","E":`...)
	}
	b = unit.instant(b, nowMs)
	b = append(append(append(b, `,"s":"`...), sub.symbol...), '"')
	if !mini {
		b = append(append(append(b, `,"p":"`...), st.priceChange...), `","P":"`...)
		b = append(b, st.pctStr...)
		b = appendFloat(append(b, `","w":"`...), st.weightedAvg)
		b = appendFixed(append(b, `","x":"`...), st.prevClose)
		b = append(b, '"')
	}
	b = appendFixed(append(b, `,"c":"`...), k.Close)
	if !mini {
		b = appendFixed(append(b, `","Q":"`...), st.lastQty)
		b = appendFixed(append(b, `","b":"`...), st.bid.price)
		b = appendFixed(append(b, `","B":"`...), st.bid.qty)
		b = appendFixed(append(b, `","a":"`...), st.ask.price)
		b = appendFixed(append(b, `","A":"`...), st.ask.qty)
	}
	b = appendFixed(append(b, `","o":"`...), k.Open)
	b = appendFixed(append(b, `","h":"`...), k.High)
	b = appendFixed(append(b, `","l":"`...), k.Low)
	b = appendFixed(append(b, `","v":"`...), k.Volume)
	b = appendFloat(append(b, `","q":"`...), k.QuoteVolume)
	if mini {
		return append(b, `"}`...)
	}
	b = unit.instant(append(b, `","O":`...), st.open)
	b = unit.instant(append(b, `,"C":`...), st.close)
	b = strconv.AppendInt(append(b, `,"F":`...), st.firstID, 10)
	b = strconv.AppendInt(append(b, `,"L":`...), st.lastID, 10)
	b = strconv.AppendInt(append(b, `,"n":`...), k.Trades, 10)
	return append(b, '}')
}
