package binance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseBookTicker follows web-socket-streams.md, "Individual Symbol Book Ticker Streams": the payload is
// {"u": order book updateId, "s", "b" best bid price, "B" its quantity, "a" best ask price, "A" its quantity}. Every
// recorded bookTicker message of Binance decodes, and a member missing or malformed is named.
func TestParseBookTicker(t *testing.T) {
	got, err := ParseBookTicker([]byte(`{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := BookTicker{Symbol: "BNBUSDT", UpdateID: 400900217, BidPrice: 25.3519, BidQty: 31.21, AskPrice: 25.3652, AskQty: 40.66}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseBookTicker (-want +got):\n%s", d)
	}
	for i, data := range recordedStream(t, "@bookTicker") {
		bt, err := ParseBookTicker(data)
		if err != nil || bt.UpdateID <= 0 || bt.BidPrice <= 0 || bt.AskPrice < bt.BidPrice {
			t.Fatalf("recorded message %d %s: %+v, %v", i, data, bt, err)
		}
	}
	for _, tt := range []struct{ name, data, want string }{
		{"no update id", `{"s":"BNBUSDT","b":"1","B":"1","a":"2","A":"1"}`, "members u missing"},
		{"lower-case member only", `{"u":1,"s":"BNBUSDT","b":"1","a":"2"}`, "members B, A missing"},
		{"bad price", `{"u":1,"s":"BNBUSDT","b":"x","B":"1","a":"2","A":"1"}`, `member "b"`},
		{"not an object", `[1]`, "book ticker"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseBookTicker([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestParsePartialDepth follows web-socket-streams.md, "Partial Book Depth Streams": the payload is {"lastUpdateId",
// "bids": [[price, qty], ...], "asks": [...]} without a symbol or an event time, which the caller supplies.
func TestParsePartialDepth(t *testing.T) {
	got, err := ParsePartialDepth("BNBBTC", []byte(`{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}`), 1700000000123)
	if err != nil {
		t.Fatal(err)
	}
	want := BookSnapshot{Symbol: "BNBBTC", Time: 1700000000123, LastUpdateID: 160, Bids: []Level{{0.0024, 10}}, Asks: []Level{{0.0026, 100}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParsePartialDepth (-want +got):\n%s", d)
	}
	for _, data := range []string{`{"bids":[],"asks":[]}`, `{"lastUpdateId":1,"bids":[]}`, `{"lastUpdateId":1,"Bids":[],"Asks":[]}`,
		`{"lastUpdateId":1,"bids":[["x","1"]],"asks":[]}`} {
		if _, err := ParsePartialDepth("BNBBTC", []byte(data), 0); err == nil {
			t.Errorf("%s: no error", data)
		}
	}
}

// TestBookRecordKeys: a book ticker's key is its symbol and update id, whatever its receipt time, so the same update
// published twice is stored once; its JSON decodes to the same values.
func TestBookRecordKeys(t *testing.T) {
	a := BookTicker{Symbol: "BTCUSDT", Time: 1, UpdateID: 42, BidPrice: 100.5, BidQty: 0.001, AskPrice: 100.51, AskQty: 2}
	b := a
	b.Time = 2
	if a.Key() != "BTCUSDT_42" || a.Key() != b.Key() {
		t.Errorf("keys %q and %q, want BTCUSDT_42 both", a.Key(), b.Key())
	}
	var doc struct {
		Key string `json:"_key"`
		BookTicker
	}
	if err := json.Unmarshal(a.AppendJSON(nil), &doc); err != nil {
		t.Fatalf("%s: %v", a.AppendJSON(nil), err)
	}
	if doc.Key != a.Key() || doc.BookTicker != a {
		t.Errorf("decoded %+v, want %+v with key %s", doc, a, a.Key())
	}
	if got := StreamSymbol("btcusdt@depth20@100ms"); got != "BTCUSDT" {
		t.Errorf("StreamSymbol = %q", got)
	}
}
