// Package builder is graph-builder: it reads a workflow's candles (and the
// trades, when they were loaded) from the store, builds a graph from them —
// the visibility graph of one symbol's closes, or a sequence of correlation
// snapshots of several symbols — with node features known at each node's
// time and the next period's direction as label, and writes the vertices,
// edges and a named graph back to the store.
package builder

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/worker"
)

// Name is the service name: the default target and telemetry_id prefix.
const Name = "graph-builder"

// StoreConfig names the store settings so they embed beside bus.Config.
type StoreConfig = store.Config

// Graph kinds (GRAPH_KIND).
const (
	KindAuto        = "auto"        // visibility for one symbol, correlation for several
	KindVisibility  = "visibility"  // natural visibility graph of the closes
	KindHorizontal  = "horizontal"  // horizontal visibility graph of the closes
	KindCorrelation = "correlation" // correlation snapshots of several symbols
)

// Edge rules of correlation graphs (GRAPH_EDGES).
const (
	EdgesMST       = "mst"
	EdgesThreshold = "threshold"
	EdgesTopK      = "topk"
)

// Config is graph-builder's environment.
type Config struct {
	service.Common
	bus.Config
	protocol.Task
	StoreConfig
	worker.Settings

	Inputs    string  `envconfig:"INPUT_COLLECTIONS" desc:"the collections to read, comma-separated: <symbol>_api_candles_<interval>_<day> (one per symbol) and optionally <symbol>_api_trades_<day>"`
	GraphName string  `envconfig:"GRAPH_NAME" desc:"the named graph to write (default COLLECTION_NAME); its collections are <name>_nodes and <name>_edges"`
	Kind      string  `envconfig:"GRAPH_KIND" default:"auto" desc:"auto, visibility, horizontal or correlation"`
	Edges     string  `envconfig:"GRAPH_EDGES" default:"mst" desc:"correlation graphs: mst (Mantegna's minimum spanning tree), threshold or topk"`
	Threshold float64 `envconfig:"GRAPH_THRESHOLD" default:"0.5" desc:"correlation graphs with GRAPH_EDGES=threshold: keep |rho| >= this"`
	TopK      int     `envconfig:"GRAPH_TOP_K" default:"2" desc:"correlation graphs with GRAPH_EDGES=topk: each symbol's k strongest links"`
	Window    int     `envconfig:"GRAPH_WINDOW" default:"288" desc:"correlation graphs: returns per window (288 five-minute bars = a day)"`
	Step      int     `envconfig:"GRAPH_STEP" default:"12" desc:"correlation graphs: bars between snapshots"`
	Horizons  string  `envconfig:"FEATURE_HORIZONS" default:"1,3,12" desc:"log-return horizons in bars, comma-separated"`
	FeatWin   int     `envconfig:"FEATURE_WINDOW" default:"12" desc:"bars of history for volatility, volume z-score and VWAP"`
	BatchSize int     `envconfig:"GRAPH_BATCH_SIZE" default:"5000" desc:"documents per store write"`

	inputs   []input
	horizons []int
}

