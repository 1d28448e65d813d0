// Package stream runs Scenario 2 end to end, the way `make stream` does: the
// local stack (queue-manager with the local launcher, the real loader
// binary, the exchange simulator's WebSocket streams), a live workflow for
// ETHUSDT trades and order book submitted through queue-manager's REST API,
// the view fed from the loaders' data topics for about ten seconds, then a
// stop through the API that must end every loader Job cleanly. The unit
// tier runs on the embedded broker; with -tags integration it runs on real
// Apache Kafka 4.x.
package stream

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/streamforge/streamforge/platform/devstack/internal/live"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }

const symbol = "ETHUSDT"

// testStream streams symbol for about ten seconds on the stack o describes,
// stops it through the API and checks what the view saw and how the
// loaders ended.
func testStream(t *testing.T, o stack.Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o.BinDir, o.DataDir, o.APIAddr, o.TradeRate = binDir, t.TempDir(), stacktest.FreeAddr(t), 10
	o.Env = append(o.Env, fmt.Sprintf("EVENTS_GROUP=stream-%d", time.Now().UnixNano()))
	s := stacktest.Up(t, ctx, o)
	var out bytes.Buffer
	defer func() { t.Logf("devstack stream output:\n%s", out.String()) }()

	res, err := live.Run(ctx, live.Options{Client: &scenario.Client{API: s.API}, Kafka: s.BusConfig(), Symbol: symbol,
		Duration: 10 * time.Second, Keep: 20, Screen: &live.Screen{Out: &out, Symbol: symbol}})
	if err != nil {
		t.Fatalf("live.Run: %v", err)
	}

	// The view saw trades, in order and without a hole, and a two-sided book.
	v := res.View
	if v.TradeCount < 10 || v.IDBreaks != 0 || v.LastID-v.FirstID+1 != v.TradeCount || v.TradeGaps != 0 {
		t.Errorf("trades: %d seen, ids %d..%d, %d out of sequence, %d gaps; want >= 10 with consecutive ids",
			v.TradeCount, v.FirstID, v.LastID, v.IDBreaks, v.TradeGaps)
	}
	if !v.Top.TwoSided() || v.Top.Bid >= v.Top.Ask || !v.Top.Synced || v.Snapshots == 0 || v.Diffs == 0 {
		t.Errorf("book: %+v after %d snapshots and %d diffs; want a synced two-sided book with bid < ask", v.Top, v.Snapshots, v.Diffs)
	}
	// The trades are the simulator's, with its ids, prices and sides.
	if len(v.Trades) > 0 {
		first, last := v.Trades[len(v.Trades)-1], v.Trades[0]
		sim, err := s.Market().AggTrades(symbol, time.UnixMilli(first.Time), time.UnixMilli(last.Time))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]int{}
		for i, a := range sim {
			byID[a.ID] = i
		}
		for _, got := range v.Trades {
			i, ok := byID[got.AggID]
			if !ok {
				t.Errorf("trade %d is not among the simulator's %d trades of %s..%s", got.AggID, len(sim), time.UnixMilli(first.Time), time.UnixMilli(last.Time))
				continue
			}
			want := sim[i]
			if math.Abs(got.Price-float64(want.Price)/1e8) > 1e-9 || math.Abs(got.Qty-float64(want.Qty)/1e8) > 1e-9 ||
				got.BuyerMaker != want.BuyerMaker || got.Time != want.Time {
				t.Errorf("trade %d = %+v, the simulator's is %+v", got.AggID, got, want)
			}
		}
	}

	// The stop through the API ended the workflow and each loader by itself.
	w := res.Workflow
	if w.State != "stopped" {
		t.Errorf("workflow %s ended %s, want stopped", w.ID, w.State)
	}
	loads := 0
	for _, st := range w.Steps {
		if st.Kind != "load" {
			continue
		}
		loads++
		if n := len(st.Attempts); st.State != "stopped" || n == 0 || st.Attempts[n-1].Outcome != "stopped" {
			t.Errorf("step %s: %s with attempts %+v; want stopped, its last attempt stopped", st.ID, st.State, st.Attempts)
		}
		if st.Records == 0 {
			t.Errorf("step %s reported no records", st.ID)
		}
	}
	if loads != 2 {
		t.Errorf("%d load steps, want 2 (ws_trades, ws_orderbook)", loads)
	}
	// No loader process is left.
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids, err := s.Workers()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker processes %v still running after the workflow stopped", pids)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The unit tier: the embedded broker.
func TestEmbeddedStream(t *testing.T) {
	testStream(t, stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0"})
}
