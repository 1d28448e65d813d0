package binance

import (
	"errors"
	"fmt"
	"slices"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// ErrStaleSnapshot is returned by OrderBook.Sync when the snapshot is older
// than the first buffered diff: updates between them are unknown, so the
// caller fetches another snapshot and calls Sync again.
var ErrStaleSnapshot = errors.New("snapshot older than the buffered diffs")

// GapError reports missing depth updates: the book expected update id From
// but the next diff starts at To+1. The book has reset itself and buffers
// diffs again; the caller fetches a new snapshot for this symbol only and
// publishes Record so consumers see the hole.
type GapError struct {
	Symbol string
	From   int64 // first missing update id
	To     int64 // last missing update id
}

func (e *GapError) Error() string {
	return fmt.Sprintf("order book %s: depth updates %d..%d missing", e.Symbol, e.From, e.To)
}

// Record returns the gap as a data record detected at timeMs.
func (e *GapError) Record(timeMs int64) Gap {
	return Gap{Symbol: e.Symbol, Time: timeMs, From: e.From, To: e.To, Reason: "depth update sequence gap"}
}

// maxBuffered bounds the diffs kept while waiting for a snapshot; the oldest
// go first, which at worst makes the next snapshot stale and fetched again.
const maxBuffered = 100_000

// OrderBook is the local order book of one symbol, kept as Binance documents
// ("How to manage a local order book correctly"): diffs are buffered until a
// REST snapshot arrives, diffs with u <= lastUpdateId are dropped, the first
// applied diff must have U <= lastUpdateId+1 <= u, and from then on a diff
// whose U is beyond the book's update id + 1 is a gap. It is not safe for
// concurrent use; keep one per symbol.
type OrderBook struct {
	symbol   string
	synced   bool
	lastID   int64
	bids     map[float64]float64
	asks     map[float64]float64
	buffered []BookDiff
}

// NewOrderBook returns an unsynced book for symbol.
func NewOrderBook(symbol string) *OrderBook {
	return &OrderBook{symbol: symbol, bids: map[float64]float64{}, asks: map[float64]float64{}}
}

// Synced reports whether the book has a snapshot and an unbroken sequence.
func (b *OrderBook) Synced() bool { return b.synced }

// LastUpdateID returns the update id the book reflects (0 when unsynced).
func (b *OrderBook) LastUpdateID() int64 { return b.lastID }

// Push takes the next diff from the stream. Unsynced, it buffers the diff and
// returns nothing. Synced, it applies the diff and returns it, or returns
// nothing for a diff the book already holds (u <= its update id). A missing
// update returns a *GapError; the book then resets and buffers d.
func (b *OrderBook) Push(d BookDiff) ([]BookDiff, error) {
	if !b.synced {
		if len(b.buffered) == maxBuffered {
			b.buffered = slices.Delete(b.buffered, 0, 1)
		}
		b.buffered = append(b.buffered, d)
		return nil, nil
	}
	if d.FinalUpdateID <= b.lastID {
		return nil, nil
	}
	if d.FirstUpdateID > b.lastID+1 {
		gap := &GapError{Symbol: b.symbol, From: b.lastID + 1, To: d.FirstUpdateID - 1}
		b.reset()
		b.buffered = append(b.buffered, d)
		return nil, gap
	}
	b.apply(d)
	return []BookDiff{d}, nil
}

// Sync loads the snapshot s and applies the buffered diffs that follow it,
// returning those diffs in order. It returns ErrStaleSnapshot (keeping the
// buffer) when the first diff after the snapshot starts beyond
// s.LastUpdateID+1, and a *GapError when the buffered diffs themselves skip
// updates.
func (b *OrderBook) Sync(s BookSnapshot) ([]BookDiff, error) {
	buf := b.buffered
	i := 0
	for i < len(buf) && buf[i].FinalUpdateID <= s.LastUpdateID {
		i++ // already contained in the snapshot
	}
	if i < len(buf) && buf[i].FirstUpdateID > s.LastUpdateID+1 {
		return nil, fmt.Errorf("order book %s: snapshot %d, first diff starts at %d: %w",
			b.symbol, s.LastUpdateID, buf[i].FirstUpdateID, ErrStaleSnapshot)
	}
	b.reset()
	for _, l := range s.Bids {
		setLevel(b.bids, l)
	}
	for _, l := range s.Asks {
		setLevel(b.asks, l)
	}
	b.lastID = s.LastUpdateID
	b.synced = true
	var applied []BookDiff
	for j, d := range buf[i:] {
		got, err := b.Push(d)
		if err != nil {
			// Push buffered d; keep the diffs after it for the next Sync too.
			b.buffered = append(b.buffered, buf[i+j+1:]...)
			return applied, err
		}
		applied = append(applied, got...)
	}
	return applied, nil
}

func (b *OrderBook) reset() {
	b.synced = false
	b.lastID = 0
	clear(b.bids)
	clear(b.asks)
	b.buffered = nil
}

func (b *OrderBook) apply(d BookDiff) {
	for _, l := range d.Bids {
		setLevel(b.bids, l)
	}
	for _, l := range d.Asks {
		setLevel(b.asks, l)
	}
	b.lastID = d.FinalUpdateID
}

// setLevel sets an absolute quantity; 0 removes the level.
func setLevel(side map[float64]float64, l Level) {
	if l[1] == 0 {
		delete(side, l[0])
		return
	}
	side[l[0]] = l[1]
}

// Snapshot returns the best depth levels per side (bids high to low, asks low
// to high) as a record at timeMs; depth <= 0 returns every level.
func (b *OrderBook) Snapshot(depth int, timeMs int64) BookSnapshot {
	return BookSnapshot{
		Symbol:       b.symbol,
		Time:         timeMs,
		LastUpdateID: b.lastID,
		Bids:         topLevels(b.bids, depth, func(x, y float64) int { return cmpFloat(y, x) }),
		Asks:         topLevels(b.asks, depth, cmpFloat),
	}
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func topLevels(side map[float64]float64, depth int, cmp func(x, y float64) int) []Level {
	prices := make([]float64, 0, len(side))
	for p := range side {
		prices = append(prices, p)
	}
	slices.SortFunc(prices, cmp)
	if depth > 0 && len(prices) > depth {
		prices = prices[:depth]
	}
	out := make([]Level, len(prices))
	for i, p := range prices {
		out[i] = Level{p, side[p]}
	}
	return out
}

// depthUpdate is a <symbol>@depth stream message as Binance sends it.
type depthUpdate struct {
	Type   string      `json:"e"`
	Time   int64       `json:"E"`
	Symbol string      `json:"s"`
	First  int64       `json:"U"`
	Final  int64       `json:"u"`
	Bids   [][2]string `json:"b"`
	Asks   [][2]string `json:"a"`
}

// ParseDepthUpdate decodes the data of a <symbol>@depth stream message
// ("depthUpdate" event) into a BookDiff; Time is the event time E.
func ParseDepthUpdate(data []byte) (BookDiff, error) {
	var ev depthUpdate
	if err := exactjson.Unmarshal(data, &ev); err != nil {
		return BookDiff{}, fmt.Errorf("depth update: %w", err)
	}
	if ev.Type != "depthUpdate" || ev.Symbol == "" || ev.First > ev.Final {
		return BookDiff{}, fmt.Errorf("depth update: event %q symbol %q U=%d u=%d is not a depth update", ev.Type, ev.Symbol, ev.First, ev.Final)
	}
	t, err := NormalizeMillis(ev.Time)
	if err != nil {
		return BookDiff{}, fmt.Errorf("depth update %s: %w", ev.Symbol, err)
	}
	bids, err := parseLevels(ev.Bids)
	if err != nil {
		return BookDiff{}, fmt.Errorf("depth update %s: bids: %w", ev.Symbol, err)
	}
	asks, err := parseLevels(ev.Asks)
	if err != nil {
		return BookDiff{}, fmt.Errorf("depth update %s: asks: %w", ev.Symbol, err)
	}
	return BookDiff{Symbol: ev.Symbol, Time: t, FirstUpdateID: ev.First, FinalUpdateID: ev.Final, Bids: bids, Asks: asks}, nil
}
