package binancesim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// The order book model: one live book per symbol that both /api/v3/depth and
// the depth streams read, so a client that follows Binance's "how to manage a
// local order book correctly" stays in sync. The book advances in 100 ms
// steps of the simulator's clock. Each step is drawn from its own PRNG stream
// (seed, symbol, step), so two simulators with the same seed and clock serve
// the same book; a step with changes consumes one update id per changed level
// and becomes a diff event.
const (
	bookStepMs    = 100
	bookLevels    = 4000 // levels per side, one per tick from the touch, kept as the price moves; under 5000, so /api/v3/depth can give the whole book
	bookRing      = 1200 // diffs kept for streaming: two minutes
	bookMaxCatch  = 6000 // steps replayed to catch up; a longer pause rebuilds the book
	idsPerStepCap = 8    // update ids a fresh book reserves per step since the epoch
)

// level is one price level or change, fixed-point 1e8; a change with qty 0
// removes the level.
type level struct{ price, qty int64 }

// depthDiff is one depthUpdate event. It is immutable once built.
type depthDiff struct {
	first, final int64
	time         int64
	bids, asks   []level
	payload      []byte // the event object, encoded once for every connection
}

type simBook struct {
	sym        int
	name       string
	tick, step int64 // price tick and quantity step, fixed-point
	meanQty    float64
	bids, asks map[int64]int64
	lastID     int64
	mid        int64 // the mid price in ticks at step at
	at         int64 // the last step applied; its time is at*bookStepMs
	ring       []*depthDiff
	gap        int // update ids to apply without a diff at the next step
}

// bookSet holds the books of the market's symbols, made on first use.
type bookSet struct {
	m     *Market
	mu    sync.Mutex
	books map[int]*simBook
	gaps  int // gaps applied, for Stats
}

func newBookSet(m *Market) *bookSet { return &bookSet{m: m, books: make(map[int]*simBook)} }

// book returns symbol s's book advanced to nowMs. The caller holds bs.mu.
func (bs *bookSet) book(s int, nowMs int64) *simBook {
	k := max(nowMs, bs.m.startMs) / bookStepMs
	b := bs.books[s]
	if b == nil {
		sc := bs.m.cfg.Symbols[s]
		b = &simBook{sym: s, name: sc.Symbol, meanQty: sc.MeanQty,
			tick: pow10(8 - sc.PriceDecimals), step: pow10(8 - sc.QtyDecimals)}
		bs.books[s] = b
		bs.rebuild(b, k)
		return b
	}
	if k-b.at > bookMaxCatch {
		bs.rebuild(b, k)
		return b
	}
	for b.at < k {
		bs.advance(b, b.at+1)
	}
	return b
}

func pow10(n int) int64 { return int64(math.Round(math.Pow10(n))) }

// rebuild draws a fresh book at step k. Update ids stay increasing across a
// rebuild; a connected client sees the jump as a gap and syncs again.
func (bs *bookSet) rebuild(b *simBook, k int64) {
	r := bs.m.rng("book", b.name, k)
	mid := bs.midTicks(b.sym, k*bookStepMs)
	b.bids = make(map[int64]int64, bookLevels)
	b.asks = make(map[int64]int64, bookLevels)
	for i := int64(1); i <= bookLevels; i++ {
		if mid-i > 0 {
			b.bids[(mid-i)*b.tick] = b.qty(r.ExpFloat64())
		}
		b.asks[(mid+i)*b.tick] = b.qty(r.ExpFloat64())
	}
	b.lastID = max(b.lastID+1, k*idsPerStepCap)
	b.at, b.mid = k, mid
	b.ring = b.ring[:0]
}

// qty returns a positive quantity on the step grid, e times the mean.
func (b *simBook) qty(e float64) int64 {
	units := int64(math.Round(b.meanQty*e*1e8)) / b.step
	return max(units, 1) * b.step
}

// midTicks returns the simulated price at t in ticks, interpolated between
// the minute points of the price path.
func (bs *bookSet) midTicks(s int, t int64) int64 {
	m := bs.m
	t = max(t, m.startMs)
	off := (t - m.startMs) % msPerDay
	k := off / msPerMinute
	frac := float64(off%msPerMinute) / float64(msPerMinute)
	sc := m.cfg.Symbols[s]
	p := m.dayPath((t - m.startMs) / msPerDay)[s]
	lp := p[k] + frac*(p[k+1]-p[k])
	return max(int64(math.Round(math.Exp(lp)*math.Pow10(sc.PriceDecimals))), 1)
}

