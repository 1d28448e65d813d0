// Package live is Scenario 2's view of a live market: it tails the data
// topics of a live workflow's loaders (ws_trades and ws_orderbook), keeps
// the last trades, a local top of book and the update rates in a Model, and
// renders what the Model shows on a terminal.
//
// The Model is pure: records and the time go in, a View comes out. Tailing
// Kafka and drawing are kept apart from it so that it can be tested alone.
package live

import (
	"encoding/json"
	"errors"
	"fmt"

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
type Kind int

// The record kinds the live loaders publish (libs/binance/records.go).
const (
	KindTrade Kind = iota + 1
	KindSnapshot
	KindDiff
	KindGap
)

// Record is one decoded data-topic record; the field its Kind names is set.
type Record struct {
	Stream   Stream
	Kind     Kind
	Trade    binance.AggTrade
	Snapshot binance.BookSnapshot
	Diff     binance.BookDiff
	Gap      binance.Gap
}

// ErrUnknownRecord is returned by Decode for a JSON object that is none of
// the live record kinds.
var ErrUnknownRecord = errors.New("not a trade, book snapshot, book diff or gap")

// Decode reads one data-topic message value. The kind is told by the field
// only that kind has (agg_id, first_update_id, last_update_id, reason): the
// keys alone are ambiguous, "<SYMBOL>_<n>" being both a trade's and a
// snapshot's. It returns ErrUnknownRecord, or the JSON error, for anything
// else.
func Decode(s Stream, value []byte) (Record, error) {
	var probe struct {
		AggID         *int64  `json:"agg_id"`
		FirstUpdateID *int64  `json:"first_update_id"`
		LastUpdateID  *int64  `json:"last_update_id"`
		Reason        *string `json:"reason"`
	}
	if err := json.Unmarshal(value, &probe); err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	r := Record{Stream: s}
	var err error
	switch {
	case probe.AggID != nil:
		r.Kind, err = KindTrade, json.Unmarshal(value, &r.Trade)
	case probe.FirstUpdateID != nil:
		r.Kind, err = KindDiff, json.Unmarshal(value, &r.Diff)
	case probe.LastUpdateID != nil:
		r.Kind, err = KindSnapshot, json.Unmarshal(value, &r.Snapshot)
	case probe.Reason != nil:
		r.Kind, err = KindGap, json.Unmarshal(value, &r.Gap)
	default:
		return Record{}, ErrUnknownRecord
	}
	if err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	return r, nil
}
