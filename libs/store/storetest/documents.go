package storetest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// candles is the market-data collection the suite writes to, named as the
// loaders name theirs.
const candles = "btcusdt_api_candles_5m_2024_08_01"

func testUpsertIdempotent(t *testing.T, s store.Store) {
	docs := Candles("BTCUSDT", 1000)
	for pass := 1; pass <= 2; pass++ {
		res, err := s.Upsert(t.Context(), candles, docs)
		if err != nil {
			t.Fatalf("pass %d: Upsert: %v", pass, err)
		}
		checkStored(t, res, docs)
		if got := count(t, s, candles); got != int64(len(docs)) {
			t.Fatalf("pass %d: Count = %d, want %d", pass, got, len(docs))
		}
	}
	got := readRange(t, s, candles, "BTCUSDT", Start, Start+int64(len(docs))*Step)
	if diff := gocmp.Diff(keys(t, docs), keys(t, got)); diff != "" {
		t.Errorf("Range keys after two upserts (-want +got):\n%s", diff)
	}
}

func testUpsertReplaces(t *testing.T, s store.Store) {
	later := Start + 7*Step
	old := json.RawMessage(fmt.Sprintf(`{"_key":"btcusdt-5m-x","symbol":"BTCUSDT","time":%d,"close":1.5,"note":"old","only_in_old":true}`, Start))
	replacement := json.RawMessage(fmt.Sprintf(`{"_key":"btcusdt-5m-x","symbol":"BTCUSDT","time":%d,"close":2.5,"note":"new"}`, later))
	upsertAll(t, s, candles, []json.RawMessage{old}, 1)
	upsertAll(t, s, candles, []json.RawMessage{replacement}, 1)

	if got := count(t, s, candles); got != 1 {
		t.Errorf("Count = %d, want 1", got)
	}
	if got := readRange(t, s, candles, "BTCUSDT", Start, Start+1); len(got) != 0 {
		t.Errorf("Range at the old time = %s, want nothing: the replacement moved the document", got)
	}
	got := readRange(t, s, candles, "BTCUSDT", later, later+1)
	if len(got) != 1 {
		t.Fatalf("Range at the new time returned %d documents, want 1", len(got))
	}
	if diff := gocmp.Diff(decode(t, replacement), decode(t, got[0])); diff != "" {
		t.Errorf("stored document (-want +got):\n%s", diff)
	}

	// Within one batch too, the later document with a _key wins.
	first := json.RawMessage(fmt.Sprintf(`{"_key":"btcusdt-5m-y","symbol":"BTCUSDT","time":%d,"close":1}`, Start))
	second := json.RawMessage(fmt.Sprintf(`{"_key":"btcusdt-5m-y","symbol":"BTCUSDT","time":%d,"close":2}`, Start))
	upsertAll(t, s, candles, []json.RawMessage{first, second}, 2)
	got = readRange(t, s, candles, "BTCUSDT", Start, Start+1)
	if len(got) != 1 {
		t.Fatalf("Range after a batch with one _key twice returned %d documents, want 1", len(got))
	}
	if diff := gocmp.Diff(decode(t, second), decode(t, got[0])); diff != "" {
		t.Errorf("stored document of a batch with one _key twice (-want +got):\n%s", diff)
	}
}

func testUpsertRoundTrip(t *testing.T, s store.Store) {
	docs := []json.RawMessage{
		json.RawMessage(fmt.Sprintf(`{
			"_key": "rt-1", "symbol": "BTCUSDT", "time": %d,
			"nested": {"a": [1, 2.5, -3e-7, {"b": null}], "empty": {}, "none": []},
			"text": "€ 日本 \"quoted\"\n\ttab \u00e9", "yes": true, "no": false, "nothing": null,
			"big": 9007199254740992, "small": 0.1, "negative": -42
		}`, Start)),
		json.RawMessage(fmt.Sprintf(`{"_key":"a:b.c@d(e)+f,g=h;i$j!k*l'm%%n-_","symbol":"BTCUSDT","time":%d}`, Start+1)),
	}
	upsertAll(t, s, candles, docs, len(docs))
	got := readRange(t, s, candles, "BTCUSDT", Start, Start+2)
	if len(got) != len(docs) {
		t.Fatalf("Range returned %d documents, want %d", len(got), len(docs))
	}
	for i := range docs {
		if diff := gocmp.Diff(decode(t, docs[i]), decode(t, got[i])); diff != "" {
			t.Errorf("document %d (-want +got):\n%s", i, diff)
		}
	}
}

