// Package storetest is the conformance suite of store.Store. Every adapter's
// tests run it, so that all adapters accept, reject, order and report the
// same way:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
//
// Keys in the suite are lower case with zero-padded numbers, so byte order
// and a database's string collation agree on "_key order".
package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/streamforge/streamforge/libs/store"
)

// Run runs the suite. Each subtest calls open for a fresh, empty store and
// closes it when the subtest ends, failing the subtest if Close fails.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Upsert/Idempotent", testUpsertIdempotent},
		{"Upsert/ReplacesByKey", testUpsertReplaces},
		{"Upsert/RoundTripsJSON", testUpsertRoundTrip},
		{"Upsert/RejectsBadDocuments", testUpsertDocErrors},
		{"Upsert/RejectsEdgesWithoutEnds", testUpsertEdgeErrors},
		{"Upsert/ConcurrentWriters", testConcurrentWriters},
		{"Range/OrderAndBounds", testRangeOrder},
		{"Range/CallbackErrorStops", testRangeStops},
		{"Range/Large", testRangeLarge},
		{"MissingCollection", testMissingCollection},
		{"EnsureCollection/Idempotent", testEnsureCollection},
		{"Graph/RoundTrip", testGraphRoundTrip},
		{"Graph/Unknown", testGraphUnknown},
		{"Graph/Drop", testGraphDrop},
		{"DropCollection", testDropCollection},
		{"Records/Lifecycle", testRecordLifecycle},
		{"Records/RacingUpdates", testRecordRace},
		{"Records/List", testRecordList},
		{"Records/ListDefaultLimit", testRecordDefaultLimit},
		{"Records/ListMissingCollection", testRecordListMissing},
		{"Coverage/WriteRead", testCoverage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// Start is the epoch-ms time of the first candle Candles makes
// (2024-08-01T00:00:00Z).
const Start int64 = 1722470400000

// Step is the candle interval of Candles: 5 minutes, in ms.
const Step int64 = 5 * 60 * 1000

// Candle returns a market-data document of about 250 bytes: a 5-minute candle
// of symbol at epoch-ms time t, its values derived from seq.
func Candle(symbol string, t int64, seq int) json.RawMessage {
	price := 60000 + float64(seq%1000)*0.5
	return json.RawMessage(fmt.Sprintf(`{"_key":"%s","symbol":"%s","interval":"5m","time":%d,`+
		`"open":%.2f,"high":%.2f,"low":%.2f,"close":%.2f,"volume":%.4f,"quote_volume":%.2f,`+
		`"trades":%d,"closed":true,"source":"api","exchange":"binance"}`,
		CandleKey(symbol, t), symbol, t, price, price+12.5, price-7.25, price+3.75,
		12.3456+float64(seq%97), 740000.25+float64(seq), 1000+seq%500))
}

// CandleKey is the _key Candle gives the candle of symbol at time t.
func CandleKey(symbol string, t int64) string {
	return fmt.Sprintf("%s-5m-%d", strings.ToLower(symbol), t)
}

// Candles returns n consecutive candles of symbol from Start, Step apart.
func Candles(symbol string, n int) []json.RawMessage {
	docs := make([]json.RawMessage, n)
	for i := range docs {
		docs[i] = Candle(symbol, Start+int64(i)*Step, i)
	}
	return docs
}

// noneIsEmpty lets an empty result be nil or an empty slice.
var noneIsEmpty = cmpopts.EquateEmpty()

// decode decodes a JSON document, so documents compare by meaning.
func decode(t *testing.T, doc json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return m
}

// keyOf returns a document's _key.
func keyOf(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	k, ok := decode(t, doc)[store.FieldKey].(string)
	if !ok {
		t.Fatalf("document %s has no string _key", doc)
	}
	return k
}

// jsonEqual reports whether two JSON texts mean the same (or are both empty).
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
}

// upsertAll upserts docs in batches of size and fails the test unless every
// document is stored.
func upsertAll(t *testing.T, s store.Store, collection string, docs []json.RawMessage, size int) {
	t.Helper()
	for lo := 0; lo < len(docs); lo += size {
		batch := docs[lo:min(lo+size, len(docs))]
		res, err := s.Upsert(t.Context(), collection, batch)
		if err != nil {
			t.Fatalf("Upsert(%s, %d docs): %v", collection, len(batch), err)
		}
		checkStored(t, res, batch)
	}
}

// checkStored fails the test unless res says every one of docs is stored,
// in order.
func checkStored(t *testing.T, res []store.Result, docs []json.RawMessage) {
	t.Helper()
	if len(res) != len(docs) {
		t.Fatalf("Upsert returned %d results for %d documents", len(res), len(docs))
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("result %d: %v", i, r.Err)
		}
		if want := keyOf(t, docs[i]); r.Key != want {
			t.Fatalf("result %d: Key = %q, want %q", i, r.Key, want)
		}
	}
}

// count returns the collection's Count and fails the test on error.
func count(t *testing.T, s store.Store, collection string) int64 {
	t.Helper()
	n, err := s.Count(t.Context(), collection)
	if err != nil {
		t.Fatalf("Count(%s): %v", collection, err)
	}
	return n
}

// readRange returns the documents Range yields, in order.
func readRange(t *testing.T, s store.Store, collection, symbol string, from, to int64) []json.RawMessage {
	t.Helper()
	var got []json.RawMessage
	err := s.Range(t.Context(), collection, symbol, from, to, func(doc json.RawMessage) error {
		got = append(got, doc)
		return nil
	})
	if err != nil {
		t.Fatalf("Range(%s, %s, %d, %d): %v", collection, symbol, from, to, err)
	}
	return got
}

// keys returns the _key of each document.
func keys(t *testing.T, docs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = keyOf(t, d)
	}
	return out
}
