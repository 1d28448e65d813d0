package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/store/storetest"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestPurgeDropsMarketDataNoOtherWorkflowUses: a purge drops the market-data
// collections the workflow alone stored and keeps, whole, every one that
// another workflow (in any state) writes or reads: a collection is named
// after the first day of the data, so a workflow over the same symbol and
// type whose range starts that day shares it. Once that other workflow is
// gone too, its purge drops the collection.
func TestPurgeDropsMarketDataNoOtherWorkflowUses(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repo := flow.NewRepo(st)
	now := time.Date(2024, 10, 2, 0, 0, 0, 0, time.UTC)
	submit := func(symbols []string, tr string, steps []string, state string) *flow.Workflow {
		t.Helper()
		w, err := flow.New(flow.Request{Symbols: symbols, Types: []string{"api_candles_5m"}, TimeRange: tr, Steps: steps}, now)
		if err != nil {
			t.Fatal(err)
		}
		w.State = state
		if err := repo.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	all := []string{"load", "store", "graph", "train"}
	// a: two symbols over August. b: BTCUSDT's first week of August, failed
	// (its collection is a's BTCUSDT one). c: ETHUSDT over September (its
	// own collection, another day).
	a := submit([]string{"BTCUSDT", "ETHUSDT"}, "2024-08-01:2024-09-01", all, flow.Finished)
	b := submit([]string{"BTCUSDT"}, "2024-08-01:2024-08-08", []string{"load", "store"}, flow.Failed)
	submit([]string{"ETHUSDT"}, "2024-09-01:2024-10-01", all, flow.Running)
	const (
		btcAug = "btcusdt_api_candles_5m_2024_08_01"
		ethAug = "ethusdt_api_candles_5m_2024_08_01"
		ethSep = "ethusdt_api_candles_5m_2024_09_01"
	)
	if diff := cmp.Diff([]string{btcAug, ethAug}, a.MarketData()); diff != "" {
		t.Fatalf("a's market data (-want +got):\n%s", diff)
	}
	for _, coll := range []string{btcAug, ethAug, ethSep} {
		if err := st.EnsureCollection(ctx, store.MarketData(coll)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Upsert(ctx, coll, storetest.Candles("BTCUSDT", 50)); err != nil {
			t.Fatal(err)
		}
	}
	p := &purger{st: st, art: objstore.Config{ArtifactDir: t.TempDir(), Bucket: "streamforge"}}
	count := func(coll string) (int64, error) { return st.Count(ctx, coll) }

	got, err := p.Purge(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ethAug}, got.Collections); diff != "" {
		t.Errorf("a's purge dropped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{btcAug}, got.Shared); diff != "" {
		t.Errorf("a's purge kept as shared (-want +got):\n%s", diff)
	}
	if _, err := count(ethAug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s after a's purge: %v, want dropped", ethAug, err)
	}
	for _, coll := range []string{btcAug, ethSep} {
		if n, err := count(coll); err != nil || n != 50 {
			t.Errorf("%s after a's purge: %d documents, %v; want all 50 (another workflow uses it)", coll, n, err)
		}
	}

	// The API deletes the workflow after its purge; then b is the last to
	// use BTCUSDT's August collection.
	if err := repo.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err = p.Purge(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Collections, []string{btcAug}) || len(got.Shared) != 0 {
		t.Errorf("b's purge dropped %v, kept %v; want %s dropped", got.Collections, got.Shared, btcAug)
	}
	if _, err := count(btcAug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s after b's purge: %v, want dropped", btcAug, err)
	}
	if n, err := count(ethSep); err != nil || n != 50 {
		t.Errorf("%s, c's, after b's purge: %d, %v; want all 50", ethSep, n, err)
	}
}
