package graph

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/streamforge/streamforge/libs/testkit"
)

// readKlineCSV reads a Binance spot kline archive (no header, 12 columns).
func readKlineCSV(t *testing.T, path string) []Bar {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	bars := make([]Bar, len(records))
	for i, rec := range records {
		if len(rec) != 12 {
			t.Fatalf("%s line %d: %d columns, want 12", path, i+1, len(rec))
		}
		num := func(col int) float64 {
			v, err := strconv.ParseFloat(rec[col], 64)
			if err != nil {
				t.Fatalf("%s line %d column %d: %v", path, i+1, col+1, err)
			}
			return v
		}
		bars[i] = Bar{
			Time: int64(num(0)), Open: num(1), High: num(2), Low: num(3), Close: num(4), Volume: num(5),
			QuoteVolume: num(7), Trades: int64(num(8)), TakerBuyBase: num(9),
		}
	}
	return bars
}

// readKlineJSON reads a [[openTimeMs, open, high, low, close, volume], ...] export.
func readKlineJSON(t *testing.T, path string) []Bar {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][6]float64
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	bars := make([]Bar, len(rows))
	for i, r := range rows {
		bars[i] = Bar{Time: int64(r[0]), Open: r[1], High: r[2], Low: r[3], Close: r[4], Volume: r[5]}
	}
	return bars
}

func closes(bars []Bar) []float64 {
	c := make([]float64, len(bars))
	for i, b := range bars {
		c[i] = b.Close
	}
	return c
}

func TestBTCUSDTKlines(t *testing.T) {
	bars := readKlineCSV(t, filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv"))
	if len(bars) != 8928 {
		t.Fatalf("%d bars, want 8928 (31 days of 5-minute candles)", len(bars))
	}
	y := closes(bars)

	edges := Visibility(y)
	if d := diffEdges(Visibility(y), edges); d != "" {
		t.Fatalf("second run differs: %s", d)
	}
	s := DegreeStats(len(y), edges)
	// Random walks of this length give a mean NVG degree of about 15 to 25
	// (the degree distribution is a power law) and a median of 8; i.i.d.
	// noise gives 5.5 and 4. Far outside that means a broken predicate, not
	// a market regime.
	if s.Mean < 8 || s.Mean > 40 || s.Median < 5 || s.Median > 12 || s.Min < 1 || s.Isolated != 0 {
		t.Errorf("NVG degree stats %+v look wrong", s)
	}
	t.Logf("NVG of %d closes: %+v", len(y), s)
	head := y[:1500]
	if d := diffEdges(Visibility(head), naiveVisibility(head, below)); d != "" {
		t.Errorf("first 1500 closes, fast vs naive: %s", d)
	}
	if d := diffEdges(HorizontalVisibility(y), naiveHorizontalVisibility(y)); d != "" {
		t.Errorf("HVG fast vs naive: %s", d)
	}

	fs, err := Features(bars, FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Names) != 8 { // no agg-trade aggregates in a kline archive
		t.Errorf("Names = %v, want the 8 kline features", fs.Names)
	}
	for i := fs.First; i < len(fs.X); i++ {
		for j, v := range fs.X[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("X[%d][%s] = %v", i, fs.Names[j], v)
			}
		}
	}
}

func TestMultiAssetMST(t *testing.T) {
	dir := testkit.Fixtures(t, "multi-asset-5m")
	symbols := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"}
	series := make([][]Bar, len(symbols))
	times := make([][]int64, len(symbols))
	for s, sym := range symbols {
		series[s] = readKlineJSON(t, filepath.Join(dir, sym+"-5m.json"))
		times[s] = make([]int64, len(series[s]))
		for i, b := range series[s] {
			times[s][i] = b.Time
		}
	}
	common, idx, err := Align(times)
	if err != nil {
		t.Fatal(err)
	}
	shortest := len(times[0])
	for _, ts := range times {
		shortest = min(shortest, len(ts))
	}
	if len(common) < 30_000 || len(common) > shortest {
		t.Fatalf("%d common times for series of at least %d", len(common), shortest)
	}
	returns := make([][]float64, len(symbols))
	for s := range symbols {
		c := make([]float64, len(common))
		for k, i := range idx[s] {
			if series[s][i].Time != common[k] {
				t.Fatalf("%s: idx points at time %d, want %d", symbols[s], series[s][i].Time, common[k])
			}
			c[k] = series[s][i].Close
		}
		returns[s] = LogReturns(c)
	}
	snaps, err := CorrelationSnapshots(returns, 288, 288, MST{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) < 100 {
		t.Fatalf("%d daily snapshots, want over 100", len(snaps))
	}
	for _, snap := range snaps {
		if len(snap.Edges) != len(symbols)-1 || !spans(snap.Edges, len(symbols)) {
			t.Fatalf("[%d, %d): MST %v does not span %d assets", snap.Start, snap.End, snap.Edges, len(symbols))
		}
		for _, e := range snap.Edges {
			// Crypto majors move together: 5-minute correlations this
			// low across a whole day would mean misaligned series.
			if e.W < 0.1 {
				t.Errorf("[%d, %d): MST edge %v is implausibly weak", snap.Start, snap.End, e)
			}
		}
	}
	t.Logf("%d symbols, %d common times, %d snapshots", len(symbols), len(common), len(snaps))
}
