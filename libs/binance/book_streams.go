package binance

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// The two book streams that carry state rather than changes
// (web-socket-streams.md): "Individual Symbol Book Ticker Streams"
// (<symbol>@bookTicker, the best bid and ask on every change) and "Partial
// Book Depth Streams" (<symbol>@depth<levels>[@100ms], the top levels of
// each side every 1000 or 100 ms). Neither payload carries an event time,
// and the partial book carries no symbol either: the loader takes the time
// of receipt and the symbol from the stream name.

// BookTicker is the best bid and ask of a symbol at one order book update
// id. Its key is "<SYMBOL>_<updateId>": the same update seen twice (a
// retried publish, a resumed stream) overwrites itself.
type BookTicker struct {
	Symbol   string  `json:"symbol"`
	Time     int64   `json:"time"` // when the loader received it: Binance sends no event time
	UpdateID int64   `json:"update_id"`
	BidPrice float64 `json:"bid_price"`
	BidQty   float64 `json:"bid_qty"`
	AskPrice float64 `json:"ask_price"`
	AskQty   float64 `json:"ask_qty"`
}

// Key returns the deterministic record key "<SYMBOL>_<updateId>".
func (b *BookTicker) Key() string {
	return b.Symbol + "_" + strconv.FormatInt(b.UpdateID, 10)
}

// AppendJSON appends the book ticker as a JSON object, "_key" included, to
// dst.
func (b *BookTicker) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, b.Symbol)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, b.UpdateID, 10)
	dst = appendStrField(dst, `","symbol":`, b.Symbol)
	dst = appendIntField(dst, `,"time":`, b.Time)
	dst = appendIntField(dst, `,"update_id":`, b.UpdateID)
	for _, f := range [...]struct {
		name string
		v    float64
	}{{`,"bid_price":`, b.BidPrice}, {`,"bid_qty":`, b.BidQty}, {`,"ask_price":`, b.AskPrice}, {`,"ask_qty":`, b.AskQty}} {
		dst = appendFloat(append(dst, f.name...), f.v)
	}
	return append(dst, '}')
}

// ParseBookTicker decodes the data of a <symbol>@bookTicker stream message
// (members u, s, b, B, a, A); Time is left to the caller. It returns an
// error naming the member that is missing or malformed.
func ParseBookTicker(data []byte) (BookTicker, error) {
	var ev struct {
		UpdateID *int64  `json:"u"`
		Symbol   string  `json:"s"`
		Bid      *string `json:"b"`
		BidQty   *string `json:"B"`
		Ask      *string `json:"a"`
		AskQty   *string `json:"A"`
	}
	if err := exactjson.Unmarshal(data, &ev); err != nil {
		return BookTicker{}, fmt.Errorf("book ticker: %w", err)
	}
	var missing []string
	for _, m := range []struct {
		name string
		ok   bool
	}{{"u", ev.UpdateID != nil}, {"s", ev.Symbol != ""}, {"b", ev.Bid != nil}, {"B", ev.BidQty != nil}, {"a", ev.Ask != nil}, {"A", ev.AskQty != nil}} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return BookTicker{}, fmt.Errorf("book ticker: members %s missing", strings.Join(missing, ", "))
	}
	t := BookTicker{Symbol: ev.Symbol, UpdateID: *ev.UpdateID}
	for _, f := range []struct {
		name string
		s    string
		dst  *float64
	}{{"b", *ev.Bid, &t.BidPrice}, {"B", *ev.BidQty, &t.BidQty}, {"a", *ev.Ask, &t.AskPrice}, {"A", *ev.AskQty, &t.AskQty}} {
		v, err := strconv.ParseFloat(f.s, 64)
		if err != nil {
			return BookTicker{}, fmt.Errorf("book ticker %s: member %q: %w", ev.Symbol, f.name, err)
		}
		*f.dst = v
	}
	return t, nil
}

// ParsePartialDepth decodes the data of a <symbol>@depth<levels> stream
// message ({lastUpdateId, bids, asks}) into a snapshot of symbol, which the
// payload does not name, received at timeMs. It returns an error for a
// payload without an update id or a malformed level.
func ParsePartialDepth(symbol string, data []byte, timeMs int64) (BookSnapshot, error) {
	var d struct {
		LastUpdateID int64        `json:"lastUpdateId"`
		Bids         *[][2]string `json:"bids"`
		Asks         *[][2]string `json:"asks"`
	}
	if err := exactjson.Unmarshal(data, &d); err != nil {
		return BookSnapshot{}, fmt.Errorf("partial depth %s: %w", symbol, err)
	}
	if d.LastUpdateID <= 0 || d.Bids == nil || d.Asks == nil {
		return BookSnapshot{}, fmt.Errorf("partial depth %s: %w", symbol, errNotPartialDepth)
	}
	bids, err := parseLevels(*d.Bids)
	if err != nil {
		return BookSnapshot{}, fmt.Errorf("partial depth %s: bids: %w", symbol, err)
	}
	asks, err := parseLevels(*d.Asks)
	if err != nil {
		return BookSnapshot{}, fmt.Errorf("partial depth %s: asks: %w", symbol, err)
	}
	return BookSnapshot{Symbol: symbol, Time: timeMs, LastUpdateID: d.LastUpdateID, Bids: bids, Asks: asks}, nil
}

var errNotPartialDepth = errors.New("not a partial book: lastUpdateId, bids and asks are required")

// StreamSymbol returns the symbol a stream name such as btcusdt@depth5 is
// for, upper case as Binance writes symbols in payloads.
func StreamSymbol(stream string) string {
	sym, _, _ := strings.Cut(stream, "@")
	return strings.ToUpper(sym)
}
