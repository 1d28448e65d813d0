package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
)

// TrainRequest is Scenario 1: train a GNN on trades and 5-minute candles of
// symbol over timeRange.
func TrainRequest(symbol, timeRange string, trainEnv map[string]string) Request {
	r := Request{Symbols: []string{symbol}, Types: []string{"api_trades", "api_candles_5m"}, TimeRange: timeRange,
		Steps: []string{protocol.StepLoad, protocol.StepStore, protocol.StepGraph, protocol.StepTrain}}
	if len(trainEnv) > 0 {
		r.Options = map[string]map[string]string{protocol.StepTrain: trainEnv}
	}
	return r
}

// LastMonth returns the last whole calendar month before now as a time
// range, e.g. 2026-10-01:2026-11-01.
func LastMonth(now time.Time) string {
	now = now.UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return end.AddDate(0, -1, 0).Format(time.DateOnly) + ":" + end.Format(time.DateOnly)
}

// GraphResult is graph-builder's finished result (what the summary shows).
type GraphResult struct {
	Graph    string   `json:"graph"`
	Kind     string   `json:"kind"`
	Nodes    int      `json:"nodes"`
	Edges    int      `json:"edges"`
	Labelled int      `json:"labelled"`
	Features []string `json:"features"`
	Degree   struct {
		Mean   float64 `json:"mean"`
		Median float64 `json:"median"`
		Max    int     `json:"max"`
	} `json:"degree"`
}

// Score is one model's test metrics.
type Score struct {
	N        int      `json:"n"`
	Accuracy *float64 `json:"accuracy"`
	MacroF1  *float64 `json:"macro_f1"`
}

// TrainResult is gnn-trainer's finished result.
type TrainResult struct {
	Model     string            `json:"model"`
	Epochs    int               `json:"epochs"`
	BestEpoch int               `json:"best_epoch"`
	Test      Score             `json:"test"`
	Baselines map[string]Score  `json:"baselines"`
	Verdict   string            `json:"verdict"`
	Split     Split             `json:"split"`
	Artifacts map[string]string `json:"artifacts"`
}

// Split is a model's chronological split: sizes and the RFC 3339 times it
// cuts at (in the train result and in model.json's provenance).
type Split struct {
	Train    int    `json:"train"`
	Val      int    `json:"val"`
	Test     int    `json:"test"`
	ValFrom  string `json:"val_from"`
	TestFrom string `json:"test_from"`
}

// Summary is what a finished Scenario 1 made.
type Summary struct {
	Workflow *Workflow
	Stored   map[string]int64 // collection -> documents of the workflow's symbol and range in it
	Graph    GraphResult
	Train    TrainResult
	Coverage []*Coverage // per load step, from GET /api/v1/coverage
	Took     time.Duration
}

