package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// TestEmbeddedStoppedStreamCoverage streams ETHUSDT's trades without an
// end, with a store step, and stops the workflow through the API, as most
// live streams end: the loader reports its ledger up to the stop in its
// interrupted event, the connector stores what the loader wrote before
// it ends and writes the ledger, and the API serves the streamed hours
// present, the store holding what was published; no hour after the stop
// is in it.
func TestEmbeddedStoppedStreamCoverage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0", BinDir: binDir, DataDir: t.TempDir(),
		APIAddr: stacktest.FreeAddr(t), TradeRate: 50,
		Env: []string{fmt.Sprintf("EVENTS_GROUP=stopcov-%d", time.Now().UnixNano())}}
	s := stacktest.Up(t, ctx, o)
	c := &scenario.Client{API: s.API}
	began := time.Now().UTC()
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{symbol}, Types: []string{"ws_trades"}, Steps: []string{"load", "store"}})
	if err != nil {
		t.Fatal(err)
	}
	// Stop once the loader has streamed for a while: the connector then
	// has records of it still to store when the stop comes.
	for {
		cur, err := c.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if step(t, cur, "load").Records >= 200 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the loader streamed %d trades before the test's deadline", step(t, cur, "load").Records)
		case <-time.After(200 * time.Millisecond):
		}
	}
	final, err := c.StopAndWait(ctx, w.ID, 250*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	stopped := time.Now().UTC()
	if err := scenario.CheckStopped(final); err != nil {
		t.Fatal(err)
	}
	load, store := step(t, final, "load"), step(t, final, "store")
	if n := len(store.Attempts); store.State != "stopped" || n == 0 || store.Attempts[n-1].Outcome != "stopped" {
		t.Errorf("store step %s with attempts %+v, want stopped by itself", store.State, store.Attempts)
	}
	var ledger coverage.Result
	if err := json.Unmarshal(load.Result, &ledger); err != nil || len(ledger.Coverage) != 1 {
		t.Fatalf("load step's result %s (%v): want the loader's ledger", load.Result, err)
	}
	var published int64
	for _, h := range ledger.Coverage[0].Hours() {
		published += h.Records
	}
	var summary struct {
		Coverage coverage.Summary `json:"coverage"`
	}
	if err := json.Unmarshal(store.Result, &summary); err != nil || summary.Coverage.Hours == 0 || !summary.Coverage.Complete {
		t.Errorf("store step's result %s (%v): want the summary of a complete ledger", store.Result, err)
	}

	timeRange := began.Add(-time.Hour).Format(time.RFC3339) + "/" + stopped.Add(2*time.Hour).Format(time.RFC3339)
	cov, err := c.Coverage(ctx, symbol, "ws_trades", timeRange)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coverage of %s ws_trades after the stop: %+v, holes %q; the loader published %d", symbol, cov.Summary, cov.Holes, published)
	if len(cov.Hours) == 0 {
		t.Fatalf("no hour of the stopped stream in the ledger: %+v", cov)
	}
	var counted, stored int64
	for _, h := range cov.Hours {
		if h.Time < coverage.Floor(began.UnixMilli()) || h.Time > coverage.Floor(stopped.UnixMilli()) {
			t.Errorf("hour %s in the ledger, outside the stream's %s..%s", time.UnixMilli(h.Time).UTC(), began, stopped)
		}
		if h.State != coverage.Present || h.Stored == nil || *h.Stored != h.Records || h.QueueID != store.QueueID {
			t.Errorf("hour %+v (stored %v), want present, the store holding what was published, written by %s", h, h.Stored, store.QueueID)
			continue
		}
		counted += h.Records
		stored += *h.Stored
	}
	if counted != published || stored != published || published < 200 {
		t.Errorf("the ledger counts %d records and the store %d; the loader published %d (at least 200)", counted, stored, published)
	}
	if len(cov.Holes) != 0 {
		t.Errorf("holes %q, want none", cov.Holes)
	}
}

// step returns w's step of kind.
func step(t *testing.T, w *scenario.Workflow, kind string) *scenario.Step {
	t.Helper()
	for _, s := range w.Steps {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("workflow %s has no %s step", w.ID, kind)
	return nil
}
