package builder

import (
	"fmt"
	"math"
	"strconv"

	"github.com/streamforge/streamforge/services/graph-builder/internal/graph"
)

// Relations an edge stands for.
const (
	relVisibility  = "visibility"
	relHorizontal  = "horizontal"
	relCorrelation = "correlation"
	relTemporal    = "temporal" // the same symbol, one snapshot later
)

// node is one vertex: a symbol at one bar.
type node struct {
	symbol   string
	time     int64 // the bar's open time
	close    float64
	x        []float64
	label    int     // 1 up, 0 down or flat, -1 unknown (the last bar)
	next     float64 // the next bar's log return; NaN when unknown
	snapshot int     // correlation graphs: the snapshot's number; else -1
}

func (n *node) key() string { return n.symbol + "_" + strconv.FormatInt(n.time, 10) }

// edge joins two nodes by index, from the earlier to the later one, so a
// consumer can pass messages forward in time only.
type edge struct {
	from, to int
	w        float64
	rel      string
	snapshot int
}

// built is a graph ready to write.
type built struct {
	kind      string // visibility, horizontal or correlation
	method    string // correlation: mst, threshold or topk
	features  []string
	nodes     []node
	edges     []edge
	snapshots int
	skipped   int   // correlation windows left out because a return spans missing bars
	first     int64 // time of the first and last node
	last      int64
}

// build turns the series into a graph as cfg asks.
func build(cfg *Config, ss []*series) (*built, error) {
	kind := cfg.Kind
	if kind == KindAuto {
		kind = KindVisibility
		if len(ss) > 1 {
			kind = KindCorrelation
		}
	}
	fo := graph.FeatureOptions{Horizons: cfg.horizons, Window: cfg.FeatWin}
	var b *built
	var err error
	if kind == KindCorrelation {
		b, err = buildCorrelation(cfg, ss, fo)
	} else {
		b, err = buildVisibility(kind, ss[0], fo)
	}
	if err != nil {
		return nil, err
	}
	b.first, b.last = b.nodes[0].time, b.nodes[0].time
	for i := range b.nodes {
		b.first, b.last = min(b.first, b.nodes[i].time), max(b.last, b.nodes[i].time)
	}
	return b, nil
}

// buildVisibility makes the (horizontal) visibility graph of one symbol's
// closes: a node per bar after the features' warm-up.
func buildVisibility(kind string, s *series, fo graph.FeatureOptions) (*built, error) {
	fs, err := graph.Features(s.bars, fo)
	if err != nil {
		return nil, fmt.Errorf("%s: features: %w", s.symbol, err)
	}
	n := len(s.bars) - fs.First
	if n < 2 {
		return nil, fmt.Errorf("%s: %d candles, too few for a graph after %d bars of feature warm-up", s.symbol, len(s.bars), fs.First)
	}
	b := &built{kind: kind, features: fs.Names, nodes: make([]node, 0, n)}
	closes := make([]float64, 0, n)
	for i := fs.First; i < len(s.bars); i++ {
		b.nodes = append(b.nodes, newNode(s, fs, i, -1))
		closes = append(closes, s.bars[i].Close)
	}
	var es []graph.Edge
	rel := relVisibility
	if kind == KindHorizontal {
		es, rel = graph.HorizontalVisibility(closes), relHorizontal
	} else {
		es = graph.Visibility(closes)
	}
	b.edges = make([]edge, len(es))
	for i, e := range es {
		b.edges[i] = edge{from: int(e.U), to: int(e.V), w: e.W, rel: rel, snapshot: -1}
	}
	return b, nil
}

