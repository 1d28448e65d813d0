package binancesim

import "sync"

// The market's caches. Generating a day's trades is expensive (several milliseconds for a day of BTCUSDT at the
// default rate) and its summary less so (see summary.go), so both run outside Market.mu: the lock only finds or makes an entry, and the entry's sync.Once makes the first caller
// compute it while the others wait for that entry alone. A request that generates days therefore never stalls a
// request that reads other, cached days, nor the WebSocket streams.

// dayData is the cached generation of one (symbol, day).
type dayData struct {
	summaryOnce, tradesOnce, minutesOnce sync.Once
	summary                              *daySummary
	trades                               []AggTrade
	minutes                              []Candle
}

// pathCell is the cached price path of one day.
type pathCell struct {
	once sync.Once
	path [][]float64
}

// entry returns the cache entry of key, making it (and evicting the oldest beyond cacheDays) when absent. Evicted
// entries stay valid for those that hold them.
func (m *Market) entry(key symDay) *dayData {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	if ok {
		return e
	}
	e = &dayData{}
	m.data[key] = e
	m.lruOrder = append(m.lruOrder, key)
	if len(m.lruOrder) > cacheDays {
		delete(m.data, m.lruOrder[0])
		m.lruOrder = m.lruOrder[1:]
	}
	return e
}

// dayTrades returns the aggregate trades of symbol s on day d.
func (m *Market) dayTrades(s int, d int64) []AggTrade {
	e := m.entry(symDay{s, d})
	e.tradesOnce.Do(func() { e.trades = m.genTrades(s, d) })
	return e.trades
}

// daySummary returns the summary of symbol s on day d (see genSummary).
func (m *Market) daySummary(s int, d int64) *daySummary {
	e := m.entry(symDay{s, d})
	e.summaryOnce.Do(func() { e.summary = m.genSummary(s, d) })
	return e.summary
}

// dayMinutes returns the 1440 one-minute candles of symbol s on day d, from its summary: no trade is generated.
func (m *Market) dayMinutes(s int, d int64) []Candle {
	e := m.entry(symDay{s, d})
	e.minutesOnce.Do(func() {
		e.summaryOnce.Do(func() { e.summary = m.genSummary(s, d) })
		e.minutes = m.minutesFromSummary(s, e.summary)
	})
	return e.minutes
}

// dayPath returns the price path of day d (see genPath).
func (m *Market) dayPath(d int64) [][]float64 {
	m.mu.Lock()
	c, ok := m.paths[d]
	if !ok {
		if len(m.paths) >= cacheDays {
			clear(m.paths)
		}
		c = &pathCell{}
		m.paths[d] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.path = m.genPath(d) })
	return c.path
}

// dayCandle returns the candle of the whole day d of symbol s, kept for good: long intervals (1d, 1w, 1M) over
// years read one small entry per day once it is known. An unknown day's candle is aggregated from its summary
// (a fraction of a millisecond); a summary made only for that is not put in the day cache, so a walk over years
// does not evict the recent days that the streams and minute requests read. Two requests computing the same day at
// once get the same candle (the summary is deterministic).
func (m *Market) dayCandle(s int, d int64) Candle {
	key := symDay{s, d}
	m.mu.Lock()
	c, ok := m.dayCandles[key]
	m.mu.Unlock()
	if ok {
		return c
	}
	m.mu.Lock()
	e := m.data[key]
	m.mu.Unlock()
	var sum *daySummary
	if e != nil {
		sum = m.daySummary(s, d)
	} else {
		sum = m.genSummary(s, d)
	}
	c = m.dayCandleFromSummary(s, sum)
	m.mu.Lock()
	m.dayCandles[key] = c
	m.mu.Unlock()
	return c
}
