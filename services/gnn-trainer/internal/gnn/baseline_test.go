package gnn

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestLogisticRegressionSeparable(t *testing.T) {
	// Three classes separated by the sign pattern of two features, plus
	// a noise feature; no edges at all.
	rng := testRNG(12)
	const n = 300
	x := mat.NewDense(n, 3, nil)
	y := make([]int, n)
	var split Split
	for i := range n {
		c := i % 3
		centre := [][2]float64{{3, 0}, {-3, 3}, {-3, -3}}[c]
		x.Set(i, 0, centre[0]+rng.NormFloat64()*0.5)
		x.Set(i, 1, centre[1]+rng.NormFloat64()*0.5)
		x.Set(i, 2, rng.NormFloat64())
		y[i] = c
		switch i % 5 {
		case 0, 1, 2:
			split.Train = append(split.Train, i)
		case 3:
			split.Val = append(split.Val, i)
		default:
			split.Test = append(split.Test, i)
		}
	}
	g := &Graph{N: n, X: x, Y: y}
	cfg := DefaultConfig()
	cfg.LR, cfg.WeightDecay = 0.05, 0
	m, _, err := LogisticRegression(context.Background(), g, split, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Evaluate(g, split)
	if err != nil {
		t.Fatal(err)
	}
	if r.Test.Accuracy != 1 || r.Test.MacroF1 != 1 || r.Test.LogLoss > 0.1 {
		t.Errorf("got test accuracy %v, macro-F1 %v, log loss %v; want 1, 1, < 0.1", r.Test.Accuracy, r.Test.MacroF1, r.Test.LogLoss)
	}
	if m.Config().Model != ArchLogReg {
		t.Errorf("got model %q", m.Config().Model)
	}

	maj, err := Majority(y, split)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(maj.Test.Accuracy-1.0/3) > 0.05 {
		t.Errorf("majority test accuracy %v, want about 1/3 on balanced classes", maj.Test.Accuracy)
	}
}

func TestMajority(t *testing.T) {
	y := []int{0, 0, 0, 1, 1, 0, 1, -1}
	r, err := Majority(y, Split{Train: []int{0, 1, 2, 3}, Test: []int{4, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	// Train frequencies 3:1, smoothed to 4/6 and 2/6; every node predicts 0.
	if r.Test.Accuracy != 1.0/3 {
		t.Errorf("got accuracy %v, want 1/3", r.Test.Accuracy)
	}
	want := -(math.Log(2.0/6)*2 + math.Log(4.0/6)) / 3
	if math.Abs(r.Test.LogLoss-want) > 1e-12 {
		t.Errorf("got log loss %v, want %v", r.Test.LogLoss, want)
	}
}
