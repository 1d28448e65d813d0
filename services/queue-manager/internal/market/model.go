// Package market is the console's live market: it follows the data topics
// of a symbol's running live loaders (ws_trades, ws_orderbook), keeps a
// local order book, the last trades and 1 s and 1 m candles, and hands out frames —
// the top of the book, the trades since the last frame, the candles that
// changed, spread, mid, imbalance and rates — a few times a second, however
// fast the topics are.
//
// The Model is pure (records and the time in, frames out); Feed tails
// Kafka into it, one Model per live stream of a symbol shared by all its
// clients (hub.go).
package market

import (
	"slices"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
)

// Sizes of a frame.
const (
	// DefaultDepth is the levels of each side a frame carries.
	DefaultDepth = 20
	// MaxTrades is the most trades one frame carries (the newest); the
	// rest are only counted.
	MaxTrades = 50
	// maxMarks bounds the marks one frame carries.
	maxMarks = 20
	// rateWindow is the span the rates are averaged over, in seconds.
	rateWindow = 5
)

// Level is a price and a quantity.
type Level = binance.Level

// Trade is one trade of a frame.
type Trade struct {
	ID    int64   `json:"id"`
	Time  int64   `json:"time"` // epoch ms
	Price float64 `json:"price"`
	Qty   float64 `json:"qty"`
	// Side is the taker's: buy or sell.
	Side string `json:"side"`
}

// Candle is the trades of one second or one minute.
type Candle struct {
	Time   int64   `json:"time"` // its start, epoch ms
	Open   float64 `json:"open"`
	High   float64 `json:"high"`
	Low    float64 `json:"low"`
	Close  float64 `json:"close"`
	Volume float64 `json:"volume"`
	Trades int     `json:"trades"`
}

// Mark is a moment worth marking on the timeline: updates lost (gap) or
// the book taken again from a snapshot after it (resync).
type Mark struct {
	Time   int64  `json:"time"` // epoch ms
	Kind   string `json:"kind"` // gap or resync
	Reason string `json:"reason,omitempty"`
}

// Frame is what one update of the market page shows.
type Frame struct {
	Symbol string `json:"symbol"`
	At     int64  `json:"at"` // epoch ms
	// Live is true while a running workflow streams the symbol; Workflow
	// names it.
	Live     bool   `json:"live"`
	Workflow string `json:"workflow,omitempty"`
	// Synced is true while the book follows an unbroken run of updates
	// since a snapshot.
	Synced bool    `json:"synced"`
	Bids   []Level `json:"bids"` // best first, at most the depth asked for
	Asks   []Level `json:"asks"`
	// Spread is best ask - best bid, Mid their mean, Imbalance (bid qty -
	// ask qty) / (bid qty + ask qty) over the levels sent: all 0 unless the
	// book has both sides.
	Spread    float64 `json:"spread"`
	Mid       float64 `json:"mid"`
	Imbalance float64 `json:"imbalance"`
	// Trades are the trades since the last frame, newest first (at most
	// MaxTrades); NewTrades counts them all (in a first frame, all since
	// the model's first), TradeCount every trade the model took.
	Trades     []Trade `json:"trades"`
	NewTrades  int     `json:"new_trades"`
	TradeCount int64   `json:"trade_count"`
	// Candles are the 1 s candles that changed since the last frame (all
	// kept in the first), oldest first: a client replaces those with the
	// same time.
	Candles []Candle `json:"candles"`
	// MinuteCandles are the 1 m candles that changed, likewise.
	MinuteCandles []Candle `json:"candles_1m"`
	TradesPerSec  float64  `json:"trades_per_sec"`
	BookPerSec    float64  `json:"book_per_sec"`
	// Gaps counts the gaps (lost updates) and re-syncs seen; LastGap says
	// what the last was.
	Gaps    int64  `json:"gaps"`
	LastGap string `json:"last_gap,omitempty"`
	// Marks are the gaps and re-syncs since the last frame, oldest first.
	Marks []Mark `json:"marks"`
}

