package binance

import (
	"errors"
	"fmt"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// LiveKind is what a live loader's data-topic record is.
type LiveKind int

// The record kinds the live loaders (ws_trades, ws_orderbook) publish.
const (
	LiveTrade LiveKind = iota + 1
	LiveSnapshot
	LiveDiff
	LiveGap
)

// LiveRecord is one decoded live data-topic record; the field its Kind
// names is set.
type LiveRecord struct {
	Kind     LiveKind
	Trade    AggTrade
	Snapshot BookSnapshot
	Diff     BookDiff
	Gap      Gap
}

// ErrUnknownRecord is returned by DecodeLive for a JSON object that is none
// of the live record kinds.
var ErrUnknownRecord = errors.New("not a trade, book snapshot, book diff or gap")

// DecodeLive reads one live data-topic message value. The kind is told by
// the field only that kind has (agg_id, first_update_id, last_update_id,
// reason): the keys alone are ambiguous, "<SYMBOL>_<n>" being both a
// trade's and a snapshot's. It returns ErrUnknownRecord, or the JSON error,
// for anything else. Member names must match exactly (exactjson), as for
// every payload this package decodes.
func DecodeLive(value []byte) (LiveRecord, error) {
	var probe struct {
		AggID         *int64  `json:"agg_id"`
		FirstUpdateID *int64  `json:"first_update_id"`
		LastUpdateID  *int64  `json:"last_update_id"`
		Reason        *string `json:"reason"`
	}
	if err := exactjson.Unmarshal(value, &probe); err != nil {
		return LiveRecord{}, fmt.Errorf("decode record: %w", err)
	}
	var r LiveRecord
	var err error
	switch {
	case probe.AggID != nil:
		r.Kind, err = LiveTrade, exactjson.Unmarshal(value, &r.Trade)
	case probe.FirstUpdateID != nil:
		r.Kind, err = LiveDiff, exactjson.Unmarshal(value, &r.Diff)
	case probe.LastUpdateID != nil:
		r.Kind, err = LiveSnapshot, exactjson.Unmarshal(value, &r.Snapshot)
	case probe.Reason != nil:
		r.Kind, err = LiveGap, exactjson.Unmarshal(value, &r.Gap)
	default:
		return LiveRecord{}, ErrUnknownRecord
	}
	if err != nil {
		return LiveRecord{}, fmt.Errorf("decode record: %w", err)
	}
	return r, nil
}
