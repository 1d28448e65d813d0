package binancesim

import (
	"math"
	"slices"
)

// The market is generated top-down. Each (symbol, day) first gets a summary: per minute, a handful of price levels,
// each with its side, number of aggregate and individual trades and the quantity traded there. A minute's candle is
// the aggregate of its levels, so minute and whole-day candles come from the summary without generating a trade;
// the trades are generated from the summary only when asked for, and split each level's count and quantity exactly,
// so candles stay derived exactly from the trades.

// maxLevels bounds the price levels of a minute.
const maxLevels = 6

// priceLevel is one price level of a minute: the aggregate trades of one side at one price.
type priceLevel struct {
	price      int64 // price * 1e8
	units      int64 // quantity in LOT_SIZE steps; at least trades, so every individual trade gets a step
	aggs       int64 // aggregate trades, at least 1
	trades     int64 // individual trades, at least aggs
	buyerMaker bool
}

// daySummary is the summary of one (symbol, day). Minute k's levels are levels[start[k]:start[k+1]]: the first is
// where the minute opens and the last where it closes. A minute without trades has none.
type daySummary struct {
	levels []priceLevel
	start  [minutesDay + 1]int32
}

// minute returns the levels of minute k.
func (ds *daySummary) minute(k int) []priceLevel { return ds.levels[ds.start[k]:ds.start[k+1]] }

// genSummary draws the summary of symbol s on day d: the day's aggregate trades spread over the minutes by the
// intraday pattern with noise, the individual trades in proportion, and per minute up to six levels along the
// price path with noise. It costs a few random draws per minute, not per trade.
func (m *Market) genSummary(s int, d int64) *daySummary {
	if m.beforeGen != nil {
		m.beforeGen(s, d)
	}
	sc := m.cfg.Symbols[s]
	ds := m.dayAt(d)
	path := m.dayPath(d)[s]
	r := m.rng("minutes", sc.Symbol, d)
	n, extra := ds.aggs[s], ds.trades[s]-ds.aggs[s]
	var weights [minutesDay]float64
	total := 0.0
	for k := range weights {
		weights[k] = m.activity[k] * math.Exp(0.4*r.NormFloat64())
		total += weights[k]
	}
	sum := &daySummary{levels: make([]priceLevel, 0, minutesDay*maxLevels)}
	tick := math.Pow10(sc.PriceDecimals)
	pScale := pow10(8 - sc.PriceDecimals)
	unitMean := sc.MeanQty * math.Pow10(sc.QtyDecimals)
	minuteSD := sc.AnnualVol / math.Sqrt(525600)
	cum, prevEnd, prevExtra := 0.0, int64(0), int64(0)
	var lw [maxLevels]float64
	for k := range minutesDay {
		sum.start[k] = int32(len(sum.levels))
		// Cumulative rounding makes the counts sum to the day's; extra trades follow the aggregate trades.
		cum += weights[k]
		end := int64(math.Round(float64(n) * cum / total))
		c := end - prevEnd
		prevEnd = end
		if c == 0 {
			continue
		}
		extraEnd := extra * end / n
		e := extraEnd - prevExtra
		prevExtra = extraEnd
		nl := min(c, 3+r.Int64N(maxLevels-2))
		pBuyerMaker := 0.55
		if path[k+1] >= path[k] {
			pBuyerMaker = 0.45
		}
		first := len(sum.levels)
		wsum := 0.0
		open := math.Exp(path[k]) * tick
		for j := range nl {
			frac := float64(j) / float64(max(nl-1, 1))
			noise := 0.3 * minuteSD
			if j > 0 && j < nl-1 {
				noise = 0.6 * minuteSD // interior levels make the wicks, as the spread of a minute's many trades did
			}
			dlp := frac*(path[k+1]-path[k]) + noise*r.NormFloat64()
			lw[j] = 0.5 + r.Float64()
			wsum += lw[j]
			sum.levels = append(sum.levels, priceLevel{price: max(int64(math.Round(open*expSmall(dlp))), 1) * pScale,
				buyerMaker: r.Float64() < pBuyerMaker})
		}
		lv := sum.levels[first:]
		acc, prevA, prevE := 0.0, int64(0), int64(0)
		for j := range lv {
			acc += lw[j]
			a, x := c-nl, e
			if j < len(lv)-1 {
				a = int64(math.Round(float64(c-nl) * acc / wsum))
				x = int64(math.Round(float64(e) * acc / wsum))
			}
			lv[j].aggs = 1 + a - prevA
			lv[j].trades = lv[j].aggs + x - prevE
			prevA, prevE = a, x
			units := int64(math.Round(float64(lv[j].aggs) * unitMean * (0.4 + 1.2*r.Float64())))
			lv[j].units = max(units, lv[j].trades)
		}
	}
	sum.start[minutesDay] = int32(len(sum.levels))
	return sum
}

