package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// DataType is one kind of market data a loader fetches, named by its TYPE.
// DataTypes lists them all; every other list of data types (the loaders'
// parsing, queue-manager's validation, its OpenAPI document) is derived
// from it or checked against it by a test.
type DataType struct {
	// Name is the TYPE, or for a type with an interval the part before it:
	// api_candles_ in api_candles_5m.
	Name string
	// Interval is set when the TYPE is Name followed by a kline interval
	// (one of KlineIntervals).
	Interval bool
	// Levels is set when the TYPE is Name followed by a partial book depth,
	// the levels per side (one of BookLevels): ws_depth20.
	Levels bool
	// Live is set for a WebSocket stream, which runs until it is stopped or
	// its time range ends (a time range is optional and must end in the
	// future); the others are history, loaded for a time range that is
	// required and starts in the past.
	Live bool
	// Stream is where the records come from on Binance: for a live type the
	// WebSocket stream subscribed, with <symbol> (lower case), <interval>
	// and <levels> to fill in; for history the archives and the REST
	// endpoint.
	Stream string
	// Description says what the records are.
	Description string
}

// DataTypes lists every data type, in the order they are documented.
var DataTypes = []DataType{
	{Name: "api_candles_", Interval: true, Stream: "klines archives (data.binance.vision) and GET /api/v3/klines",
		Description: "closed candles of the interval"},
	{Name: "api_trades", Stream: "aggTrades archives (data.binance.vision) and GET /api/v3/aggTrades",
		Description: "aggregate trades"},
	{Name: "ws_trades", Live: true, Stream: "<symbol>@aggTrade",
		Description: "aggregate trades as they happen"},
	{Name: "ws_orderbook", Live: true, Stream: "<symbol>@depth@100ms",
		Description: "the order book: a snapshot when it syncs and every applied diff update"},
	{Name: "ws_candles_", Interval: true, Live: true, Stream: "<symbol>@kline_<interval>",
		Description: "candles of the interval as they close"},
	{Name: "ws_book_ticker", Live: true, Stream: "<symbol>@bookTicker",
		Description: "the best bid and ask with their quantities, on every change"},
	{Name: "ws_depth", Levels: true, Live: true, Stream: "<symbol>@depth<levels>",
		Description: "the top <levels> levels of each side of the book, a snapshot every second"},
}

// BookLevels lists the partial book depths Binance streams
// (web-socket-streams.md, "Partial Book Depth Streams"): the levels per
// side a ws_depth<levels> type carries.
var BookLevels = []string{"5", "10", "20"}

// KlineInterval is a Binance kline interval a candle type can carry.
type KlineInterval struct {
	// Name is the interval as the exchange writes it; case matters (1m is a
	// minute, 1M a month).
	Name string
	// CaseClash is set for an interval that cannot appear in lower-case
	// names: queue ids, topics and collections are lower case, where 1M
	// (a month) could not be told from 1m (a minute). Workflows do not take
	// a type with such an interval; a loader started directly does.
	CaseClash bool
}

// KlineIntervals lists every kline interval, shortest first.
var KlineIntervals = []KlineInterval{
	{Name: "1s"}, {Name: "1m"}, {Name: "3m"}, {Name: "5m"}, {Name: "15m"}, {Name: "30m"},
	{Name: "1h"}, {Name: "2h"}, {Name: "4h"}, {Name: "6h"}, {Name: "8h"}, {Name: "12h"},
	{Name: "1d"}, {Name: "3d"}, {Name: "1w"}, {Name: "1M", CaseClash: true},
}

// Pattern returns the TYPE as documentation writes it: api_trades,
// api_candles_<interval> for a type with an interval, ws_depth<levels> for
// one with a book depth.
func (d DataType) Pattern() string {
	switch {
	case d.Interval:
		return d.Name + "<interval>"
	case d.Levels:
		return d.Name + "<levels>"
	}
	return d.Name
}

// Suffixes returns what may follow the name in a TYPE of d: each kline
// interval, each book depth, or nil for a type that takes none. With
// workflowOnly, intervals that clash in lower-case names are left out.
func (d DataType) Suffixes(workflowOnly bool) []string {
	switch {
	case d.Interval:
		var out []string
		for _, iv := range KlineIntervals {
			if !workflowOnly || !iv.CaseClash {
				out = append(out, iv.Name)
			}
		}
		return out
	case d.Levels:
		return slices.Clone(BookLevels)
	}
	return nil
}

// Names returns every TYPE of d: its name, or its name with each suffix.
// With workflowOnly, intervals that clash in lower-case names are left out.
func (d DataType) Names(workflowOnly bool) []string {
	if !d.Interval && !d.Levels {
		return []string{d.Name}
	}
	var out []string
	for _, s := range d.Suffixes(workflowOnly) {
		out = append(out, d.Name+s)
	}
	return out
}

// StreamName returns the WebSocket stream a live type subscribes to for
// symbol; suffix is the type's interval or book depth ("" for a type
// without one). It returns "" for a history type.
func (d DataType) StreamName(symbol, suffix string) string {
	if !d.Live {
		return ""
	}
	return strings.NewReplacer("<symbol>", strings.ToLower(symbol), "<interval>", suffix, "<levels>", suffix).Replace(d.Stream)
}

// DataTypePatterns lists the TYPE patterns of every data type, for messages
// and documentation: "api_candles_<interval>, api_trades, ... or
// ws_candles_<interval>".
func DataTypePatterns() string {
	p := make([]string, len(DataTypes))
	for i, d := range DataTypes {
		p[i] = d.Pattern()
	}
	return orList(p)
}

// LookupDataType returns the data type of the TYPE typ and its suffix: the
// interval name or the book depth ("" for a type without one). It returns
// an error when typ names no data type or carries an interval that is not
// one of KlineIntervals or a depth that is not one of BookLevels.
func LookupDataType(typ string) (DataType, string, error) {
	for _, d := range DataTypes {
		if !d.Interval && !d.Levels {
			if typ == d.Name {
				return d, "", nil
			}
			continue
		}
		if rest, ok := strings.CutPrefix(typ, d.Name); ok {
			if slices.Contains(d.Suffixes(false), rest) {
				return d, rest, nil
			}
			if d.Levels {
				return DataType{}, "", fmt.Errorf("%q: unknown book depth %q (want %s levels)", typ, rest, orList(BookLevels))
			}
			return DataType{}, "", fmt.Errorf("%q: unknown kline interval %q", typ, rest)
		}
	}
	return DataType{}, "", fmt.Errorf("unknown data type %q (want %s)", typ, DataTypePatterns())
}

// ValidateWorkflowType checks that typ is a data type a workflow can carry:
// a known type whose interval does not clash in lower-case names. It
// returns the data type.
func ValidateWorkflowType(typ string) (DataType, error) {
	d, iv, err := LookupDataType(typ)
	if err != nil {
		return DataType{}, err
	}
	for _, k := range KlineIntervals {
		if k.Name == iv && k.CaseClash {
			return DataType{}, fmt.Errorf("%s: interval %s is not supported by workflows: names are lower case, "+
				"where %s could not be told from %s; load it with a loader directly", typ, iv, iv, strings.ToLower(iv))
		}
	}
	return d, nil
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
