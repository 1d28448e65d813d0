// Package flow is queue-manager's model of work: a workflow request, the
// steps it becomes (a DAG: loaders and their connectors together, the graph
// after every store step, training after the graph), and each step's life
// across attempts.
package flow

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Step kinds, in DAG order (protocol.StepKinds).
const (
	KindLoad  = protocol.StepLoad
	KindStore = protocol.StepStore
	KindGraph = protocol.StepGraph
	KindTrain = protocol.StepTrain
)

// Role returns the service a step kind stands for: its name is the target
// of the step's commands and the prefix of its telemetry_id, whatever binary
// runs it.
func Role(kind string) string {
	k, _ := protocol.LookupStepKind(kind)
	return k.Service
}

// Step and workflow states.
const (
	Pending  = "pending"
	Running  = "running"
	Finished = "finished"
	Failed   = "failed"
	Stopping = "stopping"
	Stopped  = "stopped"
)

// Terminal reports whether a step or workflow state is final.
func Terminal(state string) bool { return state == Finished || state == Failed || state == Stopped }

// Request is what a client asks for: POST /api/v1/workflows.
type Request struct {
	Symbols   []string `json:"symbols"`
	Types     []string `json:"types"`
	TimeRange string   `json:"time_range,omitempty"`
	// Steps are the kinds wanted; empty means load and store.
	Steps []string `json:"steps,omitempty"`
	// Options are worker settings per step kind, e.g. {"train":
	// {"GNN_EPOCHS": "200"}}: only the kind's protocol.StepKind.Options, each
	// value of its type and range.
	Options map[string]map[string]string `json:"options,omitempty"`
}

