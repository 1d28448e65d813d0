package loader

import (
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestParseJob(t *testing.T) {
	now := time.Date(2024, 9, 10, 12, 0, 0, 0, time.UTC)
	q := "wf-btcusdt-api_candles_5m-20240801-a1b2c3"
	ok := func(sym, typ, tr string, kinds ...Kind) Job {
		t.Helper()
		if kinds == nil {
			kinds = AllKinds
		}
		j, err := ParseJob(protocol.Task{QueueID: q, Symbol: sym, Type: typ, TimeRange: tr}, kinds, now)
		if err != nil {
			t.Fatalf("%s %s %s: %v", sym, typ, tr, err)
		}
		return j
	}
	j := ok("btcusdt, ETHUSDT,BTCUSDT", "api_candles_5m", "2024-08-01:2024-08-02")
	if strings.Join(j.Symbols, ",") != "BTCUSDT,ETHUSDT" || j.Type.Kind != APICandles || j.Type.String() != "api_candles_5m" ||
		j.Topic != q+"-data" || !j.Start.Equal(time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)) || j.Clamped {
		t.Errorf("job %+v", j)
	}
	if j := ok("BTCUSDT", "api_trades", "2024-09-10:2024-09-11"); !j.Clamped || !j.End.Equal(now) {
		t.Errorf("a range into the future is cut at now: %+v", j)
	}
	if j := ok("BTCUSDT", "ws_orderbook", ""); j.Type.Kind != WSOrderbook || !j.End.IsZero() {
		t.Errorf("live job without a range: %+v", j)
	}
	ok("BTCUSDT", "ws_candles_1s", "2024-09-10T00:00:00Z/2024-09-11T00:00:00Z")

	bad := []struct{ name, sym, typ, tr, want string }{
		{"no symbol", "", "api_trades", "2024-08-01:2024-08-02", "SYMBOL: is required"},
		{"bad symbol", "BTC/USDT", "api_trades", "2024-08-01:2024-08-02", "SYMBOL:"},
		{"no type", "BTCUSDT", "", "2024-08-01:2024-08-02", "TYPE: is required"},
		{"unknown interval", "BTCUSDT", "api_candles_7m", "2024-08-01:2024-08-02", `unknown kline interval "7m"`},
		{"unknown type", "BTCUSDT", "ws_bananas", "", `TYPE: unknown data type "ws_bananas"`},
		{"history without a range", "BTCUSDT", "api_trades", "", "TIME_RANGE: is required for api_trades"},
		{"range backwards", "BTCUSDT", "api_trades", "2024-08-02:2024-08-01", "TIME_RANGE:"},
		{"empty range", "BTCUSDT", "api_trades", "2024-08-01:2024-08-01", "TIME_RANGE:"},
		{"not a range", "BTCUSDT", "api_trades", "yesterday", "TIME_RANGE:"},
		{"history in the future", "BTCUSDT", "api_trades", "2024-09-11:2024-09-12", "starts in the future"},
		{"live range in the past", "BTCUSDT", "ws_trades", "2024-08-01:2024-08-02", "ends in the past"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := ParseJob(protocol.Task{QueueID: q, Symbol: b.sym, Type: b.typ, TimeRange: b.tr}, AllKinds, now)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("%q %q %q: error %v, want %q", b.sym, b.typ, b.tr, err, b.want)
			}
		})
	}
	_, err := ParseJob(protocol.Task{QueueID: q, Symbol: "BTCUSDT", Type: "api_trades", TimeRange: "2024-08-01:2024-08-02"},
		[]Kind{APICandles}, now)
	if err == nil || !strings.Contains(err.Error(), "TYPE: api_trades is not loaded by this service (it loads api_candles_<interval>)") {
		t.Errorf("restricted service: %v", err)
	}
}

// TestClampToDropsTheOpenCandle: a range reaching past now ends at the open
// time of the candle still open, which the API returns unfinished.
func TestClampToDropsTheOpenCandle(t *testing.T) {
	now := time.Date(2026, 12, 6, 18, 12, 41, 500e6, time.UTC)
	at := func(s string) time.Time { return mustParse(t, s) }
	tests := []struct {
		typ, tr string
		want    time.Time
	}{
		{"api_candles_5m", "2026-12-06:2026-12-07", at("2026-12-06T18:10:00Z")},
		{"api_candles_1h", "2026-12-06:2026-12-07", at("2026-12-06T18:00:00Z")},
		{"api_candles_1d", "2026-12-01:2026-12-07", at("2026-12-06T00:00:00Z")},
		{"api_candles_1d", "2026-12-06:2026-12-07", at("2026-12-06T00:00:00Z")}, // empty: today's candle is open
		{"api_candles_1w", "2026-11-01:2026-12-07", at("2026-11-30T00:00:00Z")}, // a Monday
		{"api_candles_1M", "2026-01-01:2026-12-07", at("2026-12-01T00:00:00Z")},
		{"api_trades", "2026-12-06:2026-12-07", now.Truncate(time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.tr, func(t *testing.T) {
			j, err := ParseJob(protocol.Task{QueueID: "q", Symbol: "BTCUSDT", Type: tt.typ, TimeRange: tt.tr}, AllKinds, now)
			if err != nil {
				t.Fatal(err)
			}
			if !j.End.Equal(tt.want) || !j.Clamped {
				t.Errorf("end %s (clamped %v), want %s", j.End, j.Clamped, tt.want)
			}
		})
	}
	// The exchange's clock, when behind the local one, decides.
	j, err := ParseJob(protocol.Task{QueueID: "q", Symbol: "BTCUSDT", Type: "api_candles_5m", TimeRange: "2026-12-06:2026-12-07"}, AllKinds, now)
	if err != nil {
		t.Fatal(err)
	}
	j.ClampTo(at("2026-12-06T18:09:59Z"))
	if want := at("2026-12-06T18:05:00Z"); !j.End.Equal(want) {
		t.Errorf("after the exchange's clock: end %s, want %s", j.End, want)
	}
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
