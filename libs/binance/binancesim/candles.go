package binancesim

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Interval is a Binance kline interval such as "1s", "5m" or "1M".
type Interval string

// intervalMs holds the fixed-length intervals; "1M" (calendar month) is handled separately.
var intervalMs = map[Interval]int64{
	"1s": 1000, "1m": msPerMinute, "3m": 3 * msPerMinute, "5m": 5 * msPerMinute, "15m": 15 * msPerMinute,
	"30m": 30 * msPerMinute, "1h": 60 * msPerMinute, "2h": 120 * msPerMinute, "4h": 240 * msPerMinute,
	"6h": 360 * msPerMinute, "8h": 480 * msPerMinute, "12h": 720 * msPerMinute, "1d": msPerDay,
	"3d": 3 * msPerDay, "1w": 7 * msPerDay,
}

// Valid reports whether i is one of Binance's kline intervals.
func (i Interval) Valid() bool {
	_, ok := intervalMs[i]
	return ok || i == "1M"
}

// Floor returns the open time of the candle containing t (epoch ms). Weeks open on Monday 00:00 UTC and months on
// the 1st, as on Binance; other intervals are aligned to the Unix epoch (unverified for "3d"). i must be valid.
func (i Interval) Floor(t int64) int64 {
	if i == "1M" {
		tm := time.UnixMilli(t).UTC()
		return time.Date(tm.Year(), tm.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	d := intervalMs[i]
	off := int64(0)
	if i == "1w" {
		off = 4 * msPerDay // 1970-01-01 was a Thursday; the first Monday is four days later
	}
	return floorDiv(t-off, d)*d + off
}

// Next returns the open time of the candle after the one opening at open. i must be valid.
func (i Interval) Next(open int64) int64 {
	if i == "1M" {
		return time.UnixMilli(open).UTC().AddDate(0, 1, 0).UnixMilli()
	}
	return open + intervalMs[i]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Candles returns the candles of symbol whose open time lies in [from, to] (inclusive), derived exactly from the
// aggregate trades. Candles without trades repeat the simulated mid price with zero volume. Candles before the
// market's start are omitted. It returns an error for an unknown symbol or interval.
func (m *Market) Candles(symbol string, interval Interval, from, to time.Time) ([]Candle, error) {
	return m.candles(symbol, interval, from.UnixMilli(), to.UnixMilli(), math.MaxInt64, math.MaxInt)
}

// candles returns at most limit candles with open time in [from, to], built from trades at or before cutoff only
// (the simulator's "now"); candles opening after cutoff do not exist yet.
func (m *Market) candles(symbol string, iv Interval, from, to, cutoff int64, limit int) ([]Candle, error) {
	s, ok := m.symbol(symbol)
	if !ok {
		return nil, fmt.Errorf("unknown symbol %q", symbol)
	}
	if !iv.Valid() {
		return nil, fmt.Errorf("unknown interval %q", iv)
	}
	to = min(to, cutoff)
	open := iv.Floor(max(from, m.startMs))
	if open < from {
		open = iv.Next(open)
	}
	var out []Candle
	for ; open <= to && len(out) < limit; open = iv.Next(open) {
		end := iv.Next(open) - 1
		out = append(out, m.candle(s, open, end, cutoff))
	}
	return out, nil
}

// candle builds the candle [open, end] of symbol s from trades at or before cutoff.
func (m *Market) candle(s int, open, end, cutoff int64) Candle {
	c := Candle{OpenTime: open, CloseTime: end}
	first := true
	for t := max(open, m.startMs); t <= end && t <= cutoff; {
		d := (t - m.startMs) / msPerDay
		dayStart := m.startMs + d*msPerDay
		dayEnd := dayStart + msPerDay - 1
		if t == dayStart && dayEnd <= min(end, cutoff) {
			// Whole days come from the day-candle cache.
			mergeCandle(&c, m.dayCandle(s, d), &first)
			t = dayEnd + 1
			continue
		}
		if t%msPerMinute == 0 && t+msPerMinute-1 <= min(end, cutoff) {
			// Whole minutes come from the per-day minute cache.
			mins := m.dayMinutes(s, d)
			for ; t+msPerMinute-1 <= min(end, cutoff, dayEnd); t += msPerMinute {
				mergeCandle(&c, mins[(t-m.startMs)%msPerDay/msPerMinute], &first)
			}
			continue
		}
		stop := min(end, cutoff, dayEnd, (t/msPerMinute+1)*msPerMinute-1)
		mergeCandle(&c, fromTrades(m.dayTrades(s, d), t, stop), &first)
		t = stop + 1
	}
	if first {
		p := m.midPrice(s, open)
		c.Open, c.High, c.Low, c.Close = p, p, p, p
	}
	return c
}

// mergeCandle adds the later candle x (times ignored) to c; first is true while c has no trade yet.
func mergeCandle(c *Candle, x Candle, first *bool) {
	if x.Trades == 0 {
		return
	}
	if *first {
		c.Open, c.High, c.Low = x.Open, x.High, x.Low
		*first = false
	}
	c.High, c.Low, c.Close = max(c.High, x.High), min(c.Low, x.Low), x.Close
	c.Volume += x.Volume
	c.QuoteVolume += x.QuoteVolume
	c.Trades += x.Trades
	c.TakerBuyVolume += x.TakerBuyVolume
	c.TakerBuyQuoteVolume += x.TakerBuyQuoteVolume
}

// fromTrades aggregates the trades with time in [from, to] into a candle (times left unset).
func fromTrades(trades []AggTrade, from, to int64) Candle {
	i := sort.Search(len(trades), func(i int) bool { return trades[i].Time >= from })
	var c Candle
	for ; i < len(trades) && trades[i].Time <= to; i++ {
		t := trades[i]
		if c.Trades == 0 {
			c.Open, c.High, c.Low = t.Price, t.Price, t.Price
		}
		c.High, c.Low, c.Close = max(c.High, t.Price), min(c.Low, t.Price), t.Price
		c.Volume += t.Qty
		quote := float64(t.Price) * float64(t.Qty) / 1e16
		c.QuoteVolume += quote
		c.Trades += t.LastTradeID - t.FirstTradeID + 1
		if !t.BuyerMaker {
			c.TakerBuyVolume += t.Qty
			c.TakerBuyQuoteVolume += quote
		}
	}
	return c
}

// midPrice returns the simulated price at t rounded to the tick, used for candles without trades.
func (m *Market) midPrice(s int, t int64) int64 {
	t = max(t, m.startMs)
	d := (t - m.startMs) / msPerDay
	k := (t - m.startMs) % msPerDay / msPerMinute
	sc := m.cfg.Symbols[s]
	lp := m.dayPath(d)[s][k]
	return max(int64(math.Round(math.Exp(lp)*math.Pow10(sc.PriceDecimals))), 1) * int64(math.Pow10(8-sc.PriceDecimals))
}

// AggTrades returns the aggregate trades of symbol with time in [from, to] (inclusive, to the millisecond). It
// returns an error for an unknown symbol.
func (m *Market) AggTrades(symbol string, from, to time.Time) ([]AggTrade, error) {
	return m.aggTradesByTime(symbol, from.UnixMilli()*1000, to.UnixMilli()*1000+999, math.MaxInt)
}

// aggTradesByTime returns the first limit trades with time in [fromUs, toUs], in epoch microseconds.
func (m *Market) aggTradesByTime(symbol string, fromUs, toUs int64, limit int) ([]AggTrade, error) {
	s, ok := m.symbol(symbol)
	if !ok {
		return nil, fmt.Errorf("unknown symbol %q", symbol)
	}
	fromUs = max(fromUs, m.startMs*1000)
	var out []AggTrade
	for d := (floorMs(fromUs) - m.startMs) / msPerDay; fromUs <= toUs && (m.startMs+d*msPerDay)*1000 <= toUs && len(out) < limit; d++ {
		trades := m.dayTrades(s, d)
		i := sort.Search(len(trades), func(i int) bool { return trades[i].Micros >= fromUs })
		for ; i < len(trades) && trades[i].Micros <= toUs && len(out) < limit; i++ {
			out = append(out, trades[i])
		}
	}
	return out, nil
}

// lastAggTrades returns the last limit trades with time at or before toUs (epoch microseconds), oldest first,
// walking back day by day: rest-api.md "Compressed/Aggregate trades list" returns the most recent trades before
// endTime when only endTime is sent.
func (m *Market) lastAggTrades(symbol string, toUs int64, limit int) ([]AggTrade, error) {
	s, ok := m.symbol(symbol)
	if !ok {
		return nil, fmt.Errorf("unknown symbol %q", symbol)
	}
	if toUs < m.startMs*1000 {
		return nil, nil
	}
	var days [][]AggTrade // newest first
	n := 0
	for d := (floorMs(toUs) - m.startMs) / msPerDay; d >= 0 && n < limit; d-- {
		trades := m.dayTrades(s, d)
		j := sort.Search(len(trades), func(i int) bool { return trades[i].Micros > toUs })
		trades = trades[max(0, j-(limit-n)):j]
		days = append(days, trades)
		n += len(trades)
	}
	out := make([]AggTrade, 0, n)
	for i := len(days) - 1; i >= 0; i-- {
		out = append(out, days[i]...)
	}
	return out, nil
}

// aggTradesFromID returns up to limit trades with id >= fromID and time at or before cutoff.
func (m *Market) aggTradesFromID(symbol string, fromID int64, cutoff int64, limit int) ([]AggTrade, error) {
	s, ok := m.symbol(symbol)
	if !ok {
		return nil, fmt.Errorf("unknown symbol %q", symbol)
	}
	if cutoff < m.startMs {
		return nil, nil
	}
	lastDay := (cutoff - m.startMs) / msPerDay
	// The first day whose id range reaches fromID.
	d := int64(sort.Search(int(lastDay+1), func(d int) bool {
		ds := m.dayAt(int64(d))
		return ds.firstAgg[s]+ds.aggs[s] > fromID
	}))
	var out []AggTrade
	for ; d <= lastDay && len(out) < limit; d++ {
		trades := m.dayTrades(s, d)
		i := sort.Search(len(trades), func(i int) bool { return trades[i].ID >= fromID })
		for ; i < len(trades) && trades[i].Time <= cutoff && len(out) < limit; i++ {
			out = append(out, trades[i])
		}
	}
	return out, nil
}
