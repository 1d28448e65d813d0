package gnn

import (
	"fmt"
	"math"
)

// logLossEps bounds probabilities away from 0 in LogLoss, as scikit-learn
// does, so one confident mistake costs -log(1e-15) ≈ 34.5 instead of +Inf.
const logLossEps = 1e-15

// Metrics summarise predictions on one set of nodes.
type Metrics struct {
	// N is the number of nodes evaluated.
	N int
	// Accuracy is the share of nodes whose most probable class is right.
	Accuracy float64
	// LogLoss is the mean negative log-probability of the true class.
	LogLoss float64
	// MacroF1 is the unweighted mean of per-class F1 over the classes that
	// occur as a true or predicted label (scikit-learn's average="macro").
	MacroF1 float64
	// Confusion[t][p] counts nodes of true class t predicted as p.
	Confusion [][]int
}

// Report holds metrics for the three parts of a Split.
type Report struct {
	Train, Val, Test Metrics
}

// Evaluate computes Metrics for the nodes idx from per-node class
// probabilities probs (rows of equal length, the class count) and labels y.
// Metrics of an empty idx have N 0 and NaN scores. It returns an error when
// an index, label or row length is out of range.
func Evaluate(probs [][]float64, y, idx []int) (Metrics, error) {
	classes := 0
	if len(probs) > 0 {
		classes = len(probs[0])
	}
	m := Metrics{N: len(idx), Confusion: make([][]int, classes)}
	for c := range m.Confusion {
		m.Confusion[c] = make([]int, classes)
	}
	if len(idx) == 0 {
		m.Accuracy, m.LogLoss, m.MacroF1 = math.NaN(), math.NaN(), math.NaN()
		return m, nil
	}
	hits, loss := 0, 0.0
	for _, i := range idx {
		if i < 0 || i >= len(probs) || i >= len(y) {
			return Metrics{}, fmt.Errorf("evaluate: node %d out of range", i)
		}
		t, row := y[i], probs[i]
		if len(row) != classes || t < 0 || t >= classes {
			return Metrics{}, fmt.Errorf("evaluate: node %d has label %d and %d probabilities, want %d classes", i, t, len(row), classes)
		}
		p := argmax(row)
		m.Confusion[t][p]++
		if p == t {
			hits++
		}
		loss -= math.Log(min(max(row[t], logLossEps), 1-logLossEps))
	}
	m.Accuracy = float64(hits) / float64(len(idx))
	m.LogLoss = loss / float64(len(idx))
	m.MacroF1 = macroF1(m.Confusion)
	return m, nil
}

func macroF1(conf [][]int) float64 {
	sum, used := 0.0, 0
	for c := range conf {
		tp, support, predicted := conf[c][c], 0, 0
		for k := range conf {
			support += conf[c][k]
			predicted += conf[k][c]
		}
		if support == 0 && predicted == 0 {
			continue
		}
		used++
		sum += 2 * float64(tp) / float64(support+predicted)
	}
	if used == 0 {
		return math.NaN()
	}
	return sum / float64(used)
}

// newReport evaluates probs on the three parts of split.
func newReport(probs [][]float64, y []int, split Split, classes int) (Report, error) {
	var r Report
	var err error
	if r.Train, err = Evaluate(probs, y, split.Train); err != nil {
		return Report{}, err
	}
	if r.Val, err = Evaluate(probs, y, split.Val); err != nil {
		return Report{}, err
	}
	if r.Test, err = Evaluate(probs, y, split.Test); err != nil {
		return Report{}, err
	}
	return r, nil
}
