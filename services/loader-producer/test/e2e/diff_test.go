package e2e

// The differential test (issue #22): a range loaded through the real loader,
// every stored field of every record compared with the exchange simulator's
// own answer for the same range. The reference is read over the simulator's
// HTTP and WebSocket endpoints and decoded here, with exact keys, without
// the loader's Binance client: a decoding bug there must not be in the
// reference too.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
)

// testDiff runs the differential test of every data type. The one-minute
// live candles wait for the next minute (up to a minute): they run beside
// the others.
func testDiff(t *testing.T, cfg bus.Config) {
	t.Run("ws_candles_1m", func(t *testing.T) {
		t.Parallel()
		testDiffLiveCandles(t, cfg, "SOLUSDT", "1m", 3)
	})
	t.Run("types", func(t *testing.T) {
		t.Parallel()
		t.Run("api_candles", func(t *testing.T) { testDiffCandles(t, cfg) })
		t.Run("api_trades", func(t *testing.T) { testDiffTrades(t, cfg) })
		t.Run("ws_trades", func(t *testing.T) { testDiffLiveTrades(t, cfg) })
		t.Run("ws_candles_1s", func(t *testing.T) { testDiffLiveCandles(t, cfg, "ETHUSDT", "1s", 5) })
		t.Run("ws_orderbook", func(t *testing.T) { testDiffOrderbook(t, cfg) })
	})
}

// field is one named value of a record, for a comparison field by field.
type field struct {
	name string
	v    any
}

// diffReport collects the differences of one data type and symbol: the
// first few in full, then counts by field, so that a bug that hits every
// record reads as one line and not a thousand.
type diffReport struct {
	t       *testing.T
	what    string // data type and symbol, e.g. "api_trades BTCUSDT"
	shown   int
	records int            // records with a difference
	fields  map[string]int // differing values by field name
}

const diffsShown = 8

func newDiffReport(t *testing.T, what string) *diffReport {
	return &diffReport{t: t, what: what, fields: map[string]int{}}
}

// errorf reports one problem of the record key.
func (d *diffReport) errorf(key, format string, args ...any) {
	d.t.Helper()
	d.records++
	d.fields["(record)"]++
	if d.shown < diffsShown {
		d.shown++
		d.t.Errorf("%s %s: %s", d.what, key, fmt.Sprintf(format, args...))
	}
}

// compare reports every field of the record key whose value differs.
func (d *diffReport) compare(key string, got, want []field) {
	d.t.Helper()
	if len(got) != len(want) {
		d.t.Fatalf("%s %s: comparing %d fields with %d", d.what, key, len(got), len(want))
	}
	differs := false
	for i, g := range got {
		w := want[i]
		if g.name != w.name {
			d.t.Fatalf("%s %s: comparing field %s with %s", d.what, key, g.name, w.name)
		}
		if reflect.DeepEqual(g.v, w.v) {
			continue
		}
		differs = true
		d.fields[g.name]++
		if d.shown < diffsShown {
			d.shown++
			d.t.Errorf("%s %s: %s: got %v, want %v", d.what, key, g.name, g.v, w.v)
		}
	}
	if differs {
		d.records++
	}
}

// done reports the totals when more differences were found than shown.
func (d *diffReport) done(total int) {
	d.t.Helper()
	if d.records == 0 || d.shown < diffsShown {
		return
	}
	names := make([]string, 0, len(d.fields))
	for n := range d.fields {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, " %s:%d", n, d.fields[n])
	}
	d.t.Errorf("%s: %d of %d records differ (differences by field:%s)", d.what, d.records, total, b.String())
}

// jsonKeys returns the JSON names of a struct's fields.
func jsonKeys(v any) []string {
	rt := reflect.TypeOf(v)
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	keys := make([]string, 0, rt.NumField())
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}

// decodeExact decodes a JSON object into v, a pointer to a struct whose
// every field has a json tag, failing unless the object holds exactly the
// struct's keys, spelt exactly: encoding/json alone matches keys without
// regard to case and ignores missing ones.
func decodeExact(raw []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	keys := jsonKeys(v)
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("no %q in %s", k, raw)
		}
	}
	for k := range m {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("unexpected key %q in %s", k, raw)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// simGet returns the body of a 200 answer of the simulator to path?query.
func simGet(t testing.TB, base, path string, q url.Values) []byte {
	t.Helper()
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("simulator %s?%s: %s: %s", path, q.Encode(), resp.Status, body)
	}
	return body
}