// Model is the market of one symbol as its records tell it. Many readers
// can take frames of one Model, each with its own Cursor (FrameFor): a
// record is applied once and stamped with the model's revision, and a
// reader's frame carries what was stamped after its last one. It is not
// safe for concurrent use.
type Model struct {
	symbol string
	depth  int

	bids, asks map[float64]float64
	synced     bool
	updateID   int64
	gaps       int64
	lastGap    string

	// rev counts the records applied; bookRev is the rev of the last change
	// to the levels, top the levels sent for it (built once per change,
	// whoever reads it first).
	rev, bookRev int64
	top          bookTop
	marks        ring[Mark]  // the newest maxMarks
	recent       ring[Trade] // the newest MaxTrades
	tradeCount   int64
	seconds      series
	minutes      series

	trades, book rate
	own          Cursor // Frame's
}

// Cursor is where one reader of a Model stands: what its last frame
// carried. The zero Cursor has seen nothing, so its first frame carries
// all that is kept: every candle, the newest trades and marks, the book.
type Cursor struct {
	rev, trades int64
	started     bool
}

// bookTop is the levels and figures of a frame for one state of the book.
type bookTop struct {
	rev                    int64 // bookRev they were built for (-1: none yet)
	bids, asks             []Level
	spread, mid, imbalance float64
}

// NewModel returns the empty market of symbol whose frames carry depth
// levels a side (DefaultDepth when not positive).
func NewModel(symbol string, depth int) *Model {
	if depth <= 0 {
		depth = DefaultDepth
	}
	return &Model{symbol: symbol, depth: depth, bids: map[float64]float64{}, asks: map[float64]float64{}, top: bookTop{rev: -1},
		marks: newRing[Mark](maxMarks), recent: newRing[Trade](MaxTrades),
		seconds: series{span: 1000, keep: KeepCandles}, minutes: series{span: 60_000, keep: KeepMinuteCandles}}
}

// Stream says which loader's topic a record came from: a gap means
// different things on each.
type Stream int

// The live loaders' topics.
const (
	Trades Stream = iota // ws_trades: trades and gaps in their ids
	Book                 // ws_orderbook: snapshots, diffs and gaps in the update ids
)

// StreamOf returns the Stream of a data type; ok is false for a type that
// is not a live market stream.
func StreamOf(dataType string) (s Stream, ok bool) {
	switch dataType {
	case "ws_trades":
		return Trades, true
	case "ws_orderbook":
		return Book, true
	}
	return 0, false
}

// Apply takes one record of stream s received at now.
func (m *Model) Apply(s Stream, r binance.LiveRecord, now time.Time) {
	m.rev++
	switch r.Kind {
	case binance.LiveTrade:
		m.trade(r.Trade, now)
	case binance.LiveSnapshot:
		clear(m.bids)
		clear(m.asks)
		setLevels(m.bids, r.Snapshot.Bids)
		setLevels(m.asks, r.Snapshot.Asks)
		if !m.synced && m.updateID != 0 {
			m.mark(r.Snapshot.Time, "resync", "book taken again from a snapshot")
		}
		m.synced, m.updateID = true, r.Snapshot.LastUpdateID
		m.bookRev = m.rev
		m.book.add(now)
	case binance.LiveDiff:
		m.diff(r.Diff, now)
	case binance.LiveGap:
		m.gaps++
		m.lastGap = r.Gap.Reason
		if r.Gap.Reason == "" {
			m.lastGap = "updates lost"
		}
		m.mark(r.Gap.Time, "gap", m.lastGap)
		if s == Book {
			m.synced = false
		}
	}
}

func (m *Model) trade(t binance.AggTrade, now time.Time) {
	m.tradeCount++
	side := "buy"
	if t.BuyerMaker { // the maker bought: the taker sold
		side = "sell"
	}
	m.recent.add(m.rev, Trade{ID: t.AggID, Time: t.Time, Price: t.Price, Qty: t.Qty, Side: side})
	m.trades.add(now)
	m.seconds.add(m.rev, t.Time, t.Price, t.Qty)
	m.minutes.add(m.rev, t.Time, t.Price, t.Qty)
}

func (m *Model) diff(d binance.BookDiff, now time.Time) {
	m.book.add(now)
	switch {
	case !m.synced || d.FinalUpdateID <= m.updateID:
		return // waiting for a snapshot, or already in the one held
	case d.FirstUpdateID > m.updateID+1:
		m.gaps++
		m.lastGap = "book updates lost between the loader and here"
		m.mark(d.Time, "gap", m.lastGap)
		m.synced = false
		return
	}
	setLevels(m.bids, d.Bids)
	setLevels(m.asks, d.Asks)
	m.updateID, m.bookRev = d.FinalUpdateID, m.rev
}