// Validate checks the settings and reports every problem (errors.Join),
// each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.QueueID == "" {
		bad("QUEUE_ID: is required")
	}
	if c.Symbol == "" {
		bad("SYMBOL: is required (one symbol, or several comma-separated)")
	}
	if c.GraphName == "" {
		c.GraphName = c.CollectionName
	}
	if c.GraphName == "" {
		bad("GRAPH_NAME: is required when COLLECTION_NAME is empty")
	} else if err := protocol.ValidateCollection(c.GraphName); err != nil {
		bad("GRAPH_NAME: %w", err)
	}
	if c.TimeRange != "" {
		if _, err := protocol.ParseTimeRange(c.TimeRange); err != nil {
			bad("TIME_RANGE: %w", err)
		}
	}
	if c.Symbol != "" { // the inputs are checked against SYMBOL
		ins, err := parseInputs(c.Inputs, strings.Split(c.Symbol, ","))
		if err != nil {
			bad("INPUT_COLLECTIONS: %w", err)
		}
		c.inputs = ins
	}
	switch c.Kind {
	case KindAuto, KindVisibility, KindHorizontal:
	case KindCorrelation:
		if n := len(strings.Split(c.Symbol, ",")); n < 2 {
			bad("GRAPH_KIND: correlation needs two or more symbols, SYMBOL has %d", n)
		}
	default:
		bad("GRAPH_KIND: %q is not auto, visibility, horizontal or correlation", c.Kind)
	}
	if (c.Kind == KindVisibility || c.Kind == KindHorizontal) && strings.Contains(c.Symbol, ",") {
		bad("GRAPH_KIND: %s graphs are of one series; SYMBOL lists several (%s)", c.Kind, c.Symbol)
	}
	switch c.Edges {
	case EdgesMST, EdgesThreshold, EdgesTopK:
	default:
		bad("GRAPH_EDGES: %q is not mst, threshold or topk", c.Edges)
	}
	if c.Threshold <= 0 || c.Threshold > 1 {
		bad("GRAPH_THRESHOLD: want 0 < theta <= 1, got %g", c.Threshold)
	}
	if c.TopK < 1 {
		bad("GRAPH_TOP_K: want at least 1, got %d", c.TopK)
	}
	if c.Window < 3 {
		bad("GRAPH_WINDOW: want at least 3 returns, got %d", c.Window)
	}
	if c.Step < 1 {
		bad("GRAPH_STEP: want at least 1, got %d", c.Step)
	}
	if c.FeatWin < 2 {
		bad("FEATURE_WINDOW: want at least 2, got %d", c.FeatWin)
	}
	c.horizons = nil
	for h := range strings.SplitSeq(c.Horizons, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(h))
		if err != nil || n < 1 {
			bad("FEATURE_HORIZONS: %q is not a positive whole number of bars", h)
			continue
		}
		c.horizons = append(c.horizons, n)
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		bad("GRAPH_BATCH_SIZE: want 1..100000, got %d", c.BatchSize)
	}
	return errors.Join(errs...)
}

// input is one collection to read.
type input struct {
	collection string
	symbol     string // upper case, as in the documents
	candles    bool   // else agg trades
	interval   string // candles: 5m, 1h, ...
	typ        string // the data type, as the coverage ledger names it
}

// parseInputs reads INPUT_COLLECTIONS: collection names as the protocol
// builds them, <symbol>_<type>_<yyyy_mm_dd>. Every symbol needs exactly one
// candle collection; trades are optional.
func parseInputs(s string, symbols []string) ([]input, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("is required: the candle collections to build the graph from")
	}
	var ins []input
	candles := map[string]int{}
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if err := protocol.ValidateCollection(name); err != nil {
			return nil, err
		}
		sym, rest, ok := strings.Cut(name, "_")
		if !ok || len(rest) < 11 || rest[len(rest)-11] != '_' {
			return nil, fmt.Errorf("%q is not <symbol>_<type>_<yyyy_mm_dd>", name)
		}
		typ := rest[:len(rest)-11]
		in := input{collection: name, symbol: strings.ToUpper(sym), typ: typ}
		switch {
		case strings.HasPrefix(typ, "api_candles_"):
			in.candles, in.interval = true, strings.TrimPrefix(typ, "api_candles_")
			candles[in.symbol]++
		case typ == "api_trades":
		default:
			return nil, fmt.Errorf("%q: type %q is neither api_candles_<interval> nor api_trades", name, typ)
		}
		ins = append(ins, in)
	}
	for _, sym := range symbols {
		if candles[sym] != 1 {
			return nil, fmt.Errorf("want exactly one candle collection for %s, got %d", sym, candles[sym])
		}
	}
	for _, in := range ins {
		found := false
		for _, sym := range symbols {
			found = found || sym == in.symbol
		}
		if !found {
			return nil, fmt.Errorf("%s is of %s, which SYMBOL does not list", in.collection, in.symbol)
		}
	}
	return ins, nil
}