// expSmall is math.Exp for the small log moves within a minute: a Taylor polynomial, off by less than 1e-8
// relative (far below a tick) for |x| <= 0.05, and math.Exp beyond.
func expSmall(x float64) float64 {
	if math.Abs(x) > 0.05 {
		return math.Exp(x)
	}
	return 1 + x*(1+x*(1.0/2+x*(1.0/6+x*(1.0/24+x/120))))
}

// minuteCandle aggregates levels into a candle (times left unset), the same candle fromTrades makes of the trades
// generated from them.
func minuteCandle(levels []priceLevel, qScale int64) Candle {
	var c Candle
	for i, l := range levels {
		if i == 0 {
			c.Open, c.High, c.Low = l.price, l.price, l.price
		}
		c.High, c.Low, c.Close = max(c.High, l.price), min(c.Low, l.price), l.price
		qty := l.units * qScale
		quote := float64(l.price) * float64(qty) / 1e16
		c.Volume += qty
		c.QuoteVolume += quote
		c.Trades += l.trades
		if !l.buyerMaker {
			c.TakerBuyVolume += qty
			c.TakerBuyQuoteVolume += quote
		}
	}
	return c
}

// minutesFromSummary returns the 1440 one-minute candles of a day summary.
func (m *Market) minutesFromSummary(s int, sum *daySummary) []Candle {
	qScale := pow10(8 - m.cfg.Symbols[s].QtyDecimals)
	out := make([]Candle, minutesDay)
	for k := range out {
		out[k] = minuteCandle(sum.minute(k), qScale)
	}
	return out
}

// dayCandleFromSummary aggregates a day summary into the whole-day candle (times left unset).
func (m *Market) dayCandleFromSummary(s int, sum *daySummary) Candle {
	qScale := pow10(8 - m.cfg.Symbols[s].QtyDecimals)
	var c Candle
	first := true
	for k := range minutesDay {
		mergeCandle(&c, minuteCandle(sum.minute(k), qScale), &first)
	}
	return c
}

// genTrades generates the aggregate trades of symbol s on day d from its summary: per minute, sorted random times
// (with their sub-millisecond part), the first trade at the opening priceLevel and the last at the closing one, the
// others in random order; each priceLevel's individual trades and quantity are split over its aggregate trades, every
// individual trade keeping at least one quantity step. dayTrades caches them.
func (m *Market) genTrades(s int, d int64) []AggTrade {
	if m.beforeGen != nil {
		m.beforeGen(s, d)
	}
	sc := m.cfg.Symbols[s]
	ds := m.dayAt(d)
	sum := m.daySummary(s, d)
	r := m.rng("trades", sc.Symbol, d)
	qScale := pow10(8 - sc.QtyDecimals)
	trades := make([]AggTrade, 0, ds.aggs[s])
	id, tradeID := ds.firstAgg[s], ds.firstTrade[s]
	base := m.startMs + d*msPerDay
	offsets := make([]int64, 0, 1024)
	order := make([]int, 0, 1024)
	var left [maxLevels]priceLevel // what is left to hand out per priceLevel of the minute
	for k := range minutesDay {
		lv := sum.minute(k)
		if len(lv) == 0 {
			continue
		}
		copy(left[:], lv)
		order = order[:0]
		for j, l := range lv {
			for range l.aggs {
				order = append(order, j)
			}
		}
		c := len(order)
		// order lists priceLevel 0's trades first and the last priceLevel's last: shuffling the middle keeps one of each at
		// the ends.
		var middle []int
		if c > 2 {
			middle = order[1 : c-1]
		}
		r.Shuffle(len(middle), func(i, j int) { middle[i], middle[j] = middle[j], middle[i] })
		offsets = offsets[:0]
		for range c {
			offsets = append(offsets, r.Int64N(msPerMinute*1000)) // microseconds into the minute
		}
		slices.Sort(offsets)
		minute := base + int64(k)*msPerMinute
		for i, off := range offsets {
			l := &left[order[i]]
			parts, units := l.trades, l.units
			if l.aggs > 1 {
				spareTrades := l.trades - l.aggs
				parts = 1 + min(spareTrades, r.Int64N(2*spareTrades/l.aggs+1))
				spare := l.units - l.trades
				units = parts + min(spare, int64(math.Round(float64(spare)/float64(l.aggs)*math.Exp(0.9*r.NormFloat64()-0.405))))
			}
			l.aggs--
			l.trades -= parts
			l.units -= units
			trades = append(trades, AggTrade{ID: id, Price: l.price, Qty: units * qScale, FirstTradeID: tradeID,
				LastTradeID: tradeID + parts - 1, Time: minute + off/1000, Micros: minute*1000 + off,
				BuyerMaker: l.buyerMaker})
			id++
			tradeID += parts
		}
	}
	return trades
}
