package protocol

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A worker's environment belongs to the platform: endpoints, credentials,
// topics, artifact locations and timing that other runs rely on come from
// queue-manager's configuration (the ConfigMap and Secrets of a cluster).
// What a workflow request may set for its own steps (its "options") is the
// allowlist below, one list per step kind, each value checked by type and
// range before anything is created. The lists are the step kinds' Options
// in StepKinds; queue-manager's OpenAPI document is checked against them.

// OptionType is the type of an option's value.
type OptionType string

// Option value types.
const (
	OptInt      OptionType = "integer"  // a whole number in [Min, Max]
	OptNumber   OptionType = "number"   // a finite decimal number in [Min, Max]
	OptBool     OptionType = "boolean"  // true or false
	OptDuration OptionType = "duration" // a Go duration (300ms, 2s, 1m) in [MinDur, MaxDur]
	OptEnum     OptionType = "enum"     // one of Enum
	OptIntList  OptionType = "integers" // comma-separated whole numbers, each in [Min, Max], at most MaxItems
)

// Option is one worker variable a request may set for its steps.
type Option struct {
	Name           string
	Type           OptionType
	Min, Max       float64       // OptInt, OptNumber, OptIntList
	MinDur, MaxDur time.Duration // OptDuration
	Enum           []string      // OptEnum
	MaxItems       int           // OptIntList
	Desc           string
}

// Domain describes the values the option takes, for messages and the
// OpenAPI document: "a whole number from 1 to 64".
func (o Option) Domain() string {
	switch o.Type {
	case OptInt:
		return fmt.Sprintf("a whole number from %s to %s", num(o.Min), num(o.Max))
	case OptNumber:
		return fmt.Sprintf("a number from %s to %s", num(o.Min), num(o.Max))
	case OptBool:
		return "true or false"
	case OptDuration:
		return fmt.Sprintf("a duration from %s to %s", o.MinDur, o.MaxDur)
	case OptEnum:
		return orList(o.Enum)
	case OptIntList:
		return fmt.Sprintf("up to %d comma-separated whole numbers from %s to %s", o.MaxItems, num(o.Min), num(o.Max))
	}
	return string(o.Type)
}

// Describe is the option's meaning and domain, as the OpenAPI document
// shows it: "chunks downloaded at once; a whole number from 1 to 16".
func (o Option) Describe() string { return o.Desc + "; " + o.Domain() }

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Check reports whether v is a value of the option; the error says what a
// value must be.
func (o Option) Check(v string) error {
	bad := fmt.Errorf("want %s, got %q", o.Domain(), v)
	inRange := func(f float64) bool { return f >= o.Min && f <= o.Max }
	switch o.Type {
	case OptInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !inRange(float64(n)) {
			return bad
		}
	case OptNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !inRange(f) {
			return bad
		}
	case OptBool:
		if v != "true" && v != "false" {
			return bad
		}
	case OptDuration:
		d, err := time.ParseDuration(v)
		if err != nil || d < o.MinDur || d > o.MaxDur {
			return bad
		}
	case OptEnum:
		if !slices.Contains(o.Enum, v) {
			return bad
		}
	case OptIntList:
		parts := strings.Split(v, ",")
		if len(parts) > o.MaxItems {
			return bad
		}
		for _, p := range parts {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || !inRange(float64(n)) {
				return bad
			}
		}
	default:
		return fmt.Errorf("option %s has no type", o.Name)
	}
	return nil
}

// Option returns the option of the kind named name; ok is false when a
// request may not set that variable for the kind.
func (k StepKind) Option(name string) (o Option, ok bool) {
	for _, o := range k.Options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// OptionNames lists the names of the kind's options in table order.
func (k StepKind) OptionNames() []string {
	out := make([]string, len(k.Options))
	for i, o := range k.Options {
		out[i] = o.Name
	}
	return out
}

// CheckOptions checks a request's options for one step of the kind: every
// name must be on the kind's list and every value of its type and range.
// The error is a *FieldError naming options.<kind>.<NAME>; names are
// checked in sorted order, so the same request always gets the same error.
func (k StepKind) CheckOptions(env map[string]string) error {
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		field := "options." + k.Name + "." + n
		o, ok := k.Option(n)
		if !ok {
			allowed := "none"
			if len(k.Options) > 0 {
				allowed = strings.Join(k.OptionNames(), ", ")
			}
			return &FieldError{Field: field, Problem: fmt.Sprintf("is not a setting a request may change for %s steps (allowed: %s)", k.Name, allowed)}
		}
		if err := o.Check(env[n]); err != nil {
			return &FieldError{Field: field, Problem: err.Error()}
		}
	}
	return nil
}

