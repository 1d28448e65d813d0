package protocol_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestLookupDataType(t *testing.T) {
	tests := []struct {
		typ          string
		wantName     string
		wantInterval string
		wantLive     bool
	}{
		{"api_candles_5m", "api_candles_", "5m", false},
		{"api_candles_1M", "api_candles_", "1M", false},
		{"api_trades", "api_trades", "", false},
		{"ws_trades", "ws_trades", "", true},
		{"ws_orderbook", "ws_orderbook", "", true},
		{"ws_candles_1s", "ws_candles_", "1s", true},
		{"ws_book_ticker", "ws_book_ticker", "", true},
		{"ws_depth5", "ws_depth", "5", true},
		{"ws_depth20", "ws_depth", "20", true},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			d, iv, err := protocol.LookupDataType(tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != tt.wantName || iv != tt.wantInterval || d.Live != tt.wantLive {
				t.Errorf("LookupDataType(%q) = %s %q live=%v, want %s %q live=%v", tt.typ, d.Name, iv, d.Live, tt.wantName, tt.wantInterval, tt.wantLive)
			}
		})
	}
	for _, tt := range []struct{ name, typ, want string }{
		{"unknown interval", "api_candles_7m", `"api_candles_7m": unknown kline interval "7m"`},
		{"no interval", "api_candles_", `"api_candles_": unknown kline interval ""`},
		// web-socket-streams.md, "Partial Book Depth Streams": valid <levels> are 5, 10 or 20.
		{"unknown depth", "ws_depth15", `"ws_depth15": unknown book depth "15" (want 5, 10 or 20 levels)`},
		{"no depth", "ws_depth", `"ws_depth": unknown book depth ""`},
		{"unknown type", "ws_bananas", `unknown data type "ws_bananas" (want api_candles_<interval>, api_trades, ws_trades, ws_orderbook, ws_candles_<interval>, ws_book_ticker or ws_depth<levels>)`},
		{"empty", "", `unknown data type ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := protocol.LookupDataType(tt.typ); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("LookupDataType(%q): error %v, want %q", tt.typ, err, tt.want)
			}
		})
	}
}

func TestValidateWorkflowType(t *testing.T) {
	if _, err := protocol.ValidateWorkflowType("api_candles_1M"); err == nil || !strings.Contains(err.Error(), "not supported by workflows") {
		t.Errorf("api_candles_1M: error %v, want it not supported by workflows", err)
	}
	if _, err := protocol.ValidateWorkflowType("api_candles_1m"); err != nil {
		t.Errorf("api_candles_1m: %v", err)
	}
}

// TestDataTypeNames: every TYPE a table entry yields looks itself up, is a
// valid TYPE and, when workflows take it, lower case.
func TestDataTypeNames(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range protocol.DataTypes {
		all, wf := d.Names(false), d.Names(true)
		for _, n := range all {
			if seen[n] {
				t.Errorf("%s is named twice", n)
			}
			seen[n] = true
			got, _, err := protocol.LookupDataType(n)
			if err != nil || got.Name != d.Name {
				t.Errorf("LookupDataType(%q) = %s, %v; want %s", n, got.Name, err, d.Name)
			}
			if err := protocol.ValidateType(n); err != nil && slices.Contains(wf, n) {
				t.Errorf("%s: %v", n, err)
			}
			_, err = protocol.ValidateWorkflowType(n)
			if (err == nil) != slices.Contains(wf, n) {
				t.Errorf("ValidateWorkflowType(%q) = %v, but Names(true) = %v", n, err, wf)
			}
		}
		if d.Description == "" || d.Stream == "" {
			t.Errorf("%s: description and stream are required", d.Name)
		}
		// Messages and documents say api_* for history and ws_* for live.
		if prefix := map[bool]string{true: "ws_", false: "api_"}[d.Live]; !strings.HasPrefix(d.Name, prefix) {
			t.Errorf("%s: live=%v, but its name does not start with %s", d.Name, d.Live, prefix)
		}
	}
	if !seen["api_candles_1M"] || !seen["ws_trades"] || !seen["ws_depth5"] || !seen["ws_depth10"] || !seen["ws_depth20"] || !seen["ws_book_ticker"] {
		t.Errorf("names %v", seen)
	}
}

func TestStreamName(t *testing.T) {
	var got []string
	for _, typ := range []string{"ws_trades", "ws_orderbook", "ws_candles_5m", "api_trades", "ws_book_ticker", "ws_depth10"} {
		d, iv, err := protocol.LookupDataType(typ)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.StreamName("BTCUSDT", iv))
	}
	// web-socket-streams.md: "Individual Symbol Book Ticker Streams" (<symbol>@bookTicker) and "Partial Book
	// Depth Streams" (<symbol>@depth<levels>, every 1000 ms).
	want := []string{"btcusdt@aggTrade", "btcusdt@depth@100ms", "btcusdt@kline_5m", "", "btcusdt@bookTicker", "btcusdt@depth10"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stream names (-want +got):\n%s", d)
	}
}

// TestStepKinds checks the table's own rules: a kind needs one listed
// before it, a kind needing a history-only kind is history-only itself,
// defaults come first and every kind has a service and a limit.
func TestStepKinds(t *testing.T) {
	if d := cmp.Diff([]string{"load", "store", "graph", "train"}, protocol.StepKindNames()); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
	services := map[string]bool{}
	for i, k := range protocol.StepKinds {
		if k.Service == "" || services[k.Service] || k.DefaultLimit < 1 {
			t.Errorf("%s: service %q (each its own) and a limit >= 1 (%d) are required", k.Name, k.Service, k.DefaultLimit)
		}
		services[k.Service] = true
		if k.Needs != "" {
			j := slices.IndexFunc(protocol.StepKinds, func(n protocol.StepKind) bool { return n.Name == k.Needs })
			if j < 0 || j >= i {
				t.Errorf("%s needs %q, which is not a kind listed before it", k.Name, k.Needs)
			}
			if j >= 0 && protocol.StepKinds[j].HistoryOnly && !k.HistoryOnly {
				t.Errorf("%s needs history-only %s but is not history-only", k.Name, k.Needs)
			}
			if k.Default && !protocol.StepKinds[j].Default {
				t.Errorf("default %s needs %s, which is not a default", k.Name, k.Needs)
			}
		}
		if got, ok := protocol.LookupStepKind(k.Name); !ok || got.Name != k.Name {
			t.Errorf("LookupStepKind(%q) = %v, %v", k.Name, got, ok)
		}
	}
	if _, ok := protocol.LookupStepKind("gnn"); ok {
		t.Error("LookupStepKind(gnn) found a kind")
	}
	if got := protocol.StepKindList(); got != "load, store, graph or train" {
		t.Errorf("StepKindList() = %q", got)
	}
}
