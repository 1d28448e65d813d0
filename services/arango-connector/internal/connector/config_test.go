package connector

import (
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Without COLLECTION_NAME the collection is derived from the task: named
// after the first day of its data, not the day its queue id was made.
func TestValidateDerivesCollection(t *testing.T) {
	for _, tt := range []struct {
		name              string
		task              Config
		wantColl, wantSym string
	}{
		{name: "time range", wantColl: "btcusdt_api_candles_5m_2026_09_01", wantSym: "BTCUSDT",
			task: withTask("wf-btcusdt-api_candles_5m-20261206-a1b2c3", "", "2026-09-01:2026-10-01")},
		{name: "live: the queue id's day", wantColl: "ethusdt_ws_trades_2026_12_06", wantSym: "ETHUSDT",
			task: withTask("wf-ethusdt-ws_trades-20261206-a1b2c3", "", "")},
		{name: "symbol given", wantColl: "btcusdt_api_trades_2026_10_01", wantSym: "BTCUSDT",
			task: withTask("wf-btcusdt-api_trades-20261206-a1b2c3", "BTCUSDT", "2026-10-01:2026-10-08")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.task
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if c.CollectionName != tt.wantColl || c.Symbol != tt.wantSym {
				t.Errorf("COLLECTION_NAME %q, SYMBOL %q; want %q, %q", c.CollectionName, c.Symbol, tt.wantColl, tt.wantSym)
			}
		})
	}
}

func withTask(queueID, symbol, timeRange string) Config {
	var c Config
	c.QueueID, c.Symbol, c.TimeRange = queueID, symbol, timeRange
	c.BatchSize, c.BatchWait, c.RetryMax, c.ProgressInterval, c.HeartbeatInterval = 1, 1, 1, 1, 1
	return c
}

// TestValidateDerivesGroup: without CONNECTOR_GROUP the consumer group is
// arango-connector-<queue_id>, which the access table's group (a prefix)
// grants.
func TestValidateDerivesGroup(t *testing.T) {
	s, ok := protocol.LookupService(Name)
	if !ok || len(s.Groups) != 1 || !s.Groups[0].Prefix {
		t.Fatalf("protocol.Services: %s %+v, want one prefix group", Name, s)
	}
	c := withTask("wf-btcusdt-api_trades-20261206-a1b2c3", "", "2026-10-01:2026-10-08")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := Name + "-" + c.QueueID; c.Group != want {
		t.Errorf("group %q, want %q", c.Group, want)
	}
	if !strings.HasPrefix(c.Group, s.Groups[0].Name) {
		t.Errorf("group %q is not granted by the access table's prefix %q", c.Group, s.Groups[0].Name)
	}
}