func testUpsertDocErrors(t *testing.T, s store.Store) {
	batch := []struct {
		name string
		doc  string
		bad  bool
	}{
		{name: "good", doc: string(Candle("BTCUSDT", Start, 0))},
		{name: "not an object", doc: `[1, 2, 3]`, bad: true},
		{name: "invalid JSON", doc: `{"_key": "broken",`, bad: true},
		{name: "good", doc: string(Candle("BTCUSDT", Start+Step, 1))},
		{name: "empty", doc: ``, bad: true},
		{name: "no _key", doc: `{"symbol": "BTCUSDT", "time": 1}`, bad: true},
		{name: "_key not a string", doc: `{"_key": 42}`, bad: true},
		{name: "_key with a space", doc: `{"_key": "a b"}`, bad: true},
		{name: "_key with a slash", doc: `{"_key": "a/b"}`, bad: true},
		{name: "time as a string", doc: `{"_key": "t-1", "symbol": "BTCUSDT", "time": "1722470400000"}`, bad: true},
		{name: "good", doc: string(Candle("BTCUSDT", Start+2*Step, 2))},
	}
	docs := make([]json.RawMessage, len(batch))
	var good []json.RawMessage
	for i, b := range batch {
		docs[i] = json.RawMessage(b.doc)
		if !b.bad {
			good = append(good, docs[i])
		}
	}
	res, err := s.Upsert(t.Context(), candles, docs)
	if err != nil {
		t.Fatalf("Upsert: %v, want per-document errors only", err)
	}
	if len(res) != len(docs) {
		t.Fatalf("Upsert returned %d results for %d documents", len(res), len(docs))
	}
	for i, b := range batch {
		checkResult(t, i, b.name, res[i], docs[i], b.bad)
	}
	if got, want := count(t, s, candles), int64(len(good)); got != want {
		t.Errorf("Count = %d, want %d (the good documents)", got, want)
	}
	got := readRange(t, s, candles, "BTCUSDT", Start, Start+int64(len(docs))*Step)
	if diff := gocmp.Diff(keys(t, good), keys(t, got)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
}

// checkResult checks result i of a batch: stored with its key when good, a
// *store.DocError with Index i when bad.
func checkResult(t *testing.T, i int, name string, r store.Result, doc json.RawMessage, bad bool) {
	t.Helper()
	if !bad {
		if r.Err != nil {
			t.Errorf("result %d (%s): %v, want stored", i, name, r.Err)
		} else if want := keyOf(t, doc); r.Key != want {
			t.Errorf("result %d (%s): Key = %q, want %q", i, name, r.Key, want)
		}
		return
	}
	var de *store.DocError
	if !errors.As(r.Err, &de) {
		t.Errorf("result %d (%s): Err = %v, want a *store.DocError", i, name, r.Err)
		return
	}
	if de.Index != i {
		t.Errorf("result %d (%s): DocError.Index = %d, want %d", i, name, de.Index, i)
	}
}

func testUpsertEdgeErrors(t *testing.T, s store.Store) {
	const edges = "correlations"
	if err := s.EnsureCollection(t.Context(), store.Collection{Name: edges, Edge: true}); err != nil {
		t.Fatalf("EnsureCollection: %v", err)
	}
	batch := []struct {
		name string
		doc  string
		bad  bool
	}{
		{name: "good", doc: `{"_key": "e-1", "_from": "symbols/btcusdt", "_to": "symbols/ethusdt"}`},
		{name: "no _from", doc: `{"_key": "e-2", "_to": "symbols/ethusdt"}`, bad: true},
		{name: "empty _to", doc: `{"_key": "e-3", "_from": "symbols/btcusdt", "_to": ""}`, bad: true},
		{name: "good", doc: `{"_key": "e-4", "_from": "symbols/ethusdt", "_to": "symbols/btcusdt"}`},
	}
	docs := make([]json.RawMessage, len(batch))
	for i, b := range batch {
		docs[i] = json.RawMessage(b.doc)
	}
	res, err := s.Upsert(t.Context(), edges, docs)
	if err != nil {
		t.Fatalf("Upsert: %v, want per-document errors only", err)
	}
	if len(res) != len(docs) {
		t.Fatalf("Upsert returned %d results for %d documents", len(res), len(docs))
	}
	for i, b := range batch {
		checkResult(t, i, b.name, res[i], docs[i], b.bad)
	}
	if got := count(t, s, edges); got != 2 {
		t.Errorf("Count = %d, want 2", got)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, span, stride, batch = 8, 250, 125, 50
	distinct := make(map[string]bool)
	work := make([][]json.RawMessage, writers)
	for w := range work {
		for i := w * stride; i < w*stride+span; i++ {
			doc := Candle("BTCUSDT", Start+int64(i)*Step, i+w)
			work[w] = append(work[w], doc)
			distinct[keyOf(t, doc)] = true
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w, docs := range work {
		wg.Go(func() {
			for lo := 0; lo < len(docs); lo += batch {
				res, err := s.Upsert(t.Context(), candles, docs[lo:lo+batch])
				if err == nil {
					err = errors.Join(resultErrs(res)...)
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := count(t, s, candles), int64(len(distinct)); got != want {
		t.Errorf("Count = %d, want %d distinct keys", got, want)
	}
}

func resultErrs(res []store.Result) []error {
	var errs []error
	for _, r := range res {
		errs = append(errs, r.Err)
	}
	return errs
}

// point is a document of the range tests with the fields they order by.
type point struct {
	key, symbol string
	time        int64
	doc         json.RawMessage
}

func testRangeOrder(t *testing.T, s store.Store) {
	const perSymbol = 120
	var all []point
	for _, sym := range []string{"BTCUSDT", "ETHUSDT"} {
		for i := range perSymbol {
			// Two documents share each time; "b" is written first, so only
			// ordering by _key puts "a" first.
			tm := Start + int64(i/2)*Step
			key := fmt.Sprintf("%s-%s-%d", strings.ToLower(sym), []string{"b", "a"}[i%2], tm)
			doc := json.RawMessage(fmt.Sprintf(`{"_key":%q,"symbol":%q,"time":%d,"close":%d}`, key, sym, tm, i))
			all = append(all, point{key: key, symbol: sym, time: tm, doc: doc})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := slices.Clone(all)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	docs := make([]json.RawMessage, len(shuffled))
	for i, p := range shuffled {
		docs[i] = p.doc
	}
	upsertAll(t, s, candles, docs, 37)

	end := Start + perSymbol/2*Step
	tests := []struct {
		name     string
		symbol   string
		from, to int64
	}{
		{name: "whole symbol", symbol: "BTCUSDT", from: Start, to: end},
		{name: "window on document times", symbol: "BTCUSDT", from: Start + 10*Step, to: Start + 20*Step},
		{name: "window between document times", symbol: "ETHUSDT", from: Start + 10*Step - 1, to: Start + 20*Step + 1},
		{name: "one time", symbol: "ETHUSDT", from: Start + 3*Step, to: Start + 3*Step + 1},
		{name: "empty: from equals to", symbol: "BTCUSDT", from: Start + 5*Step, to: Start + 5*Step},
		{name: "empty: from after to", symbol: "BTCUSDT", from: end, to: Start},
		{name: "before the data", symbol: "BTCUSDT", from: 0, to: Start},
		{name: "unknown symbol", symbol: "XRPUSDT", from: Start, to: end},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, p := range sortedPoints(all) {
				if p.symbol == tt.symbol && p.time >= tt.from && p.time < tt.to {
					want = append(want, p.key)
				}
			}
			got := keys(t, readRange(t, s, candles, tt.symbol, tt.from, tt.to))
			if diff := gocmp.Diff(want, got, noneIsEmpty); diff != "" {
				t.Errorf("Range(%s, %d, %d) keys (-want +got):\n%s", tt.symbol, tt.from, tt.to, diff)
			}
			n, err := s.CountRange(t.Context(), candles, tt.symbol, tt.from, tt.to)
			if err != nil || n != int64(len(want)) {
				t.Errorf("CountRange(%s, %d, %d) = %d, %v; want %d, what Range reads", tt.symbol, tt.from, tt.to, n, err, len(want))
			}
		})
	}
}

// sortedPoints returns ps in (time, _key) order.
func sortedPoints(ps []point) []point {
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.key, b.key))
	})
	return out
}

func testRangeStops(t *testing.T, s store.Store) {
	upsertAll(t, s, candles, Candles("BTCUSDT", 10), 10)
	errStop := errors.New("enough")
	calls := 0
	err := s.Range(t.Context(), candles, "BTCUSDT", Start, Start+10*Step, func(json.RawMessage) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("Range error = %v, want the callback's error", err)
	}
	if calls != 3 {
		t.Errorf("callback called %d times, want 3: its error must stop the read", calls)
	}
}

func testRangeLarge(t *testing.T, s store.Store) {
	const n = 50000
	docs := Candles("BTCUSDT", n)
	upsertAll(t, s, candles, docs, 5000)
	i := 0
	err := s.Range(t.Context(), candles, "BTCUSDT", Start, Start+n*Step, func(doc json.RawMessage) error {
		if i >= n {
			return fmt.Errorf("document %d beyond the %d written", i, n)
		}
		if got, want := keyOf(t, doc), CandleKey("BTCUSDT", Start+int64(i)*Step); got != want {
			return fmt.Errorf("document %d: _key %q, want %q", i, got, want)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatalf("Range: %v", err)
	}
	if i != n {
		t.Errorf("Range yielded %d documents, want %d", i, n)
	}
}

func testMissingCollection(t *testing.T, s store.Store) {
	err := s.Range(t.Context(), "missing", "BTCUSDT", Start, Start+Step, func(json.RawMessage) error { return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Range on a missing collection: %v, want ErrNotFound", err)
	}
	if _, err := s.Count(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Count on a missing collection: %v, want ErrNotFound", err)
	}
	if _, err := s.CountRange(t.Context(), "missing", "BTCUSDT", Start, Start+Step); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CountRange on a missing collection: %v, want ErrNotFound", err)
	}
}

func testEnsureCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	withMore := store.MarketData(candles)
	withMore.Indexes = append(withMore.Indexes, store.Index{Fields: []string{"interval"}})
	for i, c := range []store.Collection{
		store.MarketData(candles),
		store.MarketData(candles),
		withMore,
		{Name: "correlations", Edge: true},
		{Name: "correlations", Edge: true},
	} {
		if err := s.EnsureCollection(ctx, c); err != nil {
			t.Fatalf("EnsureCollection #%d (%s): %v", i, c.Name, err)
		}
	}
	for _, name := range []string{candles, "correlations"} {
		if got := count(t, s, name); got != 0 {
			t.Errorf("Count(%s) = %d, want 0", name, got)
		}
	}
	docs := Candles("BTCUSDT", 10)
	upsertAll(t, s, candles, docs, 10)
	if err := s.EnsureCollection(ctx, withMore); err != nil {
		t.Fatalf("EnsureCollection on a filled collection: %v", err)
	}
	if got := count(t, s, candles); got != int64(len(docs)) {
		t.Errorf("Count after EnsureCollection = %d, want %d: an existing collection is left as it is", got, len(docs))
	}
}