// The options of each step kind (StepKinds). The ranges are what a workflow
// may ask for, tighter than what the worker itself accepts where a value
// could make a run hog shared resources.
var (
	loadOptions = []Option{
		{Name: "LOADER_CONCURRENCY", Type: OptInt, Min: 1, Max: 16, Desc: "chunks downloaded at once"},
		{Name: "LOADER_BATCH_SIZE", Type: OptInt, Min: 100, Max: 50000, Desc: "records per Kafka send"},
		{Name: "BINANCE_WEIGHT_LIMIT", Type: OptInt, Min: 0, Max: 6000, Desc: "request weight per minute to stay under (0: the exchange's limit; a workflow may only lower it)"},
		{Name: "LOADER_ARCHIVES", Type: OptBool, Desc: "take whole days and months from the bulk archives"},
		{Name: "LOADER_BOOK_DEPTH", Type: OptInt, Min: 0, Max: 5000, Desc: "levels per side in published order-book snapshots (0: the whole book)"},
		{Name: "LOADER_SNAPSHOT_LIMIT", Type: OptInt, Min: 5, Max: 5000, Desc: "levels per side of the REST depth snapshot"},
		{Name: "LOADER_SNAPSHOT_INTERVAL", Type: OptDuration, MinDur: time.Second, MaxDur: time.Hour, Desc: "how often a synced book is published as a snapshot"},
		{Name: "LOADER_END_GRACE", Type: OptDuration, MinDur: 0, MaxDur: 5 * time.Minute, Desc: "how long live streams keep streaming after the range ends"},
		{Name: "KAFKA_COMPRESSION", Type: OptEnum, Enum: []string{"none", "gzip", "snappy", "lz4", "zstd"}, Desc: "data-topic compression"},
		{Name: "DATA_TOPIC_PARTITIONS", Type: OptInt, Min: 0, Max: 64, Desc: "partitions of the data topic (0: broker default)"},
		{Name: "PROGRESS_INTERVAL", Type: OptDuration, MinDur: time.Second, MaxDur: time.Minute, Desc: "least time between progress events"},
	}
	storeOptions = []Option{
		{Name: "CONNECTOR_BATCH_SIZE", Type: OptInt, Min: 1, Max: 20000, Desc: "most documents per store write"},
		{Name: "CONNECTOR_BATCH_WAIT", Type: OptDuration, MinDur: 10 * time.Millisecond, MaxDur: 10 * time.Second, Desc: "longest wait to fill a batch"},
		{Name: "PROGRESS_INTERVAL", Type: OptDuration, MinDur: time.Second, MaxDur: time.Minute, Desc: "least time between progress events"},
	}
	graphOptions = []Option{
		{Name: "GRAPH_KIND", Type: OptEnum, Enum: []string{"auto", "visibility", "horizontal", "correlation"}, Desc: "the kind of graph"},
		{Name: "GRAPH_EDGES", Type: OptEnum, Enum: []string{"mst", "threshold", "topk"}, Desc: "correlation graphs: which links are kept"},
		{Name: "GRAPH_THRESHOLD", Type: OptNumber, Min: 0.01, Max: 1, Desc: "correlation graphs with GRAPH_EDGES=threshold: keep |rho| >= this"},
		{Name: "GRAPH_TOP_K", Type: OptInt, Min: 1, Max: 50, Desc: "correlation graphs with GRAPH_EDGES=topk: each symbol's k strongest links"},
		{Name: "GRAPH_WINDOW", Type: OptInt, Min: 3, Max: 10000, Desc: "correlation graphs: returns per window"},
		{Name: "GRAPH_STEP", Type: OptInt, Min: 1, Max: 10000, Desc: "correlation graphs: bars between snapshots"},
		{Name: "FEATURE_HORIZONS", Type: OptIntList, Min: 1, Max: 1000, MaxItems: 8, Desc: "log-return horizons in bars"},
		{Name: "FEATURE_WINDOW", Type: OptInt, Min: 2, Max: 10000, Desc: "bars of history for volatility, volume z-score and VWAP"},
		{Name: "GRAPH_BATCH_SIZE", Type: OptInt, Min: 1, Max: 20000, Desc: "documents per store write"},
	}
	trainOptions = []Option{
		{Name: "GNN_MODEL", Type: OptEnum, Enum: []string{"gcn", "sage"}, Desc: "GCN or GraphSAGE-mean"},
		{Name: "GNN_HIDDEN", Type: OptInt, Min: 1, Max: 512, Desc: "hidden layer width"},
		{Name: "GNN_DROPOUT", Type: OptNumber, Min: 0, Max: 0.95, Desc: "dropout probability of each layer's input"},
		{Name: "GNN_LR", Type: OptNumber, Min: 1e-6, Max: 1, Desc: "Adam learning rate"},
		{Name: "GNN_WEIGHT_DECAY", Type: OptNumber, Min: 0, Max: 1, Desc: "L2 on the first layer's weights"},
		{Name: "GNN_EPOCHS", Type: OptInt, Min: 1, Max: 10000, Desc: "most epochs"},
		{Name: "GNN_PATIENCE", Type: OptInt, Min: 0, Max: 10000, Desc: "epochs without a better validation loss before stopping (0: never)"},
		{Name: "GNN_SEED", Type: OptInt, Min: 0, Max: math.MaxInt32, Desc: "seed of initialisation and dropout"},
		{Name: "GNN_TRAIN_FRACTION", Type: OptNumber, Min: 0.05, Max: 0.9, Desc: "share of labelled nodes, earliest first, to train on"},
		{Name: "GNN_VAL_FRACTION", Type: OptNumber, Min: 0.05, Max: 0.5, Desc: "share of labelled nodes after those to validate on"},
		{Name: "GNN_CAUSAL", Type: OptBool, Desc: "pass messages only from earlier nodes to later ones"},
	}
)