// buildCorrelation makes one snapshot per GRAPH_STEP bars: the symbols
// linked by the correlation of their last GRAPH_WINDOW returns, each symbol's
// node also linked to its node in the snapshot before.
func buildCorrelation(cfg *Config, ss []*series, fo graph.FeatureOptions) (*built, error) {
	times := make([][]int64, len(ss))
	for i, s := range ss {
		times[i] = make([]int64, len(s.bars))
		for j, b := range s.bars {
			times[i][j] = b.Time
		}
	}
	common, idx, err := graph.Align(times)
	if err != nil {
		return nil, fmt.Errorf("align the symbols' candles: %w", err)
	}
	if len(common) < cfg.Window+2 {
		return nil, fmt.Errorf("the symbols share %d bars, too few for a window of %d returns", len(common), cfg.Window)
	}
	aligned := make([]*series, len(ss))
	fss := make([]graph.FeatureSet, len(ss))
	returns := make([][]float64, len(ss))
	first := 0
	for i, s := range ss {
		a := &series{symbol: s.symbol, interval: s.interval, bars: make([]graph.Bar, len(common))}
		closes := make([]float64, len(common))
		for j, k := range idx[i] {
			a.bars[j] = s.bars[k]
			closes[j] = a.bars[j].Close
		}
		aligned[i] = a
		if fss[i], err = graph.Features(a.bars, fo); err != nil {
			return nil, fmt.Errorf("%s: features: %w", s.symbol, err)
		}
		first = max(first, fss[i].First)
		returns[i] = graph.LogReturns(closes)
	}
	// A bar missing in any symbol is dropped for all; a return across the
	// hole would mix several bars' moves into one. Windows holding such a
	// return are left out (and counted), not correlated.
	spans := graph.GapReturns(common, ss[0].interval.Duration().Milliseconds())
	gapsBefore := make([]int, len(spans)+1) // gapsBefore[t]: returns before t that span a gap
	for t, g := range spans {
		gapsBefore[t+1] = gapsBefore[t]
		if g {
			gapsBefore[t+1]++
		}
	}
	var m graph.Method
	switch cfg.Edges {
	case EdgesThreshold:
		m = graph.Threshold{Theta: cfg.Threshold}
	case EdgesTopK:
		m = graph.TopK{K: cfg.TopK}
	default:
		m = graph.MST{}
	}
	b := &built{kind: KindCorrelation, method: cfg.Edges, features: fss[0].Names}
	prev := make([]int, len(ss)) // each symbol's node in the snapshot before
	for i := range prev {
		prev[i] = -1
	}
	snaps, err := graph.CorrelationSnapshots(returns, cfg.Window, cfg.Step, m)
	if err != nil {
		return nil, fmt.Errorf("correlation snapshots: %w", err)
	}
	for _, snap := range snaps {
		// The window's last return is that of bar End (returns start at
		// bar 1), so the snapshot stands at bar End.
		bar := snap.End
		if bar < first || bar >= len(common) {
			continue
		}
		if gapsBefore[snap.End] > gapsBefore[snap.Start] {
			b.skipped++
			continue
		}
		base := len(b.nodes)
		for i, a := range aligned {
			b.nodes = append(b.nodes, newNode(a, fss[i], bar, b.snapshots))
			if prev[i] >= 0 {
				b.edges = append(b.edges, edge{from: prev[i], to: base + i, w: 1, rel: relTemporal, snapshot: b.snapshots})
			}
			prev[i] = base + i
		}
		for _, e := range snap.Edges {
			b.edges = append(b.edges, edge{from: base + int(e.U), to: base + int(e.V), w: e.W, rel: relCorrelation, snapshot: b.snapshots})
		}
		b.snapshots++
	}
	if b.snapshots == 0 {
		return nil, fmt.Errorf("no snapshot: %d shared bars, window %d, feature warm-up %d bars", len(common), cfg.Window, first)
	}
	return b, nil
}

func newNode(s *series, fs graph.FeatureSet, i, snapshot int) node {
	n := node{symbol: s.symbol, time: s.bars[i].Time, close: s.bars[i].Close, x: fs.X[i], label: int(fs.Labels[i]), next: math.NaN(), snapshot: snapshot}
	if fs.Labels[i] >= 0 {
		n.next = fs.NextReturn[i]
	}
	return n
}