// mark records a moment for the timeline (the newest maxMarks are kept).
func (m *Model) mark(at int64, kind, reason string) {
	m.marks.add(m.rev, Mark{Time: at, Kind: kind, Reason: reason})
}

// setLevels sets absolute quantities; 0 removes a level.
func setLevels(side map[float64]float64, ls []Level) {
	for _, l := range ls {
		if l[1] == 0 {
			delete(side, l[0])
			continue
		}
		side[l[0]] = l[1]
	}
}

// Frame returns what changed since the last frame, at now; ok is false when
// nothing did (rates aside), so a quiet market sends nothing. It is
// FrameFor with the model's own cursor.
func (m *Model) Frame(now time.Time) (f Frame, ok bool) { return m.FrameFor(&m.own, now, false) }

// FrameFor returns what changed since c's last frame, at now, and moves c
// on; ok is false when nothing did (rates aside) unless force is set. The
// first frame of a cursor is always made.
func (m *Model) FrameFor(c *Cursor, now time.Time, force bool) (f Frame, ok bool) {
	if c.started && c.rev == m.rev && !force {
		return Frame{}, false
	}
	t := m.bookTop()
	f = Frame{Symbol: m.symbol, At: now.UnixMilli(), Synced: m.synced, Gaps: m.gaps, LastGap: m.lastGap,
		Bids: t.bids, Asks: t.asks, Spread: t.spread, Mid: t.mid, Imbalance: t.imbalance,
		NewTrades: int(m.tradeCount - c.trades), TradeCount: m.tradeCount,
		TradesPerSec: m.trades.perSecond(now), BookPerSec: m.book.perSecond(now)}
	f.Trades = m.recent.since(c.rev)
	slices.Reverse(f.Trades) // newest first
	f.Candles, f.MinuteCandles = m.seconds.since(c.rev), m.minutes.since(c.rev)
	f.Marks = m.marks.since(c.rev)
	c.rev, c.trades, c.started = m.rev, m.tradeCount, true
	return f, true
}

// bookTop returns the frame's levels for the book as it is, built once per
// change of the book. Frames share the slices: nobody writes to them.
func (m *Model) bookTop() bookTop {
	if m.top.rev == m.bookRev {
		return m.top
	}
	t := bookTop{rev: m.bookRev}
	t.bids = slices.Clip(top(m.bids, m.depth, func(a, b float64) bool { return a > b }))
	t.asks = slices.Clip(top(m.asks, m.depth, func(a, b float64) bool { return a < b }))
	if len(t.bids) > 0 && len(t.asks) > 0 {
		t.spread = t.asks[0][0] - t.bids[0][0]
		t.mid = (t.asks[0][0] + t.bids[0][0]) / 2
		var bq, aq float64
		for _, l := range t.bids {
			bq += l[1]
		}
		for _, l := range t.asks {
			aq += l[1]
		}
		if bq+aq > 0 {
			t.imbalance = (bq - aq) / (bq + aq)
		}
	}
	m.top = t
	return t
}

// top returns the n best levels of a side, best first.
func top(side map[float64]float64, n int, better func(a, b float64) bool) []Level {
	out := make([]Level, 0, len(side))
	for p, q := range side {
		out = append(out, Level{p, q})
	}
	slices.SortFunc(out, func(a, b Level) int {
		switch {
		case better(a[0], b[0]):
			return -1
		case better(b[0], a[0]):
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rate counts events per whole second over the last rateWindow seconds.
type rate struct {
	secs   [rateWindow + 1]int64
	counts [rateWindow + 1]int
}

func (r *rate) add(now time.Time) {
	s := now.Unix()
	i := int(s % int64(len(r.secs)))
	if r.secs[i] != s {
		r.secs[i], r.counts[i] = s, 0
	}
	r.counts[i]++
}

// perSecond is the mean over the rateWindow whole seconds before now's.
func (r *rate) perSecond(now time.Time) float64 {
	s := now.Unix()
	n := 0
	for i, t := range r.secs {
		if t < s && t >= s-rateWindow {
			n += r.counts[i]
		}
	}
	return float64(n) / rateWindow
}
