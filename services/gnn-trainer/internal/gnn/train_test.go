package gnn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// noisyGraph is a random graph whose labels are a noisy function of the
// features, with train/val/test thirds; large enough (n=2000) to take the
// parallel SpMM path.
func noisyGraph(seed uint64, n, f, classes int, noise float64) (*Graph, Split) {
	rng := testRNG(seed)
	x := randDense(rng, n, f)
	y := make([]int, n)
	var s Split
	for i := range n {
		y[i] = argmax(x.RawRowView(i)[:classes])
		if rng.Float64() < noise {
			y[i] = rng.IntN(classes)
		}
		switch i % 3 {
		case 0:
			s.Train = append(s.Train, i)
		case 1:
			s.Val = append(s.Val, i)
		default:
			s.Test = append(s.Test, i)
		}
	}
	return &Graph{N: n, Edges: randEdges(rng, n, 4*n), X: x, Y: y}, s
}

func stripDurations(h History) History {
	for i := range h.Epochs {
		h.Epochs[i].Duration = 0
	}
	return h
}

func TestTrainDeterministic(t *testing.T) {
	for _, arch := range []string{ArchGCN, ArchSAGE} {
		t.Run(arch, func(t *testing.T) {
			g, split := noisyGraph(2, 2000, 16, 3, 0.2)
			cfg := DefaultConfig()
			cfg.Model, cfg.Epochs, cfg.Seed = arch, 15, 9
			run := func(procs int) ([]byte, History) {
				prev := runtime.GOMAXPROCS(procs)
				defer runtime.GOMAXPROCS(prev)
				m, h, err := Train(context.Background(), g, split, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				return b, stripDurations(h)
			}
			m1, h1 := run(1)
			m2, h2 := run(4)
			if !bytes.Equal(m1, m2) {
				t.Error("same seed gave different weights across runs (GOMAXPROCS 1 vs 4)")
			}
			if len(h1.Epochs) != len(h2.Epochs) {
				t.Fatalf("got %d and %d epochs", len(h1.Epochs), len(h2.Epochs))
			}
			for i := range h1.Epochs {
				if h1.Epochs[i] != h2.Epochs[i] {
					t.Errorf("epoch %d: got %+v and %+v", i+1, h1.Epochs[i], h2.Epochs[i])
				}
			}
			cfg.Seed++
			if m3, _ := run(1); bytes.Equal(m1, m3) {
				t.Error("a different seed gave identical weights")
			}
		})
	}
}

func TestTrainEarlyStoppingRestoresBest(t *testing.T) {
	// Pure-noise labels: the model can only overfit, so validation loss
	// bottoms out early and patience runs out.
	g, split := noisyGraph(3, 300, 8, 2, 1)
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Dropout, cfg.LR, cfg.WeightDecay, cfg.Patience, cfg.Seed = 64, 0, 0.05, 0, 5, 1
	m, h, err := Train(context.Background(), g, split, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Epochs[len(h.Epochs)-1]
	if !h.StoppedEarly || last.N-h.Best != cfg.Patience {
		t.Fatalf("got %d epochs, best %d, stopped early %v; want a stop %d epochs after the best",
			len(h.Epochs), h.Best, h.StoppedEarly, cfg.Patience)
	}
	minLoss := math.Inf(1)
	for _, e := range h.Epochs {
		minLoss = min(minLoss, e.ValLoss)
	}
	if got := h.Epochs[h.Best-1].ValLoss; got != minLoss {
		t.Errorf("best epoch val loss %v, minimum over history %v", got, minLoss)
	}
	r, err := m.Evaluate(g, split)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Val.LogLoss-minLoss) > 1e-12 {
		t.Errorf("returned model has val loss %v, want the best %v (last epoch had %v)", r.Val.LogLoss, minLoss, last.ValLoss)
	}
}

func TestTrainCancelReturnsBestModel(t *testing.T) {
	g, split := noisyGraph(4, 200, 8, 2, 0.1)
	cause := errors.New("shutdown")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cfg := DefaultConfig()
	m, h, err := Train(ctx, g, split, cfg, func(e Epoch) error {
		if e.N == 3 {
			cancel(cause)
		}
		return nil
	})
	if !errors.Is(err, cause) {
		t.Fatalf("got error %v, want one wrapping the cancel cause", err)
	}
	if m == nil || len(h.Epochs) != 3 || h.Best == 0 {
		t.Fatalf("got model %v, %d epochs, best %d; want the best of 3 epochs", m != nil, len(h.Epochs), h.Best)
	}
	r, err := m.Evaluate(g, split)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.Epochs[h.Best-1].ValLoss; math.Abs(r.Val.LogLoss-want) > 1e-12 {
		t.Errorf("got val loss %v, want the best epoch's %v", r.Val.LogLoss, want)
	}
}

func TestTrainCallbackErrorStops(t *testing.T) {
	g, split := noisyGraph(4, 100, 4, 2, 0.1)
	stop := errors.New("disk full")
	_, h, err := Train(context.Background(), g, split, DefaultConfig(), func(e Epoch) error {
		if e.N == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(h.Epochs) != 2 {
		t.Errorf("got %v after %d epochs, want the callback error after 2", err, len(h.Epochs))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
	}{
		{"", func(*Config) {}},
		{"Model", func(c *Config) { c.Model = "gat" }},
		{"Hidden", func(c *Config) { c.Hidden = 0 }},
		{"Dropout", func(c *Config) { c.Dropout = 1 }},
		{"Dropout", func(c *Config) { c.Dropout = math.NaN() }},
		{"LR", func(c *Config) { c.LR = 0 }},
		{"WeightDecay", func(c *Config) { c.WeightDecay = -1 }},
		{"Epochs", func(c *Config) { c.Epochs = 0 }},
		{"Patience", func(c *Config) { c.Patience = -1 }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			var fe *FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalidConfig)):
				t.Errorf("got %v, want a FieldError for %s", err, tc.field)
			}
		})
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	g, split := noisyGraph(5, 30, 4, 2, 0)
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name  string
		g     *Graph
		split Split
		cfg   Config
		want  error
	}{
		{"config", g, split, Config{}, ErrInvalidConfig},
		{"empty train", g, Split{Val: split.Val}, cfg, ErrInvalidSplit},
		{"overlap", g, Split{Train: []int{1, 2}, Val: []int{2}}, cfg, ErrInvalidSplit},
		{"features", &Graph{N: 5, X: mat.NewDense(4, 2, nil), Y: make([]int, 5)}, Split{Train: []int{0}}, cfg, ErrInvalidGraph},
		{"edge", &Graph{N: 2, X: mat.NewDense(2, 2, nil), Y: []int{0, 1}, Edges: [][2]int32{{0, 2}}}, Split{Train: []int{0}}, cfg, ErrInvalidGraph},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := Train(context.Background(), tc.g, tc.split, tc.cfg, nil)
			if !errors.Is(err, tc.want) || m != nil {
				t.Errorf("got model %v, error %v; want nil and %v", m != nil, err, tc.want)
			}
		})
	}
}

