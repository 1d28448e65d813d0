package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// bookStateRecord is a data-topic record of ws_book_ticker or ws_depth<levels>.
type bookStateRecord struct {
	Key          string       `json:"_key"`
	Symbol       string       `json:"symbol"`
	Time         int64        `json:"time"`
	UpdateID     int64        `json:"update_id"`      // book ticker
	LastUpdateID int64        `json:"last_update_id"` // partial book
	BidPrice     float64      `json:"bid_price"`
	AskPrice     float64      `json:"ask_price"`
	BidQty       float64      `json:"bid_qty"`
	AskQty       float64      `json:"ask_qty"`
	Bids         [][2]float64 `json:"bids"`
	Asks         [][2]float64 `json:"asks"`
}

// streamBookStates runs service for typ on BTCUSDT and ETHUSDT against the simulator until the topic holds n records,
// stops it over queue-control (it must end cleanly, outcome interrupted) and returns every record per symbol in
// topic order, after checking that each has the message key of its symbol and a _key of its own.
func streamBookStates(t *testing.T, cfg bus.Config, service, typ string, n int64) map[string][]bookStateRecord {
	t.Helper()
	_, url := startSim(t, binancesim.Options{Clock: fastClock(time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC), 20)})
	tk := newTask(t, cfg, "BTCUSDT", typ, "")
	tk.symbol = "BTCUSDT,ETHUSDT"
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startBinary(t, service, cfg, tk, url)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, n)
	stopLive(t, cfg, tk, p, ev, service)

	recs := readTopic(t, cfg, tk.topic)
	if keys := distinct(t, recs); len(keys) != len(recs) {
		t.Errorf("%d records but %d distinct keys: a record was published twice", len(recs), len(keys))
	}
	seq := map[string][]bookStateRecord{}
	for _, r := range recs {
		var b bookStateRecord
		if err := json.Unmarshal(r.Raw, &b); err != nil {
			t.Fatal(err)
		}
		seq[b.Symbol] = append(seq[b.Symbol], b)
	}
	if len(seq["BTCUSDT"]) == 0 || len(seq["ETHUSDT"]) == 0 || len(seq) != 2 {
		t.Fatalf("records per symbol: BTCUSDT %d, ETHUSDT %d, %d symbols", len(seq["BTCUSDT"]), len(seq["ETHUSDT"]), len(seq))
	}
	return seq
}

// testLiveBookTicker follows web-socket-streams.md, "Individual Symbol Book Ticker Streams" (<symbol>@bookTicker:
// u, s, b, B, a, A on every change of the best bid or ask): loader-ws-orderbook streams ws_book_ticker for two
// symbols; every record is keyed "<SYMBOL>_<u>", the update ids rise, the bid is below the ask and both have a
// quantity; stop ends the loader cleanly.
func testLiveBookTicker(t *testing.T, cfg bus.Config) {
	seq := streamBookStates(t, cfg, "loader-ws-orderbook", "ws_book_ticker", 200)
	for sym, recs := range seq {
		for i, b := range recs {
			if b.Key != fmt.Sprintf("%s_%d", sym, b.UpdateID) || b.Time <= 0 {
				t.Fatalf("%s record %d: key %q, update id %d, time %d", sym, i, b.Key, b.UpdateID, b.Time)
			}
			if i > 0 && b.UpdateID <= recs[i-1].UpdateID {
				t.Fatalf("%s record %d: update id %d after %d", sym, i, b.UpdateID, recs[i-1].UpdateID)
			}
			if !(b.BidPrice > 0 && b.BidPrice < b.AskPrice && b.BidQty > 0 && b.AskQty > 0) {
				t.Fatalf("%s record %d: bid %v x %v, ask %v x %v", sym, i, b.BidPrice, b.BidQty, b.AskPrice, b.AskQty)
			}
		}
	}
	t.Logf("book tickers: BTCUSDT %d, ETHUSDT %d", len(seq["BTCUSDT"]), len(seq["ETHUSDT"]))
}

// testLiveDepthSnapshots follows web-socket-streams.md, "Partial Book Depth Streams" (<symbol>@depth<levels>: the
// top 5, 10 or 20 levels of each side every 1000 ms, {lastUpdateId, bids, asks}): loader-producer streams ws_depth5
// for two symbols; every record is keyed "<SYMBOL>_<lastUpdateId>" and holds five levels a side, bids falling,
// asks rising, the best bid below the best ask; the update ids rise; stop ends the loader cleanly.
func testLiveDepthSnapshots(t *testing.T, cfg bus.Config) {
	seq := streamBookStates(t, cfg, "loader-producer", "ws_depth5", 40)
	for sym, recs := range seq {
		for i, b := range recs {
			if b.Key != fmt.Sprintf("%s_%d", sym, b.LastUpdateID) || b.Time <= 0 {
				t.Fatalf("%s record %d: key %q, update id %d, time %d", sym, i, b.Key, b.LastUpdateID, b.Time)
			}
			if i > 0 && b.LastUpdateID <= recs[i-1].LastUpdateID {
				t.Fatalf("%s record %d: update id %d after %d", sym, i, b.LastUpdateID, recs[i-1].LastUpdateID)
			}
			if len(b.Bids) != 5 || len(b.Asks) != 5 || b.Bids[0][0] >= b.Asks[0][0] {
				t.Fatalf("%s record %d: bids %v, asks %v", sym, i, b.Bids, b.Asks)
			}
			for j := 1; j < 5; j++ {
				if b.Bids[j][0] >= b.Bids[j-1][0] || b.Asks[j][0] <= b.Asks[j-1][0] || b.Bids[j][1] <= 0 || b.Asks[j][1] <= 0 {
					t.Fatalf("%s record %d: levels out of order or empty: bids %v, asks %v", sym, i, b.Bids, b.Asks)
				}
			}
		}
	}
	t.Logf("partial books: BTCUSDT %d, ETHUSDT %d", len(seq["BTCUSDT"]), len(seq["ETHUSDT"]))
}
