// Package coverage is the coverage ledger: for every symbol, data type and
// hour, whether the data is present, missing or degraded, why, and where it
// came from (the exchange's archives, its REST API or a live stream).
//
// The ledger is written in two steps. A loader keeps a Ledger per symbol
// while it publishes (every record counted in its hour with its source,
// every known hole noted with its reason) and sends the ledgers in its
// finished event's result ("coverage": []Ledger); a live stream stopped
// before its range's end, or without one, sends them in its interrupted
// event's result, ending at the stop (Tracker.Stop). The connector that stores
// the loader's records, once it has stored all of them, checks each hour's
// count against the store (a disagreement makes the hour degraded) and
// writes one document per hour into the store's Collection, keyed
// deterministically by symbol, type and hour (Key), so a rerun overwrites.
// queue-manager serves the collection (GET /api/v1/coverage).
package coverage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Collection is the store collection of ledger documents (one per symbol,
// data type and hour), indexed by symbol and hour like market data.
const Collection = "coverage"

// HourMs is the ledger's granularity: an hour in milliseconds.
const HourMs = int64(time.Hour / time.Millisecond)

// State is an hour's verdict.
type State string

// The states of an hour.
const (
	// Present: every record the hour should hold is there.
	Present State = "present"
	// Degraded: records are there, but a hole was found in them (closed
	// or not) or the sources disagree.
	Degraded State = "degraded"
	// Missing: no record of the hour is there.
	Missing State = "missing"
)

// Source is where an hour's records came from.
type Source string

// The sources of records.
const (
	Archive Source = "archive" // data.binance.vision's daily or monthly files
	REST    Source = "rest"    // the exchange's REST API
	Live    Source = "live"    // a WebSocket stream
)

// The reasons an hour is not plainly present. Reasons with a number are
// built by the functions below.
const (
	ReasonArchiveAbsent = "exchange archive absent; loaded over REST"
	ReasonNoRecords     = "the exchange returned no records (maintenance or no trading)"
	ReasonWSGap         = "websocket gap"
	ReasonDepthGap      = "depth update sequence gap; book synced again from a snapshot"
	ReasonLoaderStopped = "loader stopped and relaunched"
	ReasonEarlierRun    = "loaded by an earlier attempt of the step; sources not recorded"
)

// Backfill outcomes of a WebSocket gap.
const (
	BackfillClosed = "closed" // REST gave every missed record
	BackfillFailed = "failed" // REST did not: a gap record marks the hole
)

// ReasonShort says that an hour holds fewer candles than it should.
func ReasonShort(got, want int64) string {
	return fmt.Sprintf("%d of %d candles from the exchange", got, want)
}

// ReasonStoreMismatch says that the store holds another number of records
// for the hour than the loader published.
func ReasonStoreMismatch(stored, published int64) string {
	return fmt.Sprintf("store holds %d records, the loader published %d", stored, published)
}

// Hour is one ledger entry: a symbol's data type over one hour.
type Hour struct {
	Symbol string `json:"symbol"`
	Type   string `json:"type"`
	// Time is the hour's start, epoch ms (UTC).
	Time   int64  `json:"time"`
	State  State  `json:"state"`
	Source string `json:"source,omitempty"` // the sources, "+"-joined in Sources order ("live+rest")
	Reason string `json:"reason,omitempty"`
	// Backfill is a WebSocket gap's outcome: BackfillClosed or
	// BackfillFailed; empty when there was no gap.
	Backfill string `json:"backfill,omitempty"`
	// Records is how many records the loader published for the hour;
	// Stored how many the store holds (set by the connector's check).
	Records int64  `json:"records"`
	Stored  *int64 `json:"stored,omitempty"`
	// Expected is how many records the hour should hold when that is known
	// (candles), else 0.
	Expected int64  `json:"expected,omitempty"`
	QueueID  string `json:"queue_id,omitempty"` // the workflow step that loaded it
}

// Key returns the hour's deterministic document key:
// "<SYMBOL>_<type>_<hour start ms>".
func Key(symbol, typ string, hourMs int64) string {
	return symbol + "_" + typ + "_" + strconv.FormatInt(hourMs, 10)
}

// Document returns h as a store document ("_key" set).
func (h Hour) Document() (json.RawMessage, error) {
	type doc struct {
		Key string `json:"_key"`
		Hour
	}
	return json.Marshal(doc{Key: Key(h.Symbol, h.Type, h.Time), Hour: h})
}

// Floor returns the start of the hour holding t (epoch ms).
func Floor(t int64) int64 {
	f := t - t%HourMs
	if t < 0 && t%HourMs != 0 {
		f -= HourMs
	}
	return f
}

// sourcesOrder is the order sources are joined in.
var sourcesOrder = []Source{Archive, REST, Live}

func joinSources(mask uint8) string {
	var parts []string
	for i, s := range sourcesOrder {
		if mask&(1<<i) != 0 {
			parts = append(parts, string(s))
		}
	}
	return strings.Join(parts, "+")
}

func sourceBit(s Source) uint8 {
	for i, x := range sourcesOrder {
		if x == s {
			return 1 << i
		}
	}
	return 0
}

// Hole reports whether the hour lacks records: missing, or degraded by
// anything else than a WebSocket gap that its REST backfill closed (an
// hour short of candles, a failed backfill, fewer records stored than
// published, a depth gap).
func (h Hour) Hole() bool {
	return h.State == Missing || (h.State == Degraded && h.Backfill != BackfillClosed)
}

// ReasonSourcesDisagree says that an hour's records from the archive and
// from REST differ: in number, or with the same number in content.
func ReasonSourcesDisagree(archive, rest int64, sameCount bool) string {
	if sameCount {
		return fmt.Sprintf("archive and REST disagree: %d records each, different content", archive)
	}
	return fmt.Sprintf("archive and REST disagree: %d records in the archive, %d over REST", archive, rest)
}
