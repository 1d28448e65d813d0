// Package loader is the engine of StreamForge's Binance loaders
// (loader-producer, loader-api-candles, loader-api-trades and
// loader-ws-orderbook): it turns one task — symbols, a data type and a time
// range — into records on the task's Kafka data topic, keyed by symbol, with
// deterministic _keys so a retry or a resumed run overwrites instead of
// duplicating.
//
// History (api_candles_<interval>, api_trades) comes from the bulk archives
// for whole days and months and from the REST API for the edges, fetched
// concurrently within the exchange's request-weight budget and published in
// time order, so a restarted loader resumes after the last records of its
// data topic. Live data (ws_trades, ws_orderbook, ws_candles_<interval>,
// ws_book_ticker, ws_depth<levels>) comes from the WebSocket streams until
// the task is stopped or its time range ends. The data types, which are
// live and which streams they read are protocol.DataTypes.
package loader

import (
	"fmt"
	"strconv"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Kind is what a loader fetches: one entry of protocol.DataTypes, whose
// name, live-or-history and stream facts it takes from there. The engine
// keeps its own handling per kind (history.go, live.go).
type Kind int

// The data kinds, one per entry of protocol.DataTypes.
const (
	APICandles Kind = iota + 1
	APITrades
	WSTrades
	WSOrderbook
	WSCandles
	WSBookTicker
	WSDepth
)

// kindOf maps protocol.DataTypes names to the kinds this engine handles; a
// test checks that every data type has one.
var kindOf = map[string]Kind{
	"api_candles_": APICandles, "api_trades": APITrades, "ws_trades": WSTrades,
	"ws_orderbook": WSOrderbook, "ws_candles_": WSCandles, "ws_book_ticker": WSBookTicker,
	"ws_depth": WSDepth,
}

// info returns the protocol table entry of k.
func (k Kind) info() (protocol.DataType, bool) {
	for _, d := range protocol.DataTypes {
		if kindOf[d.Name] == k {
			return d, true
		}
	}
	return protocol.DataType{}, false
}

// String returns the TYPE pattern of the kind, e.g. api_candles_<interval>.
func (k Kind) String() string {
	d, _ := k.info()
	return d.Pattern()
}

// Live reports whether the kind streams over WebSocket.
func (k Kind) Live() bool {
	d, _ := k.info()
	return d.Live
}

// AllKinds lists every kind, for the universal loader, in the order of
// protocol.DataTypes.
var AllKinds = allKinds()

func allKinds() []Kind {
	out := make([]Kind, 0, len(protocol.DataTypes))
	for _, d := range protocol.DataTypes {
		if k, ok := kindOf[d.Name]; ok {
			out = append(out, k)
		}
	}
	return out
}

// DataType is a parsed TYPE.
type DataType struct {
	Kind     Kind
	Interval binance.Interval // candles only
	Levels   int              // partial book depth (ws_depth<levels>) only
}

// suffix returns what follows the kind's name in the TYPE: the interval,
// the book depth or "".
func (d DataType) suffix() string {
	info, _ := d.Kind.info()
	switch {
	case info.Interval:
		return d.Interval.String()
	case info.Levels:
		return strconv.Itoa(d.Levels)
	}
	return ""
}

// String returns the TYPE name, e.g. api_candles_5m.
func (d DataType) String() string {
	info, _ := d.Kind.info()
	return info.Name + d.suffix()
}

// ParseDataType reads a TYPE such as api_candles_5m or ws_orderbook. It
// returns an error for a TYPE protocol.DataTypes does not list, or one
// this engine has no kind for.
func ParseDataType(s string) (DataType, error) {
	info, suffix, err := protocol.LookupDataType(s)
	if err != nil {
		return DataType{}, err
	}
	k, ok := kindOf[info.Name]
	if !ok {
		return DataType{}, fmt.Errorf("data type %q is not handled by this loader", s)
	}
	d := DataType{Kind: k}
	if info.Interval {
		if d.Interval, err = binance.ParseInterval(suffix); err != nil {
			return DataType{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	if info.Levels {
		if d.Levels, err = strconv.Atoi(suffix); err != nil {
			return DataType{}, fmt.Errorf("%q: book depth: %w", s, err)
		}
	}
	return d, nil
}
