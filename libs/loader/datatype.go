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
// data topic. Live data (ws_trades, ws_orderbook, ws_candles_<interval>)
// comes from the WebSocket streams until the task is stopped or its time
// range ends.
package loader

import (
	"fmt"
	"strings"

	"github.com/streamforge/streamforge/libs/binance"
)

// Kind is what a loader fetches.
type Kind int

// The data kinds. Their TYPE names are api_candles_<interval>, api_trades,
// ws_trades, ws_orderbook and ws_candles_<interval>.
const (
	APICandles Kind = iota + 1
	APITrades
	WSTrades
	WSOrderbook
	WSCandles
)

var kindNames = map[Kind]string{
	APICandles: "api_candles_<interval>", APITrades: "api_trades", WSTrades: "ws_trades",
	WSOrderbook: "ws_orderbook", WSCandles: "ws_candles_<interval>",
}

// String returns the TYPE pattern of the kind.
func (k Kind) String() string { return kindNames[k] }

// Live reports whether the kind streams over WebSocket.
func (k Kind) Live() bool { return k == WSTrades || k == WSOrderbook || k == WSCandles }

// AllKinds lists every kind, for the universal loader.
var AllKinds = []Kind{APICandles, APITrades, WSTrades, WSOrderbook, WSCandles}

// DataType is a parsed TYPE.
type DataType struct {
	Kind     Kind
	Interval binance.Interval // candles only
}

// String returns the TYPE name, e.g. api_candles_5m.
func (d DataType) String() string {
	switch d.Kind {
	case APICandles:
		return "api_candles_" + d.Interval.String()
	case WSCandles:
		return "ws_candles_" + d.Interval.String()
	}
	return kindNames[d.Kind]
}

// ParseDataType reads a TYPE such as api_candles_5m or ws_orderbook.
func ParseDataType(s string) (DataType, error) {
	for _, p := range []struct {
		prefix string
		kind   Kind
	}{{"api_candles_", APICandles}, {"ws_candles_", WSCandles}} {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok {
			iv, err := binance.ParseInterval(rest)
			if err != nil {
				return DataType{}, fmt.Errorf("%q: %w", s, err)
			}
			return DataType{Kind: p.kind, Interval: iv}, nil
		}
	}
	for k, name := range kindNames {
		if name == s {
			return DataType{Kind: k}, nil
		}
	}
	return DataType{}, fmt.Errorf("unknown data type %q (want api_candles_<interval>, api_trades, ws_trades, ws_orderbook or ws_candles_<interval>)", s)
}
