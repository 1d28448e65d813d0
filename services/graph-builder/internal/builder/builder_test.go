package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/graph-builder/internal/graph"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "streamforge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func putCandles(t *testing.T, st store.Store, coll string, cs []binance.Candle) {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureCollection(ctx, store.MarketData(coll)); err != nil {
		t.Fatal(err)
	}
	docs := make([]json.RawMessage, 0, len(cs))
	for i := range cs {
		docs = append(docs, cs[i].AppendJSON(nil))
	}
	if _, err := st.Upsert(ctx, coll, docs); err != nil {
		t.Fatal(err)
	}
}

func config(t *testing.T, symbols, inputs string) *Config {
	t.Helper()
	c := &Config{Inputs: inputs, GraphName: "g_test", Kind: KindAuto, Edges: EdgesMST, Threshold: 0.5, TopK: 2, Window: 288, Step: 12,
		Horizons: "1,3,12", FeatWin: 12, BatchSize: 5000}
	c.QueueID, c.Symbol = "wf-btcusdt-graph-20240801-a1b2c3", symbols
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// graphDigest reads the named graph back and hashes it, in the store's order.
func graphDigest(t *testing.T, st store.Store, name string) (vertices, edges int, digest string) {
	t.Helper()
	h := sha256.New()
	err := st.ReadGraph(context.Background(), name, func(doc json.RawMessage) error {
		vertices++
		h.Write(doc)
		return nil
	}, func(doc json.RawMessage) error {
		edges++
		h.Write(doc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return vertices, edges, hex.EncodeToString(h.Sum(nil))
}

func buildAndWrite(t *testing.T, st store.Store, cfg *Config) *built {
	t.Helper()
	return buildRange(t, st, cfg, -1<<62, 1<<62)
}

// buildRange builds cfg's graph from the candles with from <= time < to and
// writes it.
func buildRange(t *testing.T, st store.Store, cfg *Config, from, to int64) *built {
	t.Helper()
	ctx := context.Background()
	ss, err := readSeries(ctx, st, cfg.inputs, from, to, func(int64) {})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(cfg, ss)
	if err != nil {
		t.Fatal(err)
	}
	if err := newWriter(st, cfg.GraphName, cfg.BatchSize, func(int64) error { return nil }).write(ctx, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVisibilityGraphOfBTCUSDT(t *testing.T) {
	path := filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv")
	cs := testkit.FixtureCandles(t, path, "BTCUSDT", "5m")
	st := openStore(t)
	putCandles(t, st, "btcusdt_api_candles_5m_2024_08_01", cs)
	cfg := config(t, "BTCUSDT", "btcusdt_api_candles_5m_2024_08_01")
	b := buildAndWrite(t, st, cfg)

	if b.kind != KindVisibility {
		t.Fatalf("kind %s, want visibility for one symbol", b.kind)
	}
	first := len(cs) - len(b.nodes)
	if first < 12 || first > 13 {
		t.Fatalf("%d nodes of %d candles: the warm-up should drop the 12 or 13 first bars", len(b.nodes), len(cs))
	}
	closes := make([]float64, 0, len(b.nodes))
	for i, n := range b.nodes {
		c := cs[first+i]
		if n.time != c.OpenTime || n.close != c.Close || len(n.x) != len(b.features) {
			t.Fatalf("node %d = %+v, want candle %+v with %d features", i, n, c, len(b.features))
		}
		closes = append(closes, c.Close)
	}
	if lab := b.nodes[len(b.nodes)-1].label; lab != -1 {
		t.Errorf("the last node has label %d; its next bar is unknown", lab)
	}
	want := graph.Visibility(closes)
	if len(want) != len(b.edges) {
		t.Fatalf("%d edges, want the visibility graph's %d", len(b.edges), len(want))
	}
	for i, e := range b.edges {
		if e.from != int(want[i].U) || e.to != int(want[i].V) || b.nodes[e.from].time >= b.nodes[e.to].time {
			t.Fatalf("edge %d = %+v, want %+v pointing forward in time", i, e, want[i])
		}
	}
	for _, f := range []string{"log_trades", "taker_imbalance"} {
		if !strings.Contains(strings.Join(b.features, ","), f) {
			t.Errorf("features %v lack %s, which the archive's columns allow", b.features, f)
		}
	}

	v, e, d1 := graphDigest(t, st, cfg.GraphName)
	if v != len(b.nodes) || e != len(b.edges) {
		t.Fatalf("store holds %d vertices and %d edges, want %d and %d", v, e, len(b.nodes), len(b.edges))
	}
	// The same input gives the same graph, document for document.
	buildAndWrite(t, st, cfg)
	if _, _, d2 := graphDigest(t, st, cfg.GraphName); d2 != d1 {
		t.Error("a second build of the same candles wrote different documents")
	}
	t.Logf("BTCUSDT 2024-08: %d nodes, %d edges, features %v", len(b.nodes), len(b.edges), b.features)
}

// A graph built again under its name is the new build alone: nothing of
// the old one survives, document for document the same as a build into an
// empty store.
func TestRebuildReplacesTheGraph(t *testing.T) {
	path := filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv")
	cs := testkit.FixtureCandles(t, path, "BTCUSDT", "5m")
	const coll = "btcusdt_api_candles_5m_2024_08_01"
	month := [2]int64{cs[0].OpenTime, cs[len(cs)-1].OpenTime + 1}
	week := [2]int64{month[0], month[0] + 7*24*60*60_000}

	fresh := openStore(t)
	putCandles(t, fresh, coll, cs)
	cfg := config(t, "BTCUSDT", coll)
	wantB := buildRange(t, fresh, cfg, week[0], week[1])
	wantV, wantE, want := graphDigest(t, fresh, cfg.GraphName)

	st := openStore(t)
	putCandles(t, st, coll, cs)
	old := buildRange(t, st, cfg, month[0], month[1])
	buildRange(t, st, cfg, week[0], week[1])
	v, e, got := graphDigest(t, st, cfg.GraphName)
	if v != wantV || e != wantE {
		t.Errorf("rebuilt over a week (after a month): %d vertices, %d edges; want the week's %d and %d (the month had %d and %d)",
			v, e, wantV, wantE, len(old.nodes), len(old.edges))
	}
	if got != want || v != len(wantB.nodes) {
		t.Errorf("the rebuilt graph's digest %s, want %s: a build into an empty store", got, want)
	}
}

func TestCorrelationSnapshotsOfSixAssets(t *testing.T) {
	dir := testkit.Fixtures(t, "multi-asset-5m")
	st := openStore(t)
	syms := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"}
	var inputs []string
	for _, s := range syms {
		coll := strings.ToLower(s) + "_api_candles_5m_2021_01_01"
		putCandles(t, st, coll, testkit.FixtureCandles(t, filepath.Join(dir, s+"-5m.json"), s, "5m"))
		inputs = append(inputs, coll)
	}
	cfg := config(t, strings.Join(syms, ","), strings.Join(inputs, ","))
	b := buildAndWrite(t, st, cfg)
	if b.kind != KindCorrelation || b.snapshots < 100 {
		t.Fatalf("kind %s with %d snapshots, want a correlation sequence", b.kind, b.snapshots)
	}
	if len(b.nodes) != len(syms)*b.snapshots {
		t.Fatalf("%d nodes, want %d symbols x %d snapshots", len(b.nodes), len(syms), b.snapshots)
	}
	perSnap := map[int]int{}
	temporal := 0
	for _, e := range b.edges {
		from, to := b.nodes[e.from], b.nodes[e.to]
		switch e.rel {
		case relCorrelation:
			perSnap[e.snapshot]++
			if from.time != to.time || from.symbol == to.symbol || e.w < -1 || e.w > 1 {
				t.Fatalf("correlation edge %+v joins %s@%d and %s@%d", e, from.symbol, from.time, to.symbol, to.time)
			}
		case relTemporal:
			temporal++
			if from.symbol != to.symbol || from.time >= to.time {
				t.Fatalf("temporal edge joins %s@%d and %s@%d", from.symbol, from.time, to.symbol, to.time)
			}
		}
	}
	for s := range b.snapshots {
		if perSnap[s] != len(syms)-1 {
			t.Fatalf("snapshot %d has %d edges; a spanning tree of %d symbols has %d", s, perSnap[s], len(syms), len(syms)-1)
		}
	}
	if temporal != len(syms)*(b.snapshots-1) {
		t.Errorf("%d temporal edges, want %d", temporal, len(syms)*(b.snapshots-1))
	}
	if v, e, _ := graphDigest(t, st, cfg.GraphName); v != len(b.nodes) || e != len(b.edges) {
		t.Fatalf("store holds %d vertices and %d edges, want %d and %d", v, e, len(b.nodes), len(b.edges))
	}
	// The fixture has real maintenance gaps: no snapshot may correlate
	// returns across one. A snapshot at bar time T covers the returns of
	// the window+1 bars up to T, which must be evenly spaced.
	present := map[int64]int{}
	for _, s := range syms {
		for _, c := range testkit.FixtureCandles(t, filepath.Join(dir, s+"-5m.json"), s, "5m") {
			present[c.OpenTime]++
		}
	}
	const step = int64(5 * 60 * 1000)
	for _, n := range b.nodes {
		for k := int64(0); k <= int64(cfg.Window); k++ {
			if present[n.time-k*step] != len(syms) {
				t.Fatalf("snapshot %d at %s correlates returns across the missing bar %s", n.snapshot,
					time.UnixMilli(n.time).UTC(), time.UnixMilli(n.time-k*step).UTC())
			}
		}
	}
	if b.skipped == 0 {
		t.Error("no window was skipped, yet the fixture has gaps")
	}
	t.Logf("six assets: %d snapshots (%d skipped across gaps), %d nodes, %d edges", b.snapshots, b.skipped, len(b.nodes), len(b.edges))
}

func TestTradesFoldIntoTheirCandles(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	const t0 = int64(1722470400000)
	var cs []binance.Candle
	for i := range 40 {
		open := t0 + int64(i)*300_000
		cs = append(cs, binance.Candle{Symbol: "BTCUSDT", Interval: "5m", Time: open, OpenTime: open, CloseTime: open + 299_999,
			Open: 100, High: 101, Low: 99, Close: 100 + float64(i%7), Volume: 10})
	}
	putCandles(t, st, "btcusdt_api_candles_5m_2024_08_01", cs)
	trades := []binance.AggTrade{
		{Symbol: "BTCUSDT", AggID: 1, Time: t0 - 1, Qty: 9},                         // before the first candle
		{Symbol: "BTCUSDT", AggID: 2, Time: t0, Qty: 2},                             // bar 0, taker bought
		{Symbol: "BTCUSDT", AggID: 3, Time: t0 + 299_999, Qty: 1, BuyerMaker: true}, // bar 0, taker sold
		{Symbol: "BTCUSDT", AggID: 4, Time: t0 + 300_000, Qty: 5},                   // bar 1
	}
	coll := "btcusdt_api_trades_2024_08_01"
	if err := st.EnsureCollection(ctx, store.MarketData(coll)); err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	for i := range trades {
		docs = append(docs, trades[i].AppendJSON(nil))
	}
	if _, err := st.Upsert(ctx, coll, docs); err != nil {
		t.Fatal(err)
	}
	cfg := config(t, "BTCUSDT", "btcusdt_api_candles_5m_2024_08_01,"+coll)
	ss, err := readSeries(ctx, st, cfg.inputs, -1<<62, 1<<62, func(int64) {})
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	if b := s.bars[0]; b.AggTrades != 2 || b.TradeBuyQty != 2 || b.TradeSellQty != 1 {
		t.Errorf("bar 0 = %+v, want 2 trades, 2 bought, 1 sold", b)
	}
	if b := s.bars[1]; b.AggTrades != 1 || b.TradeBuyQty != 5 {
		t.Errorf("bar 1 = %+v, want 1 trade of 5 bought", b)
	}
	if s.trades != 3 || s.outside != 1 {
		t.Errorf("folded %d trades, %d outside; want 3 and 1", s.trades, s.outside)
	}
	b, err := build(cfg, ss)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(b.features, ","), "trade_imbalance") {
		t.Errorf("features %v lack the trade aggregates", b.features)
	}
}

func TestConfigNamesTheBadVariable(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no inputs", func(c *Config) { c.Inputs = "" }, "INPUT_COLLECTIONS:"},
		{"no candles for a symbol", func(c *Config) { c.Symbol = "BTCUSDT,ETHUSDT" }, "INPUT_COLLECTIONS:"},
		{"unknown type", func(c *Config) { c.Inputs = "btcusdt_ws_orderbook_2024_08_01" }, "INPUT_COLLECTIONS:"},
		{"symbol not listed", func(c *Config) { c.Inputs += ",ethusdt_api_trades_2024_08_01" }, "INPUT_COLLECTIONS:"},
		{"no name", func(c *Config) { c.GraphName, c.CollectionName = "", "" }, "GRAPH_NAME:"},
		{"bad kind", func(c *Config) { c.Kind = "spider" }, "GRAPH_KIND:"},
		{"correlation of one", func(c *Config) { c.Kind = KindCorrelation }, "GRAPH_KIND:"},
		{"bad edges", func(c *Config) { c.Edges = "all" }, "GRAPH_EDGES:"},
		{"bad threshold", func(c *Config) { c.Threshold = 1.5 }, "GRAPH_THRESHOLD:"},
		{"bad window", func(c *Config) { c.Window = 2 }, "GRAPH_WINDOW:"},
		{"bad horizons", func(c *Config) { c.Horizons = "1,x" }, "FEATURE_HORIZONS:"},
		{"bad range", func(c *Config) { c.TimeRange = "2024" }, "TIME_RANGE:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Inputs: "btcusdt_api_candles_5m_2024_08_01", GraphName: "g", Kind: KindAuto, Edges: EdgesMST, Threshold: 0.5,
				TopK: 2, Window: 288, Step: 12, Horizons: "1,3", FeatWin: 12, BatchSize: 10}
			c.QueueID, c.Symbol = "wf-btcusdt-graph-20240801-a1b2c3", "BTCUSDT"
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error starting %q", err, tt.want)
			}
		})
	}
}
