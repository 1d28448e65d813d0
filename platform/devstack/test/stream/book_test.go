package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// testBookStates submits a live workflow of symbol's book ticker and five-level partial book (web-socket-streams.md,
// "Individual Symbol Book Ticker Streams" and "Partial Book Depth Streams") over a few seconds through
// queue-manager's API, on the stack o describes: the loaders stream until the range's end, the connectors store
// what they published and the workflow finishes. Each collection then holds one document per update id, keyed
// "<SYMBOL>_<id>", received inside the range, as many as the step reports.
func testBookStates(t *testing.T, o stack.Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o.BinDir, o.DataDir, o.APIAddr, o.TradeRate = binDir, t.TempDir(), stacktest.FreeAddr(t), 10
	o.Env = append(o.Env, fmt.Sprintf("EVENTS_GROUP=books-%d", time.Now().UnixNano()))
	s := stacktest.Up(t, ctx, o)
	start := time.Now().Add(4 * time.Second).Truncate(time.Second)
	end := start.Add(6 * time.Second)
	c := &scenario.Client{API: s.API}
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{symbol}, Types: []string{"ws_book_ticker", "ws_depth5"},
		TimeRange: start.Format(time.RFC3339) + "/" + end.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	if w, err = c.Follow(ctx, w.ID, func(*scenario.Workflow) {}); err != nil {
		t.Fatal(err)
	}
	if w.State != "finished" {
		t.Fatalf("workflow %s ended %s (%s), want finished", w.ID, w.State, w.Error)
	}
	st, err := sqlite.Open(ctx, s.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stores := 0
	for _, step := range w.Steps {
		if step.Kind != "store" {
			continue
		}
		stores++
		keys := map[string]bool{}
		err := st.Range(ctx, step.Collection, symbol, 0, 1<<62, func(doc json.RawMessage) error {
			var d struct {
				Key          string `json:"_key"`
				Time         int64  `json:"time"`
				UpdateID     int64  `json:"update_id"`
				LastUpdateID int64  `json:"last_update_id"`
			}
			if err := json.Unmarshal(doc, &d); err != nil {
				return err
			}
			if want := fmt.Sprintf("%s_%d", symbol, max(d.UpdateID, d.LastUpdateID)); d.Key != want || keys[d.Key] {
				return fmt.Errorf("document %s: key %q, want %q once", doc, d.Key, want)
			}
			if d.Time < start.UnixMilli() || d.Time >= end.UnixMilli() {
				return fmt.Errorf("document %s: received at %d, outside the range %d..%d", doc, d.Time, start.UnixMilli(), end.UnixMilli())
			}
			keys[d.Key] = true
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", step.Collection, err)
		}
		if len(keys) == 0 || int64(len(keys)) != step.Records {
			t.Errorf("%s (%s): %d documents, the step reports %d", step.Collection, step.Type, len(keys), step.Records)
		}
		t.Logf("%s: %d documents", step.Collection, len(keys))
	}
	if stores != 2 {
		t.Errorf("%d store steps, want 2", stores)
	}
}

func TestEmbeddedBookStates(t *testing.T) {
	testBookStates(t, stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0"})
}
