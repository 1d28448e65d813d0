package gnn

import (
	"math"
	"slices"
	"testing"
)

func TestEvaluate(t *testing.T) {
	probs := [][]float64{
		{0.9, 0.1, 0},   // true 0 → 0
		{0.2, 0.8, 0},   // true 0 → 1
		{0.3, 0.7, 0},   // true 1 → 1
		{0.1, 0.2, 0.7}, // true 2 → 2
		{0.6, 0.4, 0},   // true 1 → 0
	}
	y := []int{0, 0, 1, 2, 1}
	m, err := Evaluate(probs, y, []int{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if m.Accuracy != 0.6 {
		t.Errorf("got accuracy %v, want 0.6", m.Accuracy)
	}
	wantConf := [][]int{{1, 1, 0}, {1, 1, 0}, {0, 0, 1}}
	for i := range wantConf {
		if !slices.Equal(m.Confusion[i], wantConf[i]) {
			t.Errorf("confusion row %d: got %v, want %v", i, m.Confusion[i], wantConf[i])
		}
	}
	// F1: class 0 = 0.5, class 1 = 0.5, class 2 = 1.
	if want := 2.0 / 3; math.Abs(m.MacroF1-want) > 1e-15 {
		t.Errorf("got macro-F1 %v, want %v", m.MacroF1, want)
	}
	wantLoss := -(math.Log(0.9) + math.Log(0.2) + math.Log(0.7) + math.Log(0.7) + math.Log(0.4)) / 5
	if math.Abs(m.LogLoss-wantLoss) > 1e-15 {
		t.Errorf("got log loss %v, want %v", m.LogLoss, wantLoss)
	}
	if _, err := Evaluate(probs, y, []int{7}); err == nil {
		t.Error("got nil error for an out-of-range node")
	}
}
