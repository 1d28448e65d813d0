package trainer

import (
	"math"
	"strings"
	"testing"
)

func acc(v float64) *float64 { return &v }

func TestVerdictIsHonest(t *testing.T) {
	base := map[string]Scores{
		"majority":            {Test: Score{N: 1000, Accuracy: acc(0.52)}},
		"logistic_regression": {Test: Score{N: 1000, Accuracy: acc(0.55)}},
	}
	tests := []struct {
		name  string
		model float64
		beats bool
		words string
	}{
		{"below one baseline", 0.53, false, "does NOT beat"},
		{"above, inside the noise", 0.56, true, "within the noise"},
		{"clearly above", 0.70, true, "beats the baselines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beats, words := verdict("gcn", Scores{Test: Score{N: 1000, Accuracy: acc(tt.model)}}, base)
			if beats != tt.beats || !strings.Contains(words, tt.words) || !strings.Contains(words, "logistic regression 0.5500") {
				t.Errorf("verdict(%.2f) = %v, %q", tt.model, beats, words)
			}
		})
	}
	if beats, _ := verdict("gcn", Scores{}, base); beats {
		t.Error("a model without test nodes beats nothing")
	}
}

func TestWilson(t *testing.T) {
	// Known value: 50 of 100 gives [0.4038, 0.5962].
	lo, hi := wilson(0.5, 100)
	if math.Abs(lo-0.4038) > 1e-4 || math.Abs(hi-0.5962) > 1e-4 {
		t.Errorf("wilson(0.5, 100) = %.4f, %.4f", lo, hi)
	}
}

func TestOrientPointsForwardInTime(t *testing.T) {
	times := []int64{10, 20, 20, 30}
	got, directed := orient([][2]int32{{1, 0}, {1, 2}, {3, 2}}, times, true)
	want := [][2]int32{{0, 1}, {1, 2}, {2, 1}, {2, 3}}
	if !directed || len(got) != len(want) {
		t.Fatalf("orient = %v, %v", got, directed)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("orient = %v, want %v", got, want)
		}
	}
	if got, directed := orient([][2]int32{{1, 0}}, times, false); directed || got[0] != [2]int32{1, 0} {
		t.Errorf("undirected orient changed the edge: %v", got)
	}
}

func TestSettingsNameTheVariable(t *testing.T) {
	good := Training{Model: "gcn", Hidden: 16, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 10, Patience: 2, TrainFrac: 0.7, ValFrac: 0.15}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for want, edit := range map[string]func(*Training){
		"GNN_MODEL:":          func(s *Training) { s.Model = "logreg" },
		"GNN_HIDDEN:":         func(s *Training) { s.Hidden = 0 },
		"GNN_DROPOUT:":        func(s *Training) { s.Dropout = 1 },
		"GNN_LR:":             func(s *Training) { s.LR = 0 },
		"GNN_EPOCHS:":         func(s *Training) { s.Epochs = 0 },
		"GNN_TRAIN_FRACTION,": func(s *Training) { s.TrainFrac, s.ValFrac = 0.9, 0.1 },
		"GRAPH_NAME:":         func(s *Training) { s.GraphName = "bad name" },
	} {
		s := good
		edit(&s)
		if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("want an error starting %q, got %v", want, err)
		}
	}
}
