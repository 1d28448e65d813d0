package binancesim

import (
	"math"
	"sort"
	"strconv"
)

// sendDue sends, for every subscription, what has happened since its cursor up to nowMs, then the recorded
// messages that have become due.
func (c *wsConn) sendDue(nowMs int64) error {
	c.mu.Lock()
	subs := append([]*wsSub(nil), c.subs...)
	c.mu.Unlock()
	h := c.hub
	for _, sub := range subs {
		if sub.sym < 0 {
			continue // a symbol the market does not have: only replayed messages
		}
		var err error
		switch sub.kind {
		case kindAggTrade:
			if h.opts.Rate > 0 {
				err = c.sendSynthetic(sub, nowMs)
			} else {
				err = c.sendTrades(sub, nowMs)
			}
		case kindTrade:
			err = c.sendTrades(sub, nowMs)
		case kindKline:
			err = c.sendKline(sub, nowMs)
		case kindDepthFast:
			for _, d := range h.books.diffsAfter(sub.sym, nowMs, sub.last) {
				payload := d.payload
				if c.unit == micros {
					payload = d.appendJSONUnit(nil, sub.symbol, micros)
				}
				if err = c.send(sub.name, payload); err != nil {
					break
				}
				sub.last = d.final
			}
		case kindDepth:
			if nowMs-sub.updated < 1000 {
				continue
			}
			sub.updated = nowMs
			ds := h.books.diffsAfter(sub.sym, nowMs, sub.last)
			if len(ds) == 0 {
				continue
			}
			d := mergeDiffs(ds, nowMs)
			if err = c.send(sub.name, d.appendJSONUnit(nil, sub.symbol, c.unit)); err == nil {
				sub.last = d.final
			}
		default:
			err = c.sendMore(sub, nowMs)
		}
		if err != nil {
			return err
		}
	}
	return c.sendReplay(nowMs)
}

// sendTrades sends the market's aggregate trades (or, for a trade stream, their individual trades) with ids after
// the cursor and times up to nowMs.
func (c *wsConn) sendTrades(sub *wsSub, nowMs int64) error {
	trades, err := c.hub.s.market.aggTradesFromID(sub.symbol, sub.last+1, nowMs, wsMaxBurst)
	if err != nil {
		return err
	}
	var b []byte
	for _, t := range trades {
		tm := t.Time
		if c.unit == micros {
			tm = t.Micros
		}
		if sub.kind == kindAggTrade {
			b = appendAggTrade(b[:0], sub.symbol, t.ID, t.Price, t.Qty, t.FirstTradeID, t.LastTradeID, tm, t.BuyerMaker)
			if err := c.send(sub.name, b); err != nil {
				return err
			}
		} else {
			// The individual trades of an aggregate trade share its price and time and split its quantity on the
			// LOT_SIZE step.
			for k, q := range splitQty(t, pow10(8-c.hub.s.market.cfg.Symbols[sub.sym].QtyDecimals)) {
				b = appendTrade(b[:0], sub.symbol, t.FirstTradeID+int64(k), t.Price, q, tm, t.BuyerMaker)
				if err := c.send(sub.name, b); err != nil {
					return err
				}
			}
		}
		sub.last = t.ID
	}
	return nil
}

// synthID returns the id of the last synthetic trade at or before nowMs.
func (h *wsHub) synthID(nowMs int64) int64 {
	return int64(math.Floor(float64(nowMs-h.epoch) * h.opts.Rate / 1000))
}

// sendSynthetic sends the synthetic trades after the cursor that are due at nowMs (Options.WS.Rate).
func (c *wsConn) sendSynthetic(sub *wsSub, nowMs int64) error {
	h := c.hub
	sc := h.s.market.cfg.Symbols[sub.sym]
	tick := pow10(8 - sc.PriceDecimals)
	base := int64(math.Round(sc.StartPrice*math.Pow10(sc.PriceDecimals))) * tick
	step := pow10(8 - sc.QtyDecimals)
	var b []byte
	for n, end := sub.last+1, min(h.synthID(nowMs), sub.last+wsMaxBurst); n <= end; n++ {
		t := h.epoch + int64(float64(n)*1000/h.opts.Rate)
		if c.unit == micros {
			t *= 1000
		}
		b = appendAggTrade(b[:0], sub.symbol, n, base+(n%100)*tick, (1+n%7)*step, n, n, t, n%2 == 0)
		if err := c.send(sub.name, b); err != nil {
			return err
		}
		sub.last = n
	}
	return nil
}

func appendAggTrade(b []byte, symbol string, id, price, qty, first, last, t int64, buyerMaker bool) []byte {
	b = append(b, `{"e":"aggTrade","E":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"s":"`...)
	b = append(b, symbol...)
	b = append(b, `","a":`...)
	b = strconv.AppendInt(b, id, 10)
	b = appendFixed(append(b, `,"p":"`...), price)
	b = appendFixed(append(b, `","q":"`...), qty)
	b = append(b, `","f":`...)
	b = strconv.AppendInt(b, first, 10)
	b = append(b, `,"l":`...)
	b = strconv.AppendInt(b, last, 10)
	b = append(b, `,"T":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"m":`...)
	b = strconv.AppendBool(b, buyerMaker)
	return append(b, `,"M":true}`...)
}

func appendTrade(b []byte, symbol string, id, price, qty, t int64, buyerMaker bool) []byte {
	b = append(b, `{"e":"trade","E":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"s":"`...)
	b = append(b, symbol...)
	b = append(b, `","t":`...)
	b = strconv.AppendInt(b, id, 10)
	b = appendFixed(append(b, `,"p":"`...), price)
	b = appendFixed(append(b, `","q":"`...), qty)
	b = append(b, `","T":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"m":`...)
	b = strconv.AppendBool(b, buyerMaker)
	return append(b, `,"M":true}`...)
}