func parseNum(t testing.TB, what string, raw json.RawMessage) float64 {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %s is not a decimal string: %v", what, raw, err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func parseInt(t testing.TB, what string, raw json.RawMessage) int64 {
	t.Helper()
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		t.Fatalf("%s: %s is not an integer: %v", what, raw, err)
	}
	return v
}

func parseBool(t testing.TB, what string, raw json.RawMessage) bool {
	t.Helper()
	v, err := strconv.ParseBool(string(raw))
	if err != nil {
		t.Fatalf("%s: %s is not a boolean: %v", what, raw, err)
	}
	return v
}

// storedCandle is a candle record of the data topic.
type storedCandle struct {
	Key           string  `json:"_key"`
	Symbol        string  `json:"symbol"`
	Interval      string  `json:"interval"`
	Time          int64   `json:"time"`
	OpenTime      int64   `json:"open_time"`
	CloseTime     int64   `json:"close_time"`
	Open          float64 `json:"open"`
	High          float64 `json:"high"`
	Low           float64 `json:"low"`
	Close         float64 `json:"close"`
	Volume        float64 `json:"volume"`
	QuoteVolume   float64 `json:"quote_volume"`
	Trades        int64   `json:"trades"`
	TakerBuyBase  float64 `json:"taker_buy_base"`
	TakerBuyQuote float64 `json:"taker_buy_quote"`
}

func (c storedCandle) fields() []field {
	return []field{{"_key", c.Key}, {"symbol", c.Symbol}, {"interval", c.Interval}, {"time", c.Time},
		{"open_time", c.OpenTime}, {"close_time", c.CloseTime}, {"open", c.Open}, {"high", c.High}, {"low", c.Low},
		{"close", c.Close}, {"volume", c.Volume}, {"quote_volume", c.QuoteVolume}, {"trades", c.Trades},
		{"taker_buy_base", c.TakerBuyBase}, {"taker_buy_quote", c.TakerBuyQuote}}
}

// storedTrade is an aggregate-trade record of the data topic.
type storedTrade struct {
	Key        string  `json:"_key"`
	Symbol     string  `json:"symbol"`
	Time       int64   `json:"time"`
	AggID      int64   `json:"agg_id"`
	Price      float64 `json:"price"`
	Qty        float64 `json:"qty"`
	FirstID    int64   `json:"first_id"`
	LastID     int64   `json:"last_id"`
	BuyerMaker bool    `json:"buyer_maker"`
}

func (a storedTrade) fields() []field {
	return []field{{"_key", a.Key}, {"symbol", a.Symbol}, {"time", a.Time}, {"agg_id", a.AggID}, {"price", a.Price},
		{"qty", a.Qty}, {"first_id", a.FirstID}, {"last_id", a.LastID}, {"buyer_maker", a.BuyerMaker}}
}

// storedRecords reads the data topic and decodes every message into a T
// with exact keys, keyed by _key. A message keyed by anything but its
// symbol, one that does not decode, and two different messages with one
// _key fail the test. dups counts messages beyond the first of a _key.
func storedRecords[T any](t *testing.T, tk task, recs []record, key func(T) string) (out map[string]T, dups int) {
	t.Helper()
	out = make(map[string]T, len(recs))
	raw := make(map[string]string, len(recs))
	for _, r := range recs {
		var v T
		if err := decodeExact(r.Raw, &v); err != nil {
			t.Fatalf("%s %s: record does not decode as %T: %v", tk.typ, tk.symbol, v, err)
		}
		k := key(v)
		if r.MsgKey != r.Symbol {
			t.Errorf("%s %s %s: message key %q, want the symbol %q", tk.typ, tk.symbol, k, r.MsgKey, r.Symbol)
		}
		if prev, ok := raw[k]; ok {
			dups++
			if prev != string(r.Raw) {
				t.Errorf("%s %s %s: two different records:\n%s\n%s", tk.typ, tk.symbol, k, prev, r.Raw)
			}
			continue
		}
		raw[k], out[k] = string(r.Raw), v
	}
	return out, dups
}

