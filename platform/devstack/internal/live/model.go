package live

import (
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
)

// rateWindow is the span the update rates are averaged over.
const rateWindow = 5 * time.Second

// Model is what the data topics have said so far: the last trades, a local
// order book and the rates. It follows the loader's rules for the book
// (libs/loader/live.go): a snapshot is published when the book syncs (then
// the diffs applied on top of it) and every LOADER_SNAPSHOT_INTERVAL; every
// applied diff is published; a gap record means updates were lost and a new
// snapshot will follow. So a snapshot replaces the local book, a diff the
// snapshot already holds (final id <= its id) is skipped, the others are
// applied, and after a gap (or a diff that does not follow on) the book is
// unsynced until the next snapshot.
//
// Snapshots carry the whole book by default (LOADER_BOOK_DEPTH=0), so the
// model holds exactly the loader's book; with LOADER_BOOK_DEPTH set, deeper
// levels are learnt from the diffs that touch them.
//
// A Model is not safe for concurrent use.
type Model struct {
	keep   int
	trades []binance.AggTrade // oldest first, at most keep

	tradeCount, firstID, lastID, idBreaks int64
	tradeGaps, bookGaps                   int64
	lastGap                               string

	bids, asks          map[float64]float64
	synced              bool
	updateID            int64
	snapshots, diffs    int64
	bookTime            int64
	tradeRate, bookRate *Rate
	malformed           int64
}

// NewModel returns an empty model keeping the last keep trades.
func NewModel(keep int) *Model {
	return &Model{keep: max(1, keep), bids: map[float64]float64{}, asks: map[float64]float64{},
		tradeRate: NewRate(rateWindow), bookRate: NewRate(rateWindow)}
}

// Malformed counts a message that did not decode.
func (m *Model) Malformed() { m.malformed++ }

// Apply takes one record received at now.
func (m *Model) Apply(r Record, now time.Time) {
	switch r.Kind {
	case KindTrade:
		m.trade(r.Trade, now)
	case KindSnapshot:
		m.snapshot(r.Snapshot, now)
	case KindDiff:
		m.diff(r.Diff, now)
	case KindGap:
		m.gap(r.Stream, r.Gap)
	}
}

func (m *Model) trade(t binance.AggTrade, now time.Time) {
	if m.tradeCount == 0 {
		m.firstID = t.AggID
	} else if t.AggID != m.lastID+1 {
		m.idBreaks++
	}
	m.tradeCount++
	m.lastID = t.AggID
	if len(m.trades) == m.keep {
		m.trades = append(m.trades[:0], m.trades[1:]...)
	}
	m.trades = append(m.trades, t)
	m.tradeRate.Add(now, 1)
}

func (m *Model) snapshot(s binance.BookSnapshot, now time.Time) {
	clear(m.bids)
	clear(m.asks)
	for _, l := range s.Bids {
		setLevel(m.bids, l)
	}
	for _, l := range s.Asks {
		setLevel(m.asks, l)
	}
	m.synced, m.updateID, m.bookTime = true, s.LastUpdateID, s.Time
	m.snapshots++
	m.bookRate.Add(now, 1)
}

func (m *Model) diff(d binance.BookDiff, now time.Time) {
	m.diffs++
	m.bookRate.Add(now, 1)
	switch {
	case !m.synced || d.FinalUpdateID <= m.updateID:
		return // waiting for a snapshot, or already in the one we hold
	case d.FirstUpdateID > m.updateID+1:
		// The loader publishes only diffs that follow on: one missing here
		// was lost between it and us.
		m.bookGaps++
		m.lastGap = fmt.Sprintf("book updates %d..%d missing from the topic", m.updateID+1, d.FirstUpdateID-1)
		m.synced = false
		return
	}
	for _, l := range d.Bids {
		setLevel(m.bids, l)
	}
	for _, l := range d.Asks {
		setLevel(m.asks, l)
	}
	m.updateID, m.bookTime = d.FinalUpdateID, d.Time
}

func (m *Model) gap(s Stream, g binance.Gap) {
	m.lastGap = fmt.Sprintf("%d..%d: %s", g.From, g.To, g.Reason)
	if s == Book {
		m.bookGaps++
		m.synced = false
		return
	}
	m.tradeGaps++
	if m.tradeCount > 0 && g.From == m.lastID+1 {
		m.lastID = g.To // reported, so the next trade is not an id break too
	}
}

// setLevel sets an absolute quantity; 0 removes the level.
func setLevel(side map[float64]float64, l binance.Level) {
	if l[1] == 0 {
		delete(side, l[0])
		return
	}
	side[l[0]] = l[1]
}

// View is what the terminal shows.
type View struct {
	At     time.Time          // when the view was taken
	Trades []binance.AggTrade // the last trades, newest first
	// TradeCount trades arrived, with ids FirstID..LastID; IDBreaks of them
	// did not follow the one before (0 for an unbroken, ordered stream).
	TradeCount, FirstID, LastID, IDBreaks int64
	TradesPerSec                          float64

	Top        Top
	Snapshots  int64   // book snapshots received
	Diffs      int64   // book diffs received
	BookPerSec float64 // book records (snapshots and diffs) per second

	TradeGaps, BookGaps int64
	LastGap             string
	Malformed           int64
}

// Top is the top of the local book.
type Top struct {
	Synced         bool  // a snapshot and an unbroken run of diffs since
	UpdateID       int64 // the book's last update id
	Time           int64 // the time (epoch ms) of its last snapshot or diff
	Bid, BidQty    float64
	Ask, AskQty    float64
	HasBid, HasAsk bool
}

// TwoSided reports whether the book has both a bid and an ask.
func (t Top) TwoSided() bool { return t.HasBid && t.HasAsk }

// Spread returns ask - bid (0 unless TwoSided).
func (t Top) Spread() float64 {
	if !t.TwoSided() {
		return 0
	}
	return t.Ask - t.Bid
}

// SpreadBps returns the spread in basis points of the mid price (0 unless
// TwoSided).
func (t Top) SpreadBps() float64 {
	mid := (t.Ask + t.Bid) / 2
	if !t.TwoSided() || mid <= 0 {
		return 0
	}
	return t.Spread() / mid * 1e4
}

// View returns what the model shows at now.
func (m *Model) View(now time.Time) View {
	v := View{At: now, TradeCount: m.tradeCount, FirstID: m.firstID, LastID: m.lastID, IDBreaks: m.idBreaks,
		TradesPerSec: m.tradeRate.PerSecond(now), Snapshots: m.snapshots, Diffs: m.diffs,
		BookPerSec: m.bookRate.PerSecond(now), TradeGaps: m.tradeGaps, BookGaps: m.bookGaps,
		LastGap: m.lastGap, Malformed: m.malformed}
	v.Trades = make([]binance.AggTrade, len(m.trades))
	for i, t := range m.trades {
		v.Trades[len(m.trades)-1-i] = t
	}
	v.Top = Top{Synced: m.synced, UpdateID: m.updateID, Time: m.bookTime}
	for p, q := range m.bids {
		if !v.Top.HasBid || p > v.Top.Bid {
			v.Top.Bid, v.Top.BidQty, v.Top.HasBid = p, q, true
		}
	}
	for p, q := range m.asks {
		if !v.Top.HasAsk || p < v.Top.Ask {
			v.Top.Ask, v.Top.AskQty, v.Top.HasAsk = p, q, true
		}
	}
	return v
}
