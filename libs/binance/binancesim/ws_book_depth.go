package binancesim

// follow adds to the changes of a step the levels that keep b two-sided and bookLevels deep per side while the
// mid price moves from b.mid to mid (in ticks): the levels the price crossed are removed, the side it moved away
// from is filled up to the new touch, the far end of the side it moved into is extended, and levels beyond
// bookLevels from the touch are dropped. The work is proportional to the move, not to the book's size. draw gives
// the exponential draws of the new levels' quantities.
func (bs *bookSet) follow(b *simBook, mid int64, bids, asks map[int64]int64, draw func() float64) {
	prev := b.mid
	b.mid = mid
	if mid == prev {
		return
	}
	// Removals stay within the old book's extent, additions within the new one's, so the work is bounded by the
	// book's depth however far the price jumps.
	old := func(from, to int64) (int64, int64) { return max(from, prev-bookLevels-1), min(to, prev+bookLevels+1) }
	fresh := func(from, to int64) (int64, int64) { return max(from, mid-bookLevels-1), min(to, mid+bookLevels+1) }
	set := func(side map[int64]int64, have map[int64]int64, p, q int64) {
		if p <= 0 {
			return
		}
		if _, ok := have[p*b.tick]; ok || q > 0 {
			side[p*b.tick] = q
		}
	}
	if mid > prev {
		from, to := old(prev, mid) // asks crossed: (prev, mid]
		for p := from; p <= to; p++ {
			set(asks, b.asks, p, 0)
		}
		from, to = fresh(prev, mid-1) // bids up to the new touch
		for p := from; p <= to; p++ {
			set(bids, b.bids, p, b.qty(draw()))
		}
		from, to = fresh(prev+bookLevels+1, mid+bookLevels) // the asks' new far end
		for p := from; p <= to; p++ {
			set(asks, b.asks, p, b.qty(draw()))
		}
		from, to = old(prev-bookLevels-1, mid-bookLevels-1) // bids now too deep
		for p := from; p <= to; p++ {
			set(bids, b.bids, p, 0)
		}
		return
	}
	from, to := old(mid, prev) // bids crossed: [mid, prev)
	for p := from; p <= to; p++ {
		set(bids, b.bids, p, 0)
	}
	from, to = fresh(mid+1, prev) // asks down to the new touch
	for p := from; p <= to; p++ {
		set(asks, b.asks, p, b.qty(draw()))
	}
	from, to = fresh(mid-bookLevels, prev-bookLevels-1) // the bids' new far end
	for p := from; p <= to; p++ {
		set(bids, b.bids, p, b.qty(draw()))
	}
	from, to = old(mid+bookLevels+1, prev+bookLevels+1) // asks now too deep
	for p := from; p <= to; p++ {
		set(asks, b.asks, p, 0)
	}
}

// best returns the best level of a side, searching from the touch outwards (the book is dense near it), or the
// zero level when the side is empty.
func (b *simBook) best(bid bool) level {
	dir, side := int64(1), b.asks
	if bid {
		dir, side = -1, b.bids
	}
	for i := int64(1); i <= 2*bookLevels; i++ {
		p := (b.mid + dir*i) * b.tick
		if q, ok := side[p]; ok {
			return level{p, q}
		}
	}
	var out level
	for p, q := range side { // far from the touch: look at every level
		if out.price == 0 || (bid && p > out.price) || (!bid && p < out.price) {
			out = level{p, q}
		}
	}
	return out
}
