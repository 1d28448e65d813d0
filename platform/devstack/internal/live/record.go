// Package live is Scenario 2's view of a live market: it tails the data
// topics of a live workflow's loaders (ws_trades and ws_orderbook), keeps
// the last trades, a local top of book and the update rates in a Model, and
// renders what the Model shows on a terminal.
//
// The Model is pure: records and the time go in, a View comes out. Tailing
// Kafka and drawing are kept apart from it so that it can be tested alone.
package live

import (
	"github.com/streamforge/streamforge/libs/binance"
)

// Stream says which loader a record came from; a gap means different things
// on each.
type Stream int

const (
	// Trades is a ws_trades loader's topic: aggregate trades and gaps in
	// their ids.
	Trades Stream = iota
	// Book is a ws_orderbook loader's topic: snapshots, the diffs applied on
	// top of them, and gaps in the update ids.
	Book
)

// StreamOf returns the Stream of a workflow step's data type (ws_trades or
// ws_orderbook); ok is false for any other type.
func StreamOf(dataType string) (s Stream, ok bool) {
	switch dataType {
	case "ws_trades":
		return Trades, true
	case "ws_orderbook":
		return Book, true
	}
	return 0, false
}

// Kind is what a record is.
type Kind = binance.LiveKind

// The record kinds the live loaders publish (libs/binance/records.go).
const (
	KindTrade    = binance.LiveTrade
	KindSnapshot = binance.LiveSnapshot
	KindDiff     = binance.LiveDiff
	KindGap      = binance.LiveGap
)

// Record is one decoded data-topic record; the field its Kind names is set.
type Record struct {
	Stream Stream
	binance.LiveRecord
}

// ErrUnknownRecord is returned by Decode for a JSON object that is none of
// the live record kinds.
var ErrUnknownRecord = binance.ErrUnknownRecord

// Decode reads one data-topic message value of stream s
// (binance.DecodeLive).
func Decode(s Stream, value []byte) (Record, error) {
	r, err := binance.DecodeLive(value)
	if err != nil {
		return Record{}, err
	}
	return Record{Stream: s, LiveRecord: r}, nil
}
