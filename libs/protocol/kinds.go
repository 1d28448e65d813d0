package protocol

import "time"

// StepKind is one kind of step a queue-manager workflow is made of.
// StepKinds lists them all; queue-manager's model, engine, configuration
// and OpenAPI document are derived from it or checked against it by a test.
type StepKind struct {
	// Name is the kind, as requests, step ids and STEP_* settings name it.
	Name string
	// Service is the service the kind stands for: its name is the target of
	// the step's commands, the prefix of its telemetry_id, and the binary
	// or image run unless STEP_SERVICES names another.
	Service string
	// Needs is the kind a workflow must also have for this one ("" for
	// none): a connector needs its loader, the graph its stored data,
	// training its graph.
	Needs string
	// Inputs is the task variable that passes the step what other steps of
	// the workflow wrote, comma-separated ("" when it reads none).
	Inputs string
	// DefaultLimit is the most steps of the kind running at once unless
	// STEP_LIMITS says otherwise.
	DefaultLimit int
	// DefaultDeadline bounds one run of the kind unless STEP_DEADLINES
	// says otherwise: a run that outlasts it ends as a failed attempt. The
	// steps of a live stream have none.
	DefaultDeadline time.Duration
	// HistoryOnly is set for a kind that needs historical data: a workflow
	// of live ws_* streams cannot have it.
	HistoryOnly bool
	// Default is set for the kinds a request that names no steps gets.
	Default bool
	// Options are the worker variables a workflow request may set for the
	// kind's steps, each with its type and range (options.go); a request
	// naming any other variable is refused.
	Options []Option
}

// Step kinds, in DAG order.
const (
	StepLoad  = "load"
	StepStore = "store"
	StepGraph = "graph"
	StepTrain = "train"
)

// StepKinds lists every step kind in DAG order.
var StepKinds = []StepKind{
	{Name: StepLoad, Service: "loader-producer", DefaultLimit: 8, DefaultDeadline: 6 * time.Hour, Default: true,
		Options: loadOptions},
	{Name: StepStore, Service: "arango-connector", Needs: StepLoad, DefaultLimit: 8, DefaultDeadline: 6 * time.Hour, Default: true,
		Options: storeOptions},
	{Name: StepGraph, Service: "graph-builder", Needs: StepStore, Inputs: "INPUT_COLLECTIONS", DefaultLimit: 2, DefaultDeadline: 2 * time.Hour,
		HistoryOnly: true, Options: graphOptions},
	{Name: StepTrain, Service: "gnn-trainer", Needs: StepGraph, Inputs: "GRAPH_NAME", DefaultLimit: 1, DefaultDeadline: 12 * time.Hour,
		HistoryOnly: true, Options: trainOptions},
}

// LookupStepKind returns the step kind named name; ok is false when there
// is none.
func LookupStepKind(name string) (k StepKind, ok bool) {
	for _, k := range StepKinds {
		if k.Name == name {
			return k, true
		}
	}
	return StepKind{}, false
}

// StepKindNames returns the names of the step kinds in DAG order.
func StepKindNames() []string {
	out := make([]string, len(StepKinds))
	for i, k := range StepKinds {
		out[i] = k.Name
	}
	return out
}

// StepKindList lists the step kinds for messages: "load, store, graph or
// train".
func StepKindList() string { return orList(StepKindNames()) }
