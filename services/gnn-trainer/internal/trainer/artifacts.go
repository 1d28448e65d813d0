package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/report"
)

// ModelFormat names the layout of model.json.
const ModelFormat = "streamforge-gnn/1"

// Artifact names under the run's prefix.
const (
	ModelFile   = "model.json"
	MetricsFile = "metrics.json"
	CurveFile   = "training-curve.png"
	// CheckpointDir holds what a stopped run had when it stopped.
	CheckpointDir = "checkpoint/"
)

// Provenance says what a model was trained on.
type Provenance struct {
	QueueID      string    `json:"queue_id"`
	Graph        string    `json:"graph"`
	GraphKind    string    `json:"graph_kind"`
	GraphQueueID string    `json:"graph_queue_id,omitempty"`
	Symbols      []string  `json:"symbols"`
	Interval     string    `json:"interval,omitempty"`
	TimeRange    string    `json:"time_range,omitempty"`
	Nodes        int       `json:"nodes"`
	Edges        int       `json:"edges"`
	Labelled     int       `json:"labelled"`
	Split        SplitInfo `json:"split"`
}

// SplitInfo is the chronological split: sizes and the times it cuts at.
type SplitInfo struct {
	Train    int    `json:"train"`
	Val      int    `json:"val"`
	Test     int    `json:"test"`
	ValFrom  string `json:"val_from"`  // RFC 3339: validation nodes are at or after this
	TestFrom string `json:"test_from"` // and test nodes at or after this
}

// ModelFileBody is model.json: the network with its weights and feature
// normalisation, the features it expects in order, how it was trained and
// on what.
type ModelFileBody struct {
	Format     string          `json:"format"`
	Checkpoint bool            `json:"checkpoint,omitempty"`
	Created    time.Time       `json:"created"`
	Features   []string        `json:"features"`
	Causal     bool            `json:"causal"`
	Training   Training        `json:"training"`
	Provenance Provenance      `json:"provenance"`
	Model      json.RawMessage `json:"model"`
}

// Scores are one model's metrics on the three parts of the split.
type Scores struct {
	Train Score `json:"train"`
	Val   Score `json:"val"`
	Test  Score `json:"test"`
}

// Score is gnn.Metrics for JSON: scores of an empty set are null.
type Score struct {
	N         int      `json:"n"`
	Accuracy  *float64 `json:"accuracy"`
	LogLoss   *float64 `json:"log_loss"`
	MacroF1   *float64 `json:"macro_f1"`
	Confusion [][]int  `json:"confusion,omitempty"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func score(m gnn.Metrics) Score {
	return Score{N: m.N, Accuracy: finite(m.Accuracy), LogLoss: finite(m.LogLoss), MacroF1: finite(m.MacroF1), Confusion: m.Confusion}
}

func scores(r gnn.Report) Scores {
	return Scores{Train: score(r.Train), Val: score(r.Val), Test: score(r.Test)}
}

// EpochRecord is one epoch in metrics.json.
type EpochRecord struct {
	N         int      `json:"epoch"`
	TrainLoss *float64 `json:"train_loss"`
	TrainAcc  *float64 `json:"train_acc"`
	ValLoss   *float64 `json:"val_loss"`
	ValAcc    *float64 `json:"val_acc"`
	Seconds   float64  `json:"seconds"`
}

// MetricsFileBody is metrics.json.
type MetricsFileBody struct {
	Model        string            `json:"model"`
	Epochs       []EpochRecord     `json:"epochs"`
	BestEpoch    int               `json:"best_epoch"`
	StoppedEarly bool              `json:"stopped_early"`
	Split        SplitInfo         `json:"split"`
	Scores       Scores            `json:"scores"`
	Baselines    map[string]Scores `json:"baselines"`
	// BeatsBaselines is true when the model's test accuracy is above every
	// baseline's; Verdict says it in words either way.
	BeatsBaselines bool   `json:"beats_baselines"`
	Verdict        string `json:"verdict"`
}

func epochs(h gnn.History) []EpochRecord {
	out := make([]EpochRecord, len(h.Epochs))
	for i, e := range h.Epochs {
		out[i] = EpochRecord{N: e.N, TrainLoss: finite(e.TrainLoss), TrainAcc: finite(e.TrainAcc), ValLoss: finite(e.ValLoss),
			ValAcc: finite(e.ValAcc), Seconds: e.Duration.Seconds()}
	}
	return out
}

// verdict compares the model's test accuracy with the baselines', honestly:
// it beats them only when it is above every one, and the words give the 95%
// Wilson interval of its accuracy so a lead inside the noise reads as such.
func verdict(model string, m Scores, base map[string]Scores) (bool, string) {
	if m.Test.Accuracy == nil {
		return false, "no test nodes: nothing to compare"
	}
	acc := *m.Test.Accuracy
	lo, hi := wilson(acc, m.Test.N)
	words := fmt.Sprintf("%s test accuracy %.4f (95%% CI %.3f-%.3f, %d nodes)", model, acc, lo, hi, m.Test.N)
	beats, compared := true, 0
	for _, name := range []string{"majority", "logistic_regression"} {
		b, ok := base[name]
		if !ok || b.Test.Accuracy == nil {
			continue
		}
		compared++
		words += fmt.Sprintf(", %s %.4f", strings.ReplaceAll(name, "_", " "), *b.Test.Accuracy)
		beats = beats && acc > *b.Test.Accuracy
	}
	switch {
	case compared == 0:
		return true, words + "; no baseline to compare"
	case !beats:
		return false, words + ": does NOT beat the baselines"
	case lo <= bestOf(base):
		return true, words + ": above the baselines, within the noise"
	}
	return true, words + ": beats the baselines"
}

// bestOf returns the best baseline test accuracy.
func bestOf(base map[string]Scores) float64 {
	best := 0.0
	for _, b := range base {
		if b.Test.Accuracy != nil {
			best = max(best, *b.Test.Accuracy)
		}
	}
	return best
}

// wilson returns the 95% Wilson score interval of a proportion p over n.
func wilson(p float64, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	nn := float64(n)
	den := 1 + z*z/nn
	c := (p + z*z/(2*nn)) / den
	h := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return c - h, c + h
}

// putJSON writes v as indented JSON under key.
func putJSON(ctx context.Context, os objstore.Store, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := os.Put(ctx, key, bytes.NewReader(b), int64(len(b)), "application/json"); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// putCurve draws the training curve under key.
func putCurve(ctx context.Context, os objstore.Store, key string, h gnn.History, title string) error {
	var buf bytes.Buffer
	if err := report.TrainingCurve(&buf, h, title); err != nil {
		return fmt.Errorf("draw %s: %w", key, err)
	}
	if err := os.Put(ctx, key, &buf, int64(buf.Len()), "image/png"); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}