// bad reports a request problem naming the field, for problem+json.
func bad(field, format string, a ...any) error {
	return &protocol.FieldError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// Limits bound a request.
const (
	MaxSymbols = 50
	MaxTypes   = 10
)

// Validate checks the request completely before anything is created.
func (r *Request) Validate(now time.Time) error {
	if len(r.Symbols) == 0 {
		return bad("symbols", "at least one symbol is required")
	}
	if len(r.Symbols) > MaxSymbols {
		return bad("symbols", "at most %d symbols, got %d", MaxSymbols, len(r.Symbols))
	}
	seen := map[string]bool{}
	for i, s := range r.Symbols {
		if err := protocol.ValidateSymbol(s); err != nil {
			return bad(fmt.Sprintf("symbols[%d]", i), "%v", err)
		}
		// The store's names derive from the symbol (<symbol>_<type>_<day>)
		// and must start with a letter: a symbol such as 1INCHUSDT would
		// be accepted here and refused by the store at its first write.
		if err := protocol.ValidateCollection(protocol.CollectionName(s, "t", time.Time{})); err != nil {
			return bad(fmt.Sprintf("symbols[%d]", i), "%s starts with a digit: not supported yet (its store collections, <symbol>_<type>_<day>, must start with a letter)", s)
		}
		if seen[s] {
			return bad(fmt.Sprintf("symbols[%d]", i), "%s is listed twice", s)
		}
		seen[s] = true
	}
	if len(r.Types) == 0 {
		return bad("types", "at least one data type is required")
	}
	if len(r.Types) > MaxTypes {
		return bad("types", "at most %d types, got %d", MaxTypes, len(r.Types))
	}
	live, history := false, false
	for i, t := range r.Types {
		dt, err := protocol.ValidateWorkflowType(t)
		if err != nil {
			return bad(fmt.Sprintf("types[%d]", i), "%v", err)
		}
		if slices.Contains(r.Types[:i], t) {
			return bad(fmt.Sprintf("types[%d]", i), "%s is listed twice", t)
		}
		live = live || dt.Live
		history = history || !dt.Live
	}
	if len(r.Steps) == 0 {
		r.Steps = DefaultSteps()
	}
	var historyOnly []string
	for i, s := range r.Steps {
		k, ok := protocol.LookupStepKind(s)
		if !ok {
			return bad(fmt.Sprintf("steps[%d]", i), "unknown step %q (want %s)", s, protocol.StepKindList())
		}
		if slices.Contains(r.Steps[:i], s) {
			return bad(fmt.Sprintf("steps[%d]", i), "%s is listed twice", s)
		}
		if k.HistoryOnly {
			historyOnly = append(historyOnly, s)
		}
	}
	for _, k := range protocol.StepKinds {
		if k.Needs != "" && slices.Contains(r.Steps, k.Name) && !slices.Contains(r.Steps, k.Needs) {
			return bad("steps", "%s needs %s", k.Name, k.Needs)
		}
	}
	if live && len(historyOnly) > 0 {
		return bad("steps", "%s need%s historical data types, not live ws_* streams", andList(historyOnly), plural(historyOnly))
	}
	for _, kind := range sortedKeys(r.Options) {
		k, ok := protocol.LookupStepKind(kind)
		if !ok || !slices.Contains(r.Steps, kind) {
			return bad("options."+kind, "options for %q, which is not a step of this workflow", kind)
		}
		if err := k.CheckOptions(r.Options[kind]); err != nil {
			return err
		}
	}
	if r.TimeRange == "" {
		if history {
			return bad("time_range", "is required for historical data types")
		}
		return nil
	}
	tr, err := protocol.ParseTimeRange(r.TimeRange)
	if err != nil {
		return bad("time_range", "%v", err)
	}
	if history && !tr.Start.Before(now) {
		return bad("time_range", "starts in the future")
	}
	if live && !tr.End.After(now) {
		return bad("time_range", "ends in the past; a live stream needs an end after now or no time_range")
	}
	return nil
}

// DefaultSteps returns the kinds of a request that names none, in DAG
// order.
func DefaultSteps() []string {
	var out []string
	for _, k := range protocol.StepKinds {
		if k.Default {
			out = append(out, k.Name)
		}
	}
	return out
}

// andList joins items as "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// plural returns the verb ending that agrees with items: "s" for one.
func plural(items []string) string {
	if len(items) == 1 {
		return "s"
	}
	return ""
}

// sortedKeys returns m's keys in order, so a request with several problems
// always gets the same answer.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Workflow is a request and the state of its steps. It is stored as one
// record; Rev is the store's revision.
type Workflow struct {
	ID        string    `json:"id"`
	Request   Request   `json:"request"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Error     string    `json:"error,omitempty"`
	Steps     []*Step   `json:"steps"`
	StopAfter time.Time `json:"stop_after,omitzero"` // when stopping: runs left then are removed
	// Owner is who created it (nil for workflows created before owners
	// were recorded); Audit is who created and stopped it, when.
	Owner *Actor       `json:"owner,omitempty"`
	Audit []AuditEntry `json:"audit,omitempty"`
	Rev   int64        `json:"-"`
}

// Step is one worker's task within a workflow.
type Step struct {
	ID          string   `json:"id"` // <queue_id>.<kind>
	Kind        string   `json:"kind"`
	QueueID     string   `json:"queue_id"`
	TelemetryID string   `json:"telemetry_id"`
	Symbol      string   `json:"symbol,omitempty"`
	Type        string   `json:"type,omitempty"`
	TimeRange   string   `json:"time_range,omitempty"`
	Topic       string   `json:"kafka_topic,omitempty"`
	Collection  string   `json:"collection_name,omitempty"`
	After       []string `json:"after,omitempty"` // step ids that must finish first
	// Inputs are what the step reads that other steps wrote: the store
	// steps' collections for graph, the named graph for train.
	Inputs []string          `json:"inputs,omitempty"`
	Env    map[string]string `json:"env,omitempty"` // options from the request

	State         string     `json:"state"`
	Attempts      []Attempt  `json:"attempts"`
	Records       int64      `json:"records"`
	Percent       float64    `json:"percent,omitempty"`
	Rate          float64    `json:"rate,omitempty"`
	ETASeconds    float64    `json:"eta_seconds,omitempty"`
	LastEvent     *EventInfo `json:"last_event,omitempty"`
	Error         string     `json:"error,omitempty"`
	QueuePosition int        `json:"queue_position,omitempty"` // 1 = next to start, when waiting for a slot
	RetryAt       time.Time  `json:"retry_at,omitzero"`        // a failed attempt's relaunch time
	// RetryFrom is how many attempts the step had when its workflow was
	// retried: only the later ones count against MaxAttempts.
	RetryFrom int `json:"retry_from,omitempty"`
	// Result is the finished event's summary (graph size, model metrics,
	// artifact locations), as the worker sent it; for a stopped step, its
	// interrupted event's, when it sent one (a live stream's coverage).
	Result json.RawMessage `json:"result,omitempty"`
}

// Attempt is one launch of a step.
type Attempt struct {
	N       int       `json:"n"`
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Outcome string    `json:"outcome,omitempty"` // finished, failed, stopped
	Message string    `json:"message,omitempty"`
	// Error is the worker's own reason when the attempt ended on its error
	// event (the event's error), and Permanent whether the worker marked
	// it as one a retry cannot fix (the step then failed without another
	// attempt).
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// EventInfo is the last queue-events message of a step.
type EventInfo struct {
	Status  string    `json:"status"`
	Message string    `json:"message,omitempty"`
	Records int64     `json:"records_written"`
	At      time.Time `json:"at"`
}

// Current returns the step's latest attempt, or nil.
func (s *Step) Current() *Attempt {
	if len(s.Attempts) == 0 {
		return nil
	}
	return &s.Attempts[len(s.Attempts)-1]
}

// New builds a workflow from a valid request: the ids share one random
// suffix, so every queue id of the workflow ends the same way.
func New(r Request, now time.Time) (*Workflow, error) {
	suffix, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return nil, err
	}
	id, err := protocol.NewQueueID(r.Symbols[0], "workflow", now, suffix)
	if err != nil {
		return nil, err
	}
	w := &Workflow{ID: id, Request: r, State: Pending, Created: now, Updated: now}
	// Market data is named after the first day of the data, so workflows
	// share it; the graph is named after the workflow too (its suffix), so
	// it is this workflow's alone.
	day, err := protocol.DataDay(r.TimeRange, now)
	if err != nil {
		return nil, fmt.Errorf("time_range: %w", err)
	}
	// symbol is the step's SYMBOL (a list for graph and train); the queue
	// id names the first.
	add := func(kind, symbol, typ string, after []string) (*Step, error) {
		qtype := typ
		if qtype == "" {
			qtype = kind
		}
		first, _, _ := strings.Cut(symbol, ",")
		q, err := protocol.NewQueueID(first, qtype, now, suffix)
		if err != nil {
			return nil, err
		}
		coll := protocol.CollectionName(first, qtype, day)
		if kind == KindGraph || kind == KindTrain {
			coll = protocol.GraphName(first, day, suffix)
		}
		s := &Step{
			ID: q + "." + kind, Kind: kind, QueueID: q, TelemetryID: protocol.TelemetryID(Role(kind), suffix),
			Symbol: symbol, Type: typ, TimeRange: r.TimeRange, Topic: protocol.DataTopic(q),
			Collection: coll, After: after, Env: r.Options[kind],
			State: Pending, Attempts: []Attempt{},
		}
		w.Steps = append(w.Steps, s)
		return s, nil
	}
	want := func(k string) bool { return slices.Contains(r.Steps, k) }
	var stores []string
	for _, sym := range r.Symbols {
		for _, typ := range r.Types {
			if _, err := add(KindLoad, sym, typ, nil); err != nil {
				return nil, err
			}
			if want(KindStore) {
				s, err := add(KindStore, sym, typ, nil) // runs beside its loader
				if err != nil {
					return nil, err
				}
				stores = append(stores, s.ID)
			}
		}
	}
	if want(KindGraph) {
		// Graph and train steps carry their kind as TYPE, so their start
		// commands are as complete as a loader's.
		g, err := add(KindGraph, strings.Join(r.Symbols, ","), KindGraph, stores)
		if err != nil {
			return nil, err
		}
		for _, id := range stores {
			g.Inputs = append(g.Inputs, w.Step(id).Collection)
		}
		if want(KindTrain) {
			t, err := add(KindTrain, strings.Join(r.Symbols, ","), KindTrain, []string{g.ID})
			if err != nil {
				return nil, err
			}
			t.Inputs = []string{g.Collection}
		}
	}
	return w, nil
}

// Step returns the step with id, or nil.
func (w *Workflow) Step(id string) *Step {
	for _, s := range w.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// ErrNotFound is returned for an unknown workflow.
var ErrNotFound = errors.New("workflow not found")
