package gnn

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestDirectedNormalizedAdjacency(t *testing.T) {
	// 0 -> 1, 0 -> 2, 1 -> 2 (a duplicate and a self-loop are ignored):
	// row v holds v's senders and itself; D counts row entries.
	a, err := DirectedNormalizedAdjacency(3, [][2]int32{{0, 1}, {0, 2}, {1, 2}, {1, 2}, {2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	deg := []float64{1, 2, 3}
	want := [3][3]float64{}
	for _, e := range [][2]int{{0, 0}, {1, 1}, {2, 2}, {1, 0}, {2, 0}, {2, 1}} {
		want[e[0]][e[1]] = 1 / math.Sqrt(deg[e[0]]*deg[e[1]])
	}
	for i := range 3 {
		for j := range 3 {
			if got := a.At(i, j); math.Abs(got-want[i][j]) > 1e-15 {
				t.Errorf("Â[%d][%d] = %v, want %v", i, j, got, want[i][j])
			}
		}
	}
	if a.At(0, 1) != 0 || a.At(0, 2) != 0 {
		t.Error("node 0 aggregates a later node: the edges must be one-way")
	}
}

func TestDirectedMeanAdjacency(t *testing.T) {
	a, err := DirectedMeanAdjacency(3, [][2]int32{{0, 2}, {1, 2}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := [3][3]float64{{0, 0, 0}, {1, 0, 0}, {0.5, 0.5, 0}}
	for i := range 3 {
		for j := range 3 {
			if got := a.At(i, j); got != want[i][j] {
				t.Errorf("M[%d][%d] = %v, want %v", i, j, got, want[i][j])
			}
		}
	}
	if _, err := DirectedMeanAdjacency(2, [][2]int32{{0, 2}}); err == nil {
		t.Error("an out-of-range endpoint was accepted")
	}
}

// TestDirectedGraphSeesNoFuture: with edges from earlier to later nodes, a
// model's prediction for node t does not change when anything after t does.
func TestDirectedGraphSeesNoFuture(t *testing.T) {
	for _, arch := range []string{ArchGCN, ArchSAGE} {
		t.Run(arch, func(t *testing.T) {
			const n, f = 40, 3
			rng := testRNG(5)
			var edges [][2]int32
			for v := 1; v < n; v++ {
				for range 3 {
					edges = append(edges, [2]int32{int32(rng.IntN(v)), int32(v)})
				}
			}
			x := randDense(rng, n, f)
			y := make([]int, n)
			for i := range y {
				y[i] = i % 2
			}
			g := &Graph{N: n, Edges: edges, Directed: true, X: x, Y: y}
			cfg := DefaultConfig()
			cfg.Model, cfg.Epochs, cfg.Seed = arch, 5, 3
			m, _, err := Train(context.Background(), g, Split{Train: []int{0, 1, 2, 3, 4, 5, 6, 7}}, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			before, err := m.Predict(g)
			if err != nil {
				t.Fatal(err)
			}
			const cut = 20
			x2 := mat.DenseCopyOf(x)
			for i := cut + 1; i < n; i++ {
				for j := range f {
					x2.Set(i, j, 100*rng.NormFloat64())
				}
			}
			after, err := m.Predict(&Graph{N: n, Edges: edges, Directed: true, X: x2, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i <= cut; i++ {
				for c := range before[i] {
					if before[i][c] != after[i][c] {
						t.Fatalf("node %d's prediction moved when only nodes after %d changed", i, cut)
					}
				}
			}
			undirected, err := m.Predict(&Graph{N: n, Edges: edges, X: x2, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			moved := false
			for i := 0; i <= cut; i++ {
				moved = moved || undirected[i][0] != before[i][0]
			}
			if !moved {
				t.Error("undirected, the same change moved nothing: the test does not test")
			}
		})
	}
}
