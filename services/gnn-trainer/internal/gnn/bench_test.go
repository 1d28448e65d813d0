package gnn

import (
	"math"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// formulaGraph builds the benchmark graph without randomness, so that
// scripts/pyg_reference.py can build the identical one: node i links to
// i+1, i+2 (mod n, a ring with chords) and to (i·7919+13) mod n; features
// X[i][j] = sin(0.001·(i+1)·(j+1)); labels i mod 2; every node trains.
func formulaGraph(n, f int) (*Graph, Split) {
	edges := make([][2]int32, 0, 3*n)
	for i := range n {
		edges = append(edges,
			[2]int32{int32(i), int32((i + 1) % n)},
			[2]int32{int32(i), int32((i + 2) % n)},
			[2]int32{int32(i), int32((int64(i)*7919 + 13) % int64(n))})
	}
	x := mat.NewDense(n, f, nil)
	y := make([]int, n)
	split := Split{Train: make([]int, n)}
	for i := range n {
		for j := range f {
			x.Set(i, j, math.Sin(0.001*float64(i+1)*float64(j+1)))
		}
		y[i] = i % 2
		split.Train[i] = i
	}
	return &Graph{N: n, Edges: edges, X: x, Y: y}, split
}

// BenchmarkGCNEpoch times one training epoch (forward, backward, Adam; no
// evaluation pass) on the 100,000-node formula graph, hidden 16, 2 classes,
// dropout 0.5, weight decay 5e-4.
//
// Reported metrics: ns/op and allocs/op per epoch; "edges", the undirected
// edges after de-duplication; "nnz", stored entries of the sparse operator;
// "peak-MiB", the largest runtime.MemStats.HeapAlloc seen after setup and
// after every epoch (GC not forced, so garbage counts too: as the epoch
// allocates almost nothing this is the working set of graph, features,
// operator and buffers); "sys-MiB", MemStats.Sys at the end, the memory the
// Go runtime obtained from the OS (an upper bound on the peak RSS of the
// heap).
func BenchmarkGCNEpoch(b *testing.B) {
	b.Run("nodes=100000", func(b *testing.B) { benchEpoch(b, ArchGCN, 100_000) })
}

// BenchmarkSAGEEpoch is BenchmarkGCNEpoch for GraphSAGE-mean.
func BenchmarkSAGEEpoch(b *testing.B) {
	b.Run("nodes=100000", func(b *testing.B) { benchEpoch(b, ArchSAGE, 100_000) })
}

func benchEpoch(b *testing.B, arch string, n int) {
	runtime.GC()
	g, split := formulaGraph(n, 16)
	cfg := DefaultConfig()
	cfg.Model = arch
	tr, _, err := newTrainer(g, split, cfg)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := edgeKeys(n, g.Edges, false)
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak := ms.HeapAlloc
	tr.step() // warm up (first-touch of buffers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tr.step()
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(keys)/2), "edges") // each undirected edge is two message paths
	b.ReportMetric(float64(tr.net.layers[0].p.NNZ()), "nnz")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
}

func TestFormulaGraphShape(t *testing.T) {
	g, _ := formulaGraph(1000, 16)
	keys, err := edgeKeys(g.N, g.Edges, false)
	if err != nil {
		t.Fatal(err)
	}
	if edges := len(keys) / 2; edges < 2*g.N || edges > 3*g.N {
		t.Errorf("got %d undirected edges, want between 2n and 3n", edges)
	}
}
