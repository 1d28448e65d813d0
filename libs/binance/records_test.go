package binance

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keyed decodes a record together with its "_key".
type keyed[T any] struct {
	Key    string `json:"_key"`
	Record T
}

func decodeKeyed[T any](t *testing.T, b []byte) keyed[T] {
	t.Helper()
	var got keyed[T]
	if err := json.Unmarshal(b, &got.Record); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	var k struct {
		Key string `json:"_key"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatalf("decode key %s: %v", b, err)
	}
	got.Key = k.Key
	return got
}

var (
	testCandle = Candle{
		Symbol: "BTCUSDT", Interval: "5m", Time: 1722470400000, OpenTime: 1722470400000, CloseTime: 1722470699999,
		Open: 64628.01, High: 64705.98, Low: 64601, Close: 64674.01, Volume: 134.16525, QuoteVolume: 8674537.0664191,
		Trades: 11714, TakerBuyBase: 57.8137, TakerBuyQuote: 3737985.72872,
	}
	testTrade = AggTrade{Symbol: "BTCUSDT", Time: 1722470400123, AggID: 3089543210, Price: 64628.01,
		Qty: 0.00012, FirstID: 3712345678, LastID: 3712345680, BuyerMaker: true}
)

func TestAppendJSONDecodesToSameValue(t *testing.T) {
	t.Run("candle", func(t *testing.T) {
		got := decodeKeyed[Candle](t, testCandle.AppendJSON(nil))
		if diff := cmp.Diff(testCandle, got.Record); diff != "" {
			t.Errorf("candle (-want +got):\n%s", diff)
		}
		if got, want := got.Key, "BTCUSDT_5m_1722470400000"; got != want {
			t.Errorf("_key = %q, want %q", got, want)
		}
	})
	t.Run("agg trade", func(t *testing.T) {
		got := decodeKeyed[AggTrade](t, testTrade.AppendJSON(nil))
		if diff := cmp.Diff(testTrade, got.Record); diff != "" {
			t.Errorf("trade (-want +got):\n%s", diff)
		}
		if got, want := got.Key, "BTCUSDT_3089543210"; got != want {
			t.Errorf("_key = %q, want %q", got, want)
		}
	})
	t.Run("book snapshot", func(t *testing.T) {
		want := BookSnapshot{Symbol: "NKNUSDT", Time: 1633998512320, LastUpdateID: 499869752,
			Bids: []Level{{0.3521, 672}, {0.352, 1144}}, Asks: []Level{{0.3525, 1e-8}}}
		got := decodeKeyed[BookSnapshot](t, want.AppendJSON(nil))
		if diff := cmp.Diff(want, got.Record); diff != "" {
			t.Errorf("snapshot (-want +got):\n%s", diff)
		}
		if got, want := got.Key, "NKNUSDT_499869752"; got != want {
			t.Errorf("_key = %q, want %q", got, want)
		}
	})
	t.Run("book diff", func(t *testing.T) {
		want := BookDiff{Symbol: "NKNUSDT", Time: 1633998512568, FirstUpdateID: 499869753, FinalUpdateID: 499869754,
			Bids: []Level{{0.3517, 4265}}, Asks: []Level{}}
		got := decodeKeyed[BookDiff](t, want.AppendJSON(nil))
		if diff := cmp.Diff(want, got.Record); diff != "" {
			t.Errorf("diff (-want +got):\n%s", diff)
		}
		if got, want := got.Key, "NKNUSDT_diff_499869754"; got != want {
			t.Errorf("_key = %q, want %q", got, want)
		}
	})
	t.Run("gap with characters JSON must escape", func(t *testing.T) {
		want := Gap{Symbol: "NKNUSDT", Time: 1633998512568, From: 10, To: 20, Reason: "U=21 \"after\" u=9\n\x01 é"}
		got := decodeKeyed[Gap](t, want.AppendJSON(nil))
		if diff := cmp.Diff(want, got.Record); diff != "" {
			t.Errorf("gap (-want +got):\n%s", diff)
		}
		if got, want := got.Key, "NKNUSDT_gap_10_20"; got != want {
			t.Errorf("_key = %q, want %q", got, want)
		}
	})
}

func TestAppendJSONKeepsFloatPrecisionAndValidity(t *testing.T) {
	for _, v := range []float64{0, 1e-8, 0.1 + 0.2, 123456789.12345678, 1e21, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		c := testCandle
		c.Close = v
		got := decodeKeyed[Candle](t, c.AppendJSON(nil)).Record.Close
		if got != v {
			t.Errorf("close %v round-tripped to %v", v, got)
		}
	}
	c := testCandle
	c.Close = math.NaN()
	if b := c.AppendJSON(nil); !json.Valid(b) {
		t.Errorf("NaN close gives invalid JSON %s", b)
	}
}

func TestKeyMatchesAppendJSON(t *testing.T) {
	got := decodeKeyed[Candle](t, testCandle.AppendJSON(nil)).Key
	if want := testCandle.Key(); got != want {
		t.Errorf("_key in JSON = %q, Key() = %q", got, want)
	}
}

func BenchmarkCandleJSON(b *testing.B) {
	b.Run("append_json", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = testCandle.AppendJSON(buf[:0])
		}
	})
	b.Run("baseline=encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		type withKey struct {
			Key string `json:"_key"`
			Candle
		}
		for b.Loop() {
			if _, err := json.Marshal(withKey{Key: testCandle.Key(), Candle: testCandle}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAggTradeJSON(b *testing.B) {
	b.Run("append_json", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = testTrade.AppendJSON(buf[:0])
		}
	})
	b.Run("baseline=encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		type withKey struct {
			Key string `json:"_key"`
			AggTrade
		}
		for b.Loop() {
			if _, err := json.Marshal(withKey{Key: testTrade.Key(), AggTrade: testTrade}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
