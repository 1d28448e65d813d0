package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The series are random walks, the closest synthetic match to prices, with
// fixed seeds so that runs are comparable.

// BenchmarkVisibility is the visibility graph of a 100,000-point random
// walk, the size docs/benchmarks.md reports.
func BenchmarkVisibility(b *testing.B) {
	const n = 100_000
	y := randomWalk(rand.New(rand.NewPCG(1, 2)), n)
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		var edges int
		for b.Loop() {
			edges = len(Visibility(y))
		}
		b.ReportMetric(float64(edges), "edges/op")
	})
}

// BenchmarkVisibilityVsNaive compares the sweep with the O(n³) test
// reference on a size the reference can do.
func BenchmarkVisibilityVsNaive(b *testing.B) {
	const n = 2000
	y := randomWalk(rand.New(rand.NewPCG(1, 2)), n)
	for _, c := range []struct {
		name string
		fn   func([]float64) []Edge
	}{
		{"baseline=naive", func(y []float64) []Edge { return naiveVisibility(y, below) }},
		{"sweep", Visibility},
	} {
		b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
			var edges int
			for b.Loop() {
				edges = len(c.fn(y))
			}
			b.ReportMetric(float64(edges), "edges/op")
		})
	}
}

func BenchmarkHorizontalVisibility(b *testing.B) {
	const n = 100_000
	y := randomWalk(rand.New(rand.NewPCG(1, 2)), n)
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		var edges int
		for b.Loop() {
			edges = len(HorizontalVisibility(y))
		}
		b.ReportMetric(float64(edges), "edges/op")
	})
}

// BenchmarkCorrelationSnapshots matches the multi-asset fixture: six assets,
// 38,000 five-minute returns, a one-day window moved by an hour.
func BenchmarkCorrelationSnapshots(b *testing.B) {
	returns := correlatedReturns(rand.New(rand.NewPCG(3, 4)), 6, 38_000)
	for _, m := range []struct {
		name   string
		method Method
	}{
		{"mst", MST{}},
		{"threshold=0.5", Threshold{Theta: 0.5}},
		{"topk=2", TopK{K: 2}},
	} {
		b.Run(m.name, func(b *testing.B) {
			var snaps, edges int
			for b.Loop() {
				s, err := CorrelationSnapshots(returns, 288, 12, m.method)
				if err != nil {
					b.Fatal(err)
				}
				snaps, edges = len(s), 0
				for _, snap := range s {
					edges += len(snap.Edges)
				}
			}
			b.ReportMetric(float64(snaps), "snapshots/op")
			b.ReportMetric(float64(edges), "edges/op")
		})
	}
}

func BenchmarkFeatures(b *testing.B) {
	bars := randomBars(rand.New(rand.NewPCG(5, 6)), 8928)
	for b.Loop() {
		if _, err := Features(bars, FeatureOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
