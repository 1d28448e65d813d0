package live

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
)

// Screen draws Views: on a terminal it redraws the block in place (ANSI);
// otherwise it writes one compact line per call (the caller paces it).
type Screen struct {
	Out    io.Writer
	TTY    bool
	Symbol string

	drawn int
}

// Draw shows v with a header line (the workflow and how long it has run).
func (s *Screen) Draw(v View, header string) {
	if !s.TTY {
		fmt.Fprintln(s.Out, Line(v, s.Symbol))
		return
	}
	lines := append([]string{header}, Lines(v, s.Symbol)...)
	var b strings.Builder
	if s.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", s.drawn)
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K" + l + "\n")
	}
	for range s.drawn - len(lines) { // a shorter block: clear what is left
		b.WriteString("\x1b[2K\n")
	}
	s.drawn = max(s.drawn, len(lines))
	_, _ = io.WriteString(s.Out, b.String())
}

// Lines is the full view: the top of book, the rates and the last trades.
func Lines(v View, symbol string) []string {
	t := v.Top
	book := "book: waiting for a snapshot"
	if t.HasBid || t.HasAsk {
		state := "synced"
		if !t.Synced {
			state = "resyncing"
		}
		book = fmt.Sprintf("bid %s x %s   ask %s x %s   spread %s   (update %d, %s)",
			price(t.Bid, t.HasBid), qty(t.BidQty, t.HasBid), price(t.Ask, t.HasAsk), qty(t.AskQty, t.HasAsk), spread(t), t.UpdateID, state)
	}
	out := []string{
		"  " + symbol + "  " + book,
		fmt.Sprintf("  trades %.1f/s (%d, ids %d..%d, %d out of sequence)   book %.1f updates/s (%d snapshots, %d diffs)",
			v.TradesPerSec, v.TradeCount, v.FirstID, v.LastID, v.IDBreaks, v.BookPerSec, v.Snapshots, v.Diffs),
		"  gaps: " + gaps(v),
		"",
		fmt.Sprintf("  %-12s  %14s  %12s  %-4s  %s", "time", "price", "qty", "side", "id"),
	}
	for _, tr := range v.Trades {
		out = append(out, fmt.Sprintf("  %-12s  %14s  %12s  %-4s  %d", clock(tr.Time), num(tr.Price), num(tr.Qty), side(tr), tr.AggID))
	}
	return out
}

// Line is the compact view: one line with the top of book, the last trade
// and the rates.
func Line(v View, symbol string) string {
	t := v.Top
	last := "no trade yet"
	if len(v.Trades) > 0 {
		tr := v.Trades[0]
		last = fmt.Sprintf("last %s x %s %s", num(tr.Price), num(tr.Qty), side(tr))
	}
	return fmt.Sprintf("%s %s bid %s ask %s spread %s | %s | %.1f trades/s %.1f book/s | trades %d gaps %d",
		v.At.UTC().Format(time.TimeOnly), symbol, price(t.Bid, t.HasBid), price(t.Ask, t.HasAsk), spread(t), last, v.TradesPerSec, v.BookPerSec,
		v.TradeCount, v.TradeGaps+v.BookGaps)
}

func spread(t Top) string {
	if !t.TwoSided() {
		return "-"
	}
	return fmt.Sprintf("%s (%.2f bps)", num(t.Spread()), t.SpreadBps())
}

func gaps(v View) string {
	if v.TradeGaps+v.BookGaps == 0 {
		return "none"
	}
	return fmt.Sprintf("%d in trades, %d in the book; last %s", v.TradeGaps, v.BookGaps, v.LastGap)
}

// side is the taker's side: a buyer who was the maker means the taker sold.
func side(t binance.AggTrade) string {
	if t.BuyerMaker {
		return "sell"
	}
	return "buy"
}

func price(p float64, ok bool) string {
	if !ok {
		return "-"
	}
	return num(p)
}

func qty(q float64, ok bool) string {
	if !ok {
		return "-"
	}
	return num(q)
}

// num writes a price or quantity as the exchange does: the shortest decimal,
// spread differences rounded to 8 places first.
func num(x float64) string {
	return strconv.FormatFloat(float64(int64(x*1e8+copysignHalf(x)))/1e8, 'f', -1, 64)
}

func copysignHalf(x float64) float64 {
	if x < 0 {
		return -0.5
	}
	return 0.5
}

func clock(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04:05.000") }
