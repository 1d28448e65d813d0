package loader

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
)

// feedStream hands the handler one message of stream, received a second
// after the one before.
func (r *liveRig) feedStream(stream, data string) {
	r.t.Helper()
	r.recv = r.recv.Add(time.Second)
	if err := r.l.handle(binance.WSMessage{Stream: stream, Data: json.RawMessage(data), Received: r.recv}); err != nil {
		r.t.Fatalf("handle %s: %v", data, err)
	}
}

func bookTickerEvent(sym string, u int64) string {
	return fmt.Sprintf(`{"u":%d,"s":%q,"b":"100.00000000","B":"1.50000000","a":"100.01000000","A":"0.20000000"}`, u, sym)
}

func partialDepthEvent(u int64, levels int) string {
	side := "["
	for i := range levels {
		if i > 0 {
			side += ","
		}
		side += fmt.Sprintf(`["%d.00","1.0"]`, 100+i)
	}
	return fmt.Sprintf(`{"lastUpdateId":%d,"bids":%s],"asks":%s]}`, u, side, side)
}

// TestLiveBookTicker: a ws_book_ticker stream (web-socket-streams.md, "Individual Symbol Book Ticker Streams")
// publishes each update once under "<SYMBOL>_<u>", with the time it was received (the payload has none); an update
// not past the last one published, the topic's last one after a relaunch, malformed messages and other symbols are
// skipped.
func TestLiveBookTicker(t *testing.T) {
	r := newLiveRig(t, "ws_book_ticker", time.Time{}, time.Time{}, recordHead{})
	r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", 10))
	firstRecv := r.recv
	r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", 12))
	r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", 12)) // sent again (a reconnect's overlap)
	r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", 11)) // older
	r.feedStream("ethusdt@bookTicker", bookTickerEvent("ETHUSDT", 13))
	r.feedStream("btcusdt@bookTicker", `{"u":14,"s":"BTCUSDT"}`)
	r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", 15))
	checkKeys(t, r.keys(), []string{"BTCUSDT_10", "BTCUSDT_12", "BTCUSDT_15"})
	var got binance.BookTicker
	if err := json.Unmarshal(r.values["BTCUSDT_10"], &got); err != nil {
		t.Fatal(err)
	}
	want := binance.BookTicker{Symbol: "BTCUSDT", Time: firstRecv.UnixMilli(), UpdateID: 10, BidPrice: 100, BidQty: 1.5, AskPrice: 100.01, AskQty: 0.2}
	if got != want {
		t.Errorf("record %+v, want %+v", got, want)
	}

	// Relaunched after update 12 reached the topic: what it read back (as resumePoints reads a record) is not
	// published again.
	var rec, head recordHead
	if err := json.Unmarshal(r.values["BTCUSDT_12"], &rec); err != nil {
		t.Fatal(err)
	}
	head.merge(rec)
	r = newLiveRig(t, "ws_book_ticker", time.Time{}, time.Time{}, head)
	for _, u := range []int64{11, 12, 13} {
		r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", u))
	}
	checkKeys(t, r.keys(), []string{"BTCUSDT_13"})
}

// TestLiveBookTickerRange: with a time range, only what is received inside it is published, and the symbol is done
// at the first message received at or after its end.
func TestLiveBookTickerRange(t *testing.T) {
	start, end := simNow.Add(2*time.Second), simNow.Add(4*time.Second)
	r := newLiveRig(t, "ws_book_ticker", start, end, recordHead{})
	for u := int64(1); u <= 5; u++ { // received at simNow + 1 s ... + 5 s
		r.feedStream("btcusdt@bookTicker", bookTickerEvent("BTCUSDT", u))
	}
	checkKeys(t, r.keys(), []string{"BTCUSDT_2", "BTCUSDT_3"})
	if r.allDone != 1 {
		t.Errorf("allDone called %d times, want 1", r.allDone)
	}
}

// TestLiveDepthSnapshots: a ws_depth<levels> stream (web-socket-streams.md, "Partial Book Depth Streams": {lastUpdateId,
// bids, asks}, no symbol) publishes snapshots "<SYMBOL>_<lastUpdateId>" of the symbol its stream names; a snapshot
// of an unchanged book (the same lastUpdateId a second later) is published once, and one with more levels than
// subscribed is not taken.
func TestLiveDepthSnapshots(t *testing.T) {
	r := newLiveRig(t, "ws_depth5", time.Time{}, time.Time{}, recordHead{})
	r.feedStream("btcusdt@depth5", partialDepthEvent(100, 5))
	r.feedStream("btcusdt@depth5", partialDepthEvent(100, 5)) // the book did not change in a second
	r.feedStream("btcusdt@depth5", partialDepthEvent(101, 10))
	r.feedStream("ethusdt@depth5", partialDepthEvent(102, 5))
	r.feedStream("btcusdt@depth5", `{"lastUpdateId":103}`)
	r.feedStream("btcusdt@depth5", partialDepthEvent(104, 3))
	checkKeys(t, r.keys(), []string{"BTCUSDT_100", "BTCUSDT_104"})
	var got binance.BookSnapshot
	if err := json.Unmarshal(r.values["BTCUSDT_104"], &got); err != nil {
		t.Fatal(err)
	}
	if got.Symbol != "BTCUSDT" || got.Time != r.recv.UnixMilli() || len(got.Bids) != 3 || got.Asks[2] != (binance.Level{102, 1}) {
		t.Errorf("record %+v", got)
	}
}