// advance applies step k: the levels that the moving price crossed are
// removed, the touch is refilled, and a few random levels near the top
// change. An injected gap first applies changes that no diff carries.
func (bs *bookSet) advance(b *simBook, k int64) {
	b.at = k
	r := bs.m.rng("book-step", b.name, k)
	mid := bs.midTicks(b.sym, k*bookStepMs)
	if b.gap > 0 {
		hidden := map[int64]int64{}
		for range b.gap {
			p := (mid - 1 - r.Int64N(5)) * b.tick
			hidden[p] = b.qty(r.ExpFloat64())
		}
		for p, q := range hidden {
			b.bids[p] = q
		}
		b.lastID += int64(b.gap)
		b.gap = 0
		bs.gaps++
	}
	bids, asks := map[int64]int64{}, map[int64]int64{}
	bs.follow(b, mid, bids, asks, r.ExpFloat64)
	if _, ok := b.bids[(mid-1)*b.tick]; !ok && mid > 1 {
		bids[(mid-1)*b.tick] = b.qty(r.ExpFloat64())
	}
	if _, ok := b.asks[(mid+1)*b.tick]; !ok {
		asks[(mid+1)*b.tick] = b.qty(r.ExpFloat64())
	}
	for range r.IntN(5) {
		dist := 1 + int64(r.ExpFloat64()*8)
		q := int64(0)
		if r.Float64() >= 0.25 {
			q = b.qty(r.ExpFloat64())
		}
		if r.IntN(2) == 0 {
			if mid-dist > 0 {
				bids[(mid-dist)*b.tick] = q
			}
		} else {
			asks[(mid+dist)*b.tick] = q
		}
	}
	// A removal of a level the book does not have is no update.
	for p, q := range bids {
		if _, ok := b.bids[p]; q == 0 && !ok {
			delete(bids, p)
		}
	}
	for p, q := range asks {
		if _, ok := b.asks[p]; q == 0 && !ok {
			delete(asks, p)
		}
	}
	n := len(bids) + len(asks)
	if n == 0 {
		return
	}
	d := &depthDiff{first: b.lastID + 1, final: b.lastID + int64(n), time: k * bookStepMs,
		bids: sortedLevels(bids, true), asks: sortedLevels(asks, false)}
	for _, l := range d.bids {
		setLevel(b.bids, l)
	}
	for _, l := range d.asks {
		setLevel(b.asks, l)
	}
	b.lastID = d.final
	d.payload = d.appendJSON(nil, b.name)
	if len(b.ring) >= 2*bookRing {
		b.ring = append(b.ring[:0], b.ring[len(b.ring)-bookRing:]...)
	}
	b.ring = append(b.ring, d)
}

func setLevel(side map[int64]int64, l level) {
	if l.qty == 0 {
		delete(side, l.price)
		return
	}
	side[l.price] = l.qty
}

// sortedLevels returns the levels best first: bids high to low, asks low to high.
func sortedLevels(side map[int64]int64, desc bool) []level {
	out := make([]level, 0, len(side))
	for p, q := range side {
		out = append(out, level{p, q})
	}
	slices.SortFunc(out, func(x, y level) int {
		if desc {
			return int(sign(y.price - x.price))
		}
		return int(sign(x.price - y.price))
	})
	return out
}

func sign(v int64) int64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func (d *depthDiff) appendJSON(b []byte, symbol string) []byte {
	return d.appendJSONUnit(b, symbol, false)
}

// appendJSONUnit is appendJSON with the event time in unit.
func (d *depthDiff) appendJSONUnit(b []byte, symbol string, unit timeUnit) []byte {
	b = append(b, `{"e":"depthUpdate","E":`...)
	b = unit.instant(b, d.time)
	b = append(b, `,"s":"`...)
	b = append(b, symbol...)
	b = append(b, `","U":`...)
	b = strconv.AppendInt(b, d.first, 10)
	b = append(b, `,"u":`...)
	b = strconv.AppendInt(b, d.final, 10)
	b = appendLevels(append(b, `,"b":`...), d.bids)
	b = appendLevels(append(b, `,"a":`...), d.asks)
	return append(b, '}')
}

func appendLevels(b []byte, levels []level) []byte {
	b = append(b, '[')
	for i, l := range levels {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFixed(append(b, `["`...), l.price)
		b = appendFixed(append(b, `","`...), l.qty)
		b = append(b, `"]`...)
	}
	return append(b, ']')
}

// diffsAfter returns symbol s's diffs with a final update id above after, up
// to nowMs, oldest first. When the ring no longer holds the diff after
// `after`, the oldest kept are returned and the client sees a gap.
func (bs *bookSet) diffsAfter(s int, nowMs, after int64) []*depthDiff {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.book(s, nowMs)
	i := sort.Search(len(b.ring), func(i int) bool { return b.ring[i].final > after })
	return slices.Clone(b.ring[i:])
}

// lastUpdateID returns symbol s's book update id at nowMs.
func (bs *bookSet) lastUpdateID(s int, nowMs int64) int64 {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.book(s, nowMs).lastID
}

// injectGap makes the next step of symbol s apply n updates without a diff.
func (bs *bookSet) injectGap(s int, nowMs int64, n int) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.book(s, nowMs).gap += n
}

// snapshotJSON encodes the /api/v3/depth answer: the best limit levels per
// side at the book's current update id.
func (bs *bookSet) snapshotJSON(s int, nowMs int64, limit int) []byte {
	bs.mu.Lock()
	b := bs.book(s, nowMs)
	id := b.lastID
	bids, asks := sortedLevels(b.bids, true), sortedLevels(b.asks, false)
	bs.mu.Unlock()
	out := fmt.Appendf(make([]byte, 0, 64+2*40*min(limit, len(bids))), `{"lastUpdateId":%d,"bids":`, id)
	out = appendLevels(out, bids[:min(limit, len(bids))])
	out = appendLevels(append(out, `,"asks":`...), asks[:min(limit, len(asks))])
	return append(out, '}')
}

// mergeDiffs folds consecutive diffs into one, as the 1000 ms depth stream
// sends them: the first U, the last u, the last quantity of each level.
func mergeDiffs(ds []*depthDiff, nowMs int64) *depthDiff {
	bids, asks := map[int64]int64{}, map[int64]int64{}
	for _, d := range ds {
		for _, l := range d.bids {
			bids[l.price] = l.qty
		}
		for _, l := range d.asks {
			asks[l.price] = l.qty
		}
	}
	return &depthDiff{first: ds[0].first, final: ds[len(ds)-1].final, time: nowMs,
		bids: sortedLevels(bids, true), asks: sortedLevels(asks, false)}
}