// sendKline sends the closing update of a candle that ended since the last tick, then the open candle every 2 s
// (every second for "1s").
func (c *wsConn) sendKline(sub *wsSub, nowMs int64) error {
	m := c.hub.s.market
	open := sub.interval.Floor(nowMs)
	if open != sub.open {
		end := sub.interval.Next(sub.open) - 1
		if err := c.send(sub.name, m.klineEvent(sub, sub.open, end, end, end, true, c.unit)); err != nil {
			return err
		}
		sub.open, sub.updated = open, 0
	}
	every := int64(klineEveryMs)
	if sub.interval == "1s" {
		every = 1000
	}
	if nowMs-sub.updated < every {
		return nil
	}
	sub.updated = nowMs
	return c.send(sub.name, m.klineEvent(sub, open, sub.interval.Next(open)-1, nowMs, nowMs, false, c.unit))
}

// klineEvent encodes the kline event of the candle [open, end] built from the trades up to cutoff.
func (m *Market) klineEvent(sub *wsSub, open, end, cutoff, eventMs int64, closed bool, unit timeUnit) []byte {
	k := m.candle(sub.sym, open, end, cutoff)
	first, last := m.tradeIDRange(sub.sym, open, min(end, cutoff))
	b := make([]byte, 0, 400)
	b = append(b, `{"e":"kline","E":`...)
	b = unit.instant(b, eventMs)
	b = append(b, `,"s":"`...)
	b = append(b, sub.symbol...)
	b = append(b, `","k":{"t":`...)
	b = unit.instant(b, open)
	b = append(b, `,"T":`...)
	b = unit.last(b, end)
	b = append(b, `,"s":"`...)
	b = append(b, sub.symbol...)
	b = append(b, `","i":"`...)
	b = append(b, sub.interval...)
	b = append(b, `","f":`...)
	b = strconv.AppendInt(b, first, 10)
	b = append(b, `,"L":`...)
	b = strconv.AppendInt(b, last, 10)
	b = appendFixed(append(b, `,"o":"`...), k.Open)
	b = appendFixed(append(b, `","c":"`...), k.Close)
	b = appendFixed(append(b, `","h":"`...), k.High)
	b = appendFixed(append(b, `","l":"`...), k.Low)
	b = appendFixed(append(b, `","v":"`...), k.Volume)
	b = append(b, `","n":`...)
	b = strconv.AppendInt(b, k.Trades, 10)
	b = append(b, `,"x":`...)
	b = strconv.AppendBool(b, closed)
	b = appendFloat(append(b, `,"q":"`...), k.QuoteVolume)
	b = appendFixed(append(b, `","V":"`...), k.TakerBuyVolume)
	b = appendFloat(append(b, `","Q":"`...), k.TakerBuyQuoteVolume)
	return append(b, `","B":"0"}}`...)
}

// tradeIDRange returns the first and the last individual trade id of symbol s's aggregate trades with time in
// [from, to], or -1, -1 when there are none.
func (m *Market) tradeIDRange(s int, from, to int64) (first, last int64) {
	from = max(from, m.startMs)
	if to < from {
		return -1, -1
	}
	first, last = -1, -1
	for d := (from - m.startMs) / msPerDay; m.startMs+d*msPerDay <= to; d++ {
		trades := m.dayTrades(s, d)
		i := sort.Search(len(trades), func(i int) bool { return trades[i].Time >= from })
		if i < len(trades) && trades[i].Time <= to {
			first = trades[i].FirstTradeID
			break
		}
	}
	if first < 0 {
		return -1, -1
	}
	for d := (to - m.startMs) / msPerDay; d >= 0 && m.startMs+(d+1)*msPerDay > from; d-- {
		trades := m.dayTrades(s, d)
		i := sort.Search(len(trades), func(i int) bool { return trades[i].Time > to })
		if i > 0 && trades[i-1].Time >= from {
			return first, trades[i-1].LastTradeID
		}
	}
	return -1, -1
}

// lastAggIDAt returns the id of symbol s's last aggregate trade at or before t (0 before the first trade).
func (m *Market) lastAggIDAt(s int, t int64) int64 {
	if t < m.startMs {
		return 0
	}
	d := (t - m.startMs) / msPerDay
	trades := m.dayTrades(s, d)
	i := sort.Search(len(trades), func(i int) bool { return trades[i].Time > t })
	if i > 0 {
		return trades[i-1].ID
	}
	return m.dayAt(d).firstAgg[s] - 1
}

// sendReplay sends the recorded messages that are due, to a connection subscribed to their streams.
func (c *wsConn) sendReplay(nowMs int64) error {
	rec := c.hub.replay
	if rec == nil || c.replayAt >= len(rec.msgs) {
		return nil
	}
	speed := c.hub.opts.ReplaySpeed
	c.mu.Lock()
	subscribed := make(map[string]bool, len(c.subs))
	for _, s := range c.subs {
		subscribed[s.name] = true
	}
	c.mu.Unlock()
	for ; c.replayAt < len(rec.msgs); c.replayAt++ {
		msg := rec.msgs[c.replayAt]
		if speed > 0 && float64(nowMs-c.opened) < float64(msg.offsetMs)/speed {
			return nil
		}
		if !subscribed[msg.stream] {
			continue
		}
		if err := c.sendRecorded(msg); err != nil {
			return err
		}
	}
	return nil
}