// refKlines returns the simulator's REST klines of symbol with open time in
// [from, to], by open time.
func refKlines(t *testing.T, base, symbol, interval string, from, to int64) map[int64]storedCandle {
	t.Helper()
	out := map[int64]storedCandle{}
	for start := from; start <= to; {
		body := simGet(t, base, "/api/v3/klines", url.Values{"symbol": {symbol}, "interval": {interval},
			"startTime": {itoa(start)}, "endTime": {itoa(to)}, "limit": {"1000"}})
		var rows [][]json.RawMessage
		if err := json.Unmarshal(body, &rows); err != nil {
			t.Fatalf("klines %s %s: %v", symbol, interval, err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if len(r) != 12 {
				t.Fatalf("klines %s %s: a row of %d columns, want 12: %v", symbol, interval, len(r), r)
			}
			what := "klines " + symbol + " " + interval
			c := storedCandle{Symbol: symbol, Interval: interval, OpenTime: parseInt(t, what, r[0]),
				Open: parseNum(t, what, r[1]), High: parseNum(t, what, r[2]), Low: parseNum(t, what, r[3]),
				Close: parseNum(t, what, r[4]), Volume: parseNum(t, what, r[5]), CloseTime: parseInt(t, what, r[6]),
				QuoteVolume: parseNum(t, what, r[7]), Trades: parseInt(t, what, r[8]),
				TakerBuyBase: parseNum(t, what, r[9]), TakerBuyQuote: parseNum(t, what, r[10])}
			c.Time = c.OpenTime
			c.Key = symbol + "_" + interval + "_" + itoa(c.OpenTime)
			out[c.OpenTime] = c
			start = c.OpenTime + 1
		}
	}
	return out
}

// restAggTradeKeys are the keys of a Binance aggTrades object: m is "buyer
// is maker", M "was the best price match".
var restAggTradeKeys = []string{"a", "p", "q", "f", "l", "T", "m", "M"}

// refAggTrades returns the simulator's REST aggregate trades of symbol with
// time in [from, to), in id order, paging by id from the first trade of the
// range.
func refAggTrades(t *testing.T, base, symbol string, from, to int64) []storedTrade {
	t.Helper()
	var out []storedTrade
	page := func(q url.Values) []storedTrade {
		q.Set("symbol", symbol)
		body := simGet(t, base, "/api/v3/aggTrades", q)
		var objs []map[string]json.RawMessage // a map: keys stay exact
		if err := json.Unmarshal(body, &objs); err != nil {
			t.Fatalf("aggTrades %s: %v", symbol, err)
		}
		trades := make([]storedTrade, 0, len(objs))
		for _, o := range objs {
			if len(o) != len(restAggTradeKeys) {
				t.Fatalf("aggTrades %s: object with keys %v, want %v", symbol, slices.Collect(mapKeys(o)), restAggTradeKeys)
			}
			for _, k := range restAggTradeKeys {
				if _, ok := o[k]; !ok {
					t.Fatalf("aggTrades %s: no %q in an object", symbol, k)
				}
			}
			what := "aggTrades " + symbol
			a := storedTrade{Symbol: symbol, AggID: parseInt(t, what, o["a"]), Price: parseNum(t, what, o["p"]),
				Qty: parseNum(t, what, o["q"]), FirstID: parseInt(t, what, o["f"]), LastID: parseInt(t, what, o["l"]),
				Time: parseInt(t, what, o["T"]), BuyerMaker: parseBool(t, what, o["m"])}
			a.Key = symbol + "_" + itoa(a.AggID)
			trades = append(trades, a)
		}
		return trades
	}
	// The first trade at or after from: hour windows until one has a trade.
	var next int64 = -1
	for start := from; start < to && next < 0; start += 3_600_000 {
		if ts := page(url.Values{"startTime": {itoa(start)}, "endTime": {itoa(min(start+3_599_999, to-1))}, "limit": {"1"}}); len(ts) > 0 {
			next = ts[0].AggID
		}
	}
	for next >= 0 {
		ts := page(url.Values{"fromId": {itoa(next)}, "limit": {"1000"}})
		if len(ts) == 0 {
			break
		}
		for _, a := range ts {
			if a.Time >= to {
				return out
			}
			out = append(out, a)
		}
		next = ts[len(ts)-1].AggID + 1
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compareTrades checks that the stored trades are exactly want, field by
// field.
func compareTrades(t *testing.T, tk task, recs []record, want []storedTrade) {
	t.Helper()
	got, dups := storedRecords(t, tk, recs, func(a storedTrade) string { return a.Key })
	if dups > 0 {
		t.Logf("%s %s: %d messages repeat a record", tk.typ, tk.symbol, dups)
	}
	d := newDiffReport(t, tk.typ+" "+tk.symbol)
	wantKeys := make(map[string]bool, len(want))
	for _, w := range want {
		wantKeys[w.Key] = true
		g, ok := got[w.Key]
		if !ok {
			d.errorf(w.Key, "missing (trade time %s)", msTime(w.Time))
			continue
		}
		d.compare(w.Key, g.fields(), w.fields())
	}
	extra := make([]string, 0, len(got))
	for k := range got {
		if !wantKeys[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		d.errorf(k, "stored, but the simulator has no such trade in the range (time %s)", msTime(got[k].Time))
	}
	d.done(len(want))
}

// compareCandles checks the stored candles field by field against want (by
// open time). A stored candle not in want is compared with maybe when there,
// else fails with the reason extra gives for its open time, or passes when
// extra returns "".
func compareCandles(t *testing.T, tk task, recs []record, want map[int64]storedCandle, extra func(open int64) string,
	maybe map[int64]storedCandle) {
	t.Helper()
	got, dups := storedRecords(t, tk, recs, func(c storedCandle) string { return c.Key })
	if dups > 0 {
		t.Errorf("%s %s: %d messages repeat a candle, want one message per candle", tk.typ, tk.symbol, dups)
	}
	d := newDiffReport(t, tk.typ+" "+tk.symbol)
	opens := make([]int64, 0, len(want))
	for o := range want {
		opens = append(opens, o)
	}
	slices.Sort(opens)
	for _, o := range opens {
		w := want[o]
		g, ok := got[w.Key]
		if !ok {
			d.errorf(w.Key, "missing (open time %s)", msTime(o))
			continue
		}
		d.compare(w.Key, g.fields(), w.fields())
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g := got[k]
		if w, ok := want[g.OpenTime]; ok && w.Key == k {
			continue
		}
		if w, ok := maybe[g.OpenTime]; ok && w.Key == k {
			d.compare(k, g.fields(), w.fields())
			continue
		}
		if why := extra(g.OpenTime); why != "" {
			d.errorf(k, "stored, but %s", why)
		}
	}
	d.done(len(want))
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }

// rfc3339ms formats a TIME_RANGE bound to the millisecond.
func rfc3339ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// liveClock is the simulator's clock for a live range [start, end): frozen
// at start until goWhenSubscribed starts it (when the loader has
// subscribed, so its streams begin at start), then speed times faster than
// the wall clock until it catches up with it, and from then on the wall
// clock less the network's latency (wsLatency). At end it reads as the
// exchange's clock would, seen from the loader: what happens just before
// end arrives just after it.
type liveClock struct {
	mu    sync.Mutex
	start time.Time
	end   time.Time // the range's end: the clock must have caught up by then
	speed float64
	goAt  time.Time // zero: frozen at start
}

// wsLatency is how long an exchange event takes to reach the loader.
const wsLatency = 100 * time.Millisecond

func (c *liveClock) now() time.Time {
	w := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goAt.IsZero() {
		return c.start
	}
	return c.upTo(w)
}

// upTo is the clock at wall time w. The caller holds mu.
func (c *liveClock) upTo(w time.Time) time.Time {
	w = w.Add(-wsLatency)
	if !w.After(c.start) {
		return c.start // a start ahead of the wall clock waits for it
	}
	s := c.start.Add(time.Duration(float64(w.Sub(c.goAt)) * c.speed))
	if s.After(w) {
		return w
	}
	return s
}

// caughtUpBy reports the wall time at which the clock reached the wall clock.
func (c *liveClock) caughtUpBy() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	// start + (w-goAt)*speed = w-latency  =>  w = goAt + (goAt-latency-start)/(speed-1)
	lag := c.goAt.Add(-wsLatency).Sub(c.start)
	return c.goAt.Add(time.Duration(float64(lag) / (c.speed - 1)))
}

// goWhenSubscribed starts the clock once the simulator has accepted the
// loader's WebSocket connection.
func (c *liveClock) goWhenSubscribed(t *testing.T, opened func() int, p interface{ Done() <-chan struct{} }) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(time.Minute)
	for opened() == 0 {
		select {
		case <-p.Done():
			t.Fatal("the loader ended before it subscribed")
		case <-timeout:
			t.Fatal("the loader did not subscribe within a minute")
		case <-tick.C:
		}
	}
	c.mu.Lock()
	c.goAt = time.Now()
	c.mu.Unlock()
}

// bookClock is a simulator clock that runs at a set speed or stands still.
type bookClock struct {
	mu    sync.Mutex
	at    time.Time // the clock at wall time since
	since time.Time
	speed float64
}

func (c *bookClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at.Add(time.Duration(float64(time.Since(c.since)) * c.speed))
}

// run sets the speed from now on; 0 stops the clock.
func (c *bookClock) run(speed float64) {
	w := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(time.Duration(float64(w.Sub(c.since)) * c.speed))
	c.since, c.speed = w, speed
}