func TestModelJSONRoundTrip(t *testing.T) {
	for _, arch := range []string{ArchGCN, ArchSAGE, ArchLogReg} {
		t.Run(arch, func(t *testing.T) {
			g, split := noisyGraph(6, 150, 6, 3, 0.1)
			cfg := DefaultConfig()
			cfg.Model, cfg.Epochs = arch, 20
			m, _, err := Train(context.Background(), g, split, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := LoadModel(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := loaded.Predict(g)
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.Predict(g)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				for c := range want[i] {
					if got[i][c] != want[i][c] {
						t.Fatalf("node %d class %d: loaded model gives %v, original %v", i, c, got[i][c], want[i][c])
					}
				}
			}
			if loaded.Config() != cfg || loaded.Classes() != 3 || loaded.InDim() != 6 {
				t.Errorf("got config %+v, %d classes, %d features", loaded.Config(), loaded.Classes(), loaded.InDim())
			}
		})
	}
}

func TestLoadModelRejectsBadShapes(t *testing.T) {
	g, split := noisyGraph(6, 50, 4, 2, 0)
	cfg := DefaultConfig()
	cfg.Epochs = 1
	m, _, err := Train(context.Background(), g, split, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	raw["in_dim"] = 5
	bad, _ := json.Marshal(raw)
	if _, err := LoadModel(bytes.NewReader(bad)); err == nil {
		t.Error("got nil error for a model whose in_dim does not match its weights")
	}
	if _, err := m.Predict(&Graph{N: 2, X: mat.NewDense(2, 3, nil)}); !errors.Is(err, ErrInvalidGraph) {
		t.Errorf("got %v for a 3-feature graph, want ErrInvalidGraph", err)
	}
}