// Run submits r, follows it on a Board until it ends and returns the
// summary. A workflow that does not finish returns an error naming the
// failing step and its error; when following it fails (ctx ended), the
// summary holds the submitted workflow, for the caller to stop. st, when not nil, is read for the collections'
// sizes.
func Run(ctx context.Context, c *Client, r Request, board *Board, st store.Store) (*Summary, error) {
	start := time.Now()
	w, err := c.Submit(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	fmt.Fprintf(board.Out, "submitted %s: %s %s over %s, steps %s\n\n", w.ID, strings.Join(r.Symbols, ","), strings.Join(r.Types, " + "),
		r.TimeRange, strings.Join(r.Steps, " -> "))
	final, err := c.Follow(ctx, w.ID, board.Draw)
	if err == nil && final != nil && !ended(final.State) {
		final, err = c.waitEnd(ctx, w.ID, board.Draw)
	} else if err != nil && ctx.Err() == nil {
		// The stream broke (queue-manager restarting, a proxy): poll.
		final, err = c.waitEnd(ctx, w.ID, board.Draw)
	}
	if err != nil {
		// Interrupted (Ctrl-C, a deadline): the caller stops the workflow.
		return &Summary{Workflow: w, Took: time.Since(start)}, err
	}
	s := &Summary{Workflow: final, Stored: map[string]int64{}, Took: time.Since(start)}
	s.Coverage, err = c.workflowCoverage(ctx, final)
	if final.State != "finished" {
		printCoverage(board.Out, s.Coverage) // what was loaded before the failure, when it can be read
		return s, failure(final)
	}
	if err != nil {
		return s, fmt.Errorf("read the coverage ledger: %w", err)
	}
	for _, step := range final.Steps {
		switch step.Kind {
		case protocol.StepStore:
			n := step.Records
			if st != nil {
				// The collection may hold other workflows' ranges: count this
				// step's own.
				if c, err := OwnRecords(ctx, st, step); err == nil {
					n = c
				}
			}
			s.Stored[step.Collection] = n
		case protocol.StepGraph:
			if err := json.Unmarshal(step.Result, &s.Graph); err != nil {
				return s, fmt.Errorf("graph step result %s: %w", step.Result, err)
			}
		case protocol.StepTrain:
			if err := json.Unmarshal(step.Result, &s.Train); err != nil {
				return s, fmt.Errorf("train step result %s: %w", step.Result, err)
			}
		}
	}
	return s, nil
}

// OwnRecords counts the documents of a load or store step's symbol and time
// range in its collection: what the step's records must be.
func OwnRecords(ctx context.Context, st store.Store, step *Step) (int64, error) {
	tr, err := protocol.ParseTimeRange(step.TimeRange)
	if err != nil {
		return 0, fmt.Errorf("step %s: %w", step.ID, err)
	}
	return st.CountRange(ctx, step.Collection, step.Symbol, tr.Start.UnixMilli(), tr.End.UnixMilli())
}

// failure names the step that failed and why.
func failure(w *Workflow) error {
	for _, s := range w.Steps {
		if s.State == "failed" {
			msg := s.Error
			if msg == "" && len(s.Attempts) > 0 {
				msg = s.Attempts[len(s.Attempts)-1].Message
			}
			return fmt.Errorf("workflow %s %s: step %s failed: %s", w.ID, w.State, s.ID, msg)
		}
	}
	if w.Error != "" {
		return fmt.Errorf("workflow %s %s: %s", w.ID, w.State, w.Error)
	}
	return fmt.Errorf("workflow %s ended %s", w.ID, w.State)
}

// Print writes the summary for a person.
func (s *Summary) Print(out io.Writer) {
	fmt.Fprintf(out, "\nScenario 1 finished in %s (workflow %s)\n\n", s.Took.Round(time.Second), s.Workflow.ID)
	fmt.Fprintln(out, "Stored:")
	colls := make([]string, 0, len(s.Stored))
	for c := range s.Stored {
		colls = append(colls, c)
	}
	sort.Strings(colls)
	for _, c := range colls {
		fmt.Fprintf(out, "  %-40s %12d documents\n", c, s.Stored[c])
	}
	g := s.Graph
	fmt.Fprintf(out, "\nGraph %s (%s): %d nodes, %d edges, mean degree %.2f (median %.0f, max %d), %d labelled\n  features: %s\n",
		g.Graph, g.Kind, g.Nodes, g.Edges, g.Degree.Mean, g.Degree.Median, g.Degree.Max, g.Labelled, strings.Join(g.Features, ", "))
	t := s.Train
	fmt.Fprintf(out, "\nModel %s: %d epochs (best %d); split %d train / %d validation (from %s) / %d test (from %s)\n",
		strings.ToUpper(t.Model), t.Epochs, t.BestEpoch, t.Split.Train, t.Split.Val, t.Split.ValFrom, t.Split.Test, t.Split.TestFrom)
	fmt.Fprintf(out, "  %-22s %s\n", "test accuracy", acc(t.Test))
	names := make([]string, 0, len(t.Baselines))
	for n := range t.Baselines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(out, "  %-22s %s\n", strings.ReplaceAll(n, "_", " "), acc(t.Baselines[n]))
	}
	fmt.Fprintf(out, "  verdict: %s\n\nArtifacts:\n", t.Verdict)
	for _, k := range []string{"model", "metrics", "curve"} {
		if loc, ok := t.Artifacts[k]; ok {
			fmt.Fprintf(out, "  %-8s %s\n", k, loc)
		}
	}
	printCoverage(out, s.Coverage)
}

func acc(s Score) string {
	if s.Accuracy == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f on %d nodes", *s.Accuracy, s.N)
}
