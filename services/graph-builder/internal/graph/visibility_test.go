package graph

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// ratBelow is the reference predicate: sample k strictly below the line
// through samples i and j, in exact rational arithmetic with no filter.
func ratBelow(y []float64, i, j, k int) bool {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	lhs := new(big.Rat).Sub(r(y[k]), r(y[i]))
	lhs.Mul(lhs, big.NewRat(int64(j-i), 1))
	rhs := new(big.Rat).Sub(r(y[j]), r(y[i]))
	rhs.Mul(rhs, big.NewRat(int64(k-i), 1))
	return lhs.Cmp(rhs) < 0
}

// naiveVisibility is the O(n³) definition of the natural visibility graph:
// every pair, every intermediate sample, with the given predicate.
func naiveVisibility(y []float64, isBelow func(y []float64, i, j, k int) bool) []Edge {
	var edges []Edge
	for i := range y {
		for j := i + 1; j < len(y); j++ {
			visible := true
			for k := i + 1; k < j && visible; k++ {
				visible = isBelow(y, i, j, k)
			}
			if visible {
				edges = append(edges, newEdge(i, j))
			}
		}
	}
	return edges
}

// naiveHorizontalVisibility is the O(n²) definition of the horizontal
// visibility graph: from each sample, scan right while the highest sample in
// between stays strictly below both ends.
func naiveHorizontalVisibility(y []float64) []Edge {
	var edges []Edge
	for i := range y {
		highest := math.Inf(-1)
		for j := i + 1; j < len(y); j++ {
			if highest < min(y[i], y[j]) {
				edges = append(edges, newEdge(i, j))
			}
			highest = max(highest, y[j])
			if highest >= y[i] {
				break
			}
		}
	}
	return edges
}

// diffEdges describes the first difference between two edge lists, or
// returns "" when they are equal.
func diffEdges(got, want []Edge) string {
	if slices.Equal(got, want) {
		return ""
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("%d edges, want %d; first difference at %d: got %v, want %v", len(got), len(want), i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d edges, want %d; one is a prefix of the other", len(got), len(want))
}

// path returns the edges 0–1, 1–2, ..., (n-2)–(n-1).
func path(n int) []Edge {
	var edges []Edge
	for i := 0; i+1 < n; i++ {
		edges = append(edges, newEdge(i, i+1))
	}
	return edges
}

// edgeList builds unit-weight edges from pairs.
func edgeList(pairs ...[2]int) []Edge {
	edges := make([]Edge, 0, len(pairs))
	for _, p := range pairs {
		edges = append(edges, newEdge(p[0], p[1]))
	}
	return edges
}

// complete returns every pair of n nodes.
func complete(n int) []Edge {
	var edges []Edge
	for i := range n {
		for j := i + 1; j < n; j++ {
			edges = append(edges, newEdge(i, j))
		}
	}
	return edges
}

func TestVisibilityKnownGraphs(t *testing.T) {
	square := make([]float64, 7)
	for k := range square {
		square[k] = float64(k * k)
	}
	tests := []struct {
		name     string
		y        []float64
		nvg, hvg []Edge
	}{
		{name: "empty", y: nil},
		{name: "single", y: []float64{3}},
		{name: "pair", y: []float64{3, 1}, nvg: path(2), hvg: path(2)},
		{name: "valley", y: []float64{3, 1, 2}, nvg: complete(3), hvg: complete(3)},
		{name: "peak blocks", y: []float64{1, 2, 1}, nvg: path(3), hvg: path(3)},
		{name: "collinear blocks", y: []float64{1, 2, 3, 4}, nvg: path(4), hvg: path(4)},
		{name: "constant", y: []float64{5, 5, 5, 5}, nvg: path(4), hvg: path(4)},
		// NVG sees over a point that is not below the lower end; HVG does not.
		{name: "convex rise", y: []float64{0, 1, 3}, nvg: complete(3), hvg: path(3)},
		// A strictly convex series sees everything; a concave one only its neighbours.
		{name: "convex", y: square, nvg: complete(7), hvg: path(7)},
		{name: "concave", y: []float64{0, 5, 8, 9, 8, 5, 0}, nvg: path(7), hvg: path(7)},
		{
			name: "mixed",
			y:    []float64{4, 1, 3, 2, 5},
			nvg:  edgeList([2]int{0, 1}, [2]int{0, 2}, [2]int{0, 4}, [2]int{1, 2}, [2]int{2, 3}, [2]int{2, 4}, [2]int{3, 4}),
			hvg:  edgeList([2]int{0, 1}, [2]int{0, 2}, [2]int{0, 4}, [2]int{1, 2}, [2]int{2, 3}, [2]int{2, 4}, [2]int{3, 4}),
		},
		{
			// Equal lows: the NVG line 2→1 passes above the other low, the
			// horizontal line at height 1 does not pass strictly above it.
			name: "flat bottom",
			y:    []float64{2, 1, 1, 2},
			nvg:  complete(4),
			hvg:  edgeList([2]int{0, 1}, [2]int{0, 3}, [2]int{1, 2}, [2]int{2, 3}),
		},
		{
			// An equal peak in between sits exactly on the line and blocks.
			name: "equal peaks",
			y:    []float64{3, 1, 3, 1, 3},
			nvg:  edgeList([2]int{0, 1}, [2]int{0, 2}, [2]int{1, 2}, [2]int{2, 3}, [2]int{2, 4}, [2]int{3, 4}),
			hvg:  edgeList([2]int{0, 1}, [2]int{0, 2}, [2]int{1, 2}, [2]int{2, 3}, [2]int{2, 4}, [2]int{3, 4}),
		},
	}
	sortCanon := func(e []Edge) []Edge { e = slices.Clone(e); sortEdges(e, 64); return e }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := diffEdges(Visibility(tt.y), sortCanon(tt.nvg)); d != "" {
				t.Errorf("Visibility(%v): %s", tt.y, d)
			}
			if d := diffEdges(HorizontalVisibility(tt.y), sortCanon(tt.hvg)); d != "" {
				t.Errorf("HorizontalVisibility(%v): %s", tt.y, d)
			}
			// The table itself must agree with the definitions.
			if d := diffEdges(naiveVisibility(tt.y, ratBelow), sortCanon(tt.nvg)); d != "" {
				t.Errorf("naive NVG disagrees with the table: %s", d)
			}
			if d := diffEdges(naiveHorizontalVisibility(tt.y), sortCanon(tt.hvg)); d != "" {
				t.Errorf("naive HVG disagrees with the table: %s", d)
			}
		})
	}
}

// seriesGenerators produce random series of a given length that stress
// different parts of the algorithms.
var seriesGenerators = []struct {
	name string
	gen  func(r *rand.Rand, n int) []float64
	// exactOnly marks series whose every predicate falls back to exact
	// arithmetic, which long tests keep short.
	exactOnly bool
}{
	{name: "uniform", gen: func(r *rand.Rand, n int) []float64 { return fill(n, func(int) float64 { return r.Float64() }) }},
	{name: "random walk", gen: randomWalk},
	// Few distinct values: many ties and exactly collinear triples.
	{name: "small integers", gen: func(r *rand.Rand, n int) []float64 { return fill(n, func(int) float64 { return float64(r.IntN(4)) }) }},
	// Decimal ticks are not exact in binary, so "collinear" triples are
	// decided by the last bits and exercise the exact fallback.
	{name: "decimal ticks", gen: func(r *rand.Rand, n int) []float64 {
		p := 100 + r.IntN(50)
		return fill(n, func(int) float64 { p += r.IntN(5) - 2; return float64(p) / 100 })
	}},
	{name: "price ticks", gen: func(r *rand.Rand, n int) []float64 {
		p := 6462801 + r.IntN(100)
		return fill(n, func(int) float64 { p += r.IntN(3) - 1; return float64(p) * 0.01 })
	}},
	{name: "increasing", gen: func(r *rand.Rand, n int) []float64 {
		v := 0.0
		return fill(n, func(int) float64 { v += float64(r.IntN(3)); return v })
	}},
	{name: "decreasing", gen: func(r *rand.Rand, n int) []float64 {
		v := 0.0
		return fill(n, func(int) float64 { v -= r.Float64(); return v })
	}},
	{name: "constant", gen: func(r *rand.Rand, n int) []float64 {
		c := r.NormFloat64()
		return fill(n, func(int) float64 { return c })
	}},
	{name: "huge and tiny", gen: func(r *rand.Rand, n int) []float64 {
		return fill(n, func(int) float64 {
			return []float64{1e308, -1e308, 1e-310, -1e-310, 0, math.MaxFloat64, 5e-324}[r.IntN(7)]
		})
	}, exactOnly: true},
}

func fill(n int, f func(int) float64) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = f(i)
	}
	return y
}

func randomWalk(r *rand.Rand, n int) []float64 {
	v := 0.0
	return fill(n, func(int) float64 { v += r.NormFloat64(); return v })
}

func TestVisibilityMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range seriesGenerators {
		t.Run(g.name, func(t *testing.T) {
			for trial := range 150 {
				n := trial % 30
				if trial%10 == 9 {
					n = 30 + r.IntN(50)
				}
				y := g.gen(r, n)
				// The unfiltered rational predicate is slow, so it checks
				// the short series; TestOrientMatchesExact covers the
				// filter that the longer ones rely on.
				isBelow := below
				if n <= 12 {
					isBelow = ratBelow
				}
				if d := diffEdges(Visibility(y), naiveVisibility(y, isBelow)); d != "" {
					t.Fatalf("Visibility(%v): %s", y, d)
				}
				if d := diffEdges(HorizontalVisibility(y), naiveHorizontalVisibility(y)); d != "" {
					t.Fatalf("HorizontalVisibility(%v): %s", y, d)
				}
			}
		})
	}
}

func TestVisibilityMatchesNaiveLong(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, g := range seriesGenerators {
		t.Run(g.name, func(t *testing.T) {
			n := 800
			if g.exactOnly {
				n = 60
			}
			y := g.gen(r, n)
			if d := diffEdges(Visibility(y), naiveVisibility(y, below)); d != "" {
				t.Errorf("Visibility: %s", d)
			}
			if d := diffEdges(HorizontalVisibility(y), naiveHorizontalVisibility(y)); d != "" {
				t.Errorf("HorizontalVisibility: %s", d)
			}
		})
	}
}

// TestVisibilityAffineInvariance checks the invariance of the natural
// visibility graph under y → a·y + b·k + c with a > 0 (Lacasa et al. 2008),
// on integers so that the transformed series is exact.
func TestVisibilityAffineInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		n := 2 + r.IntN(60)
		y := fill(n, func(int) float64 { return float64(r.IntN(201) - 100) })
		a, b, c := float64(1+r.IntN(5)), float64(r.IntN(21)-10), float64(r.IntN(1001)-500)
		z := fill(n, func(k int) float64 { return a*y[k] + b*float64(k) + c })
		if d := diffEdges(Visibility(z), Visibility(y)); d != "" {
			t.Fatalf("a=%v b=%v c=%v on %v: %s", a, b, c, y, d)
		}
	}
}

func TestHorizontalVisibilityIsSubgraph(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range seriesGenerators {
		n := 5000
		if g.exactOnly {
			n = 200
		}
		y := g.gen(r, n)
		nvg := make(map[Edge]bool)
		for _, e := range Visibility(y) {
			nvg[e] = true
		}
		for _, e := range HorizontalVisibility(y) {
			if !nvg[e] {
				t.Fatalf("%s: HVG edge %v is not in the NVG", g.name, e)
			}
		}
	}
}

// TestHorizontalVisibilityRandomSeries checks the exact results of Luque et
// al. (2009) for i.i.d. continuous series: mean degree 4 and P(k) =
// (1/3)(2/3)^(k-2), whatever the distribution.
func TestHorizontalVisibilityRandomSeries(t *testing.T) {
	const n = 200_000
	r := rand.New(rand.NewPCG(9, 10))
	for _, dist := range []struct {
		name string
		draw func() float64
	}{
		{"uniform", r.Float64},
		{"exponential", r.ExpFloat64},
	} {
		t.Run(dist.name, func(t *testing.T) {
			y := fill(n, func(int) float64 { return dist.draw() })
			edges := HorizontalVisibility(y)
			s := DegreeStats(n, edges)
			if math.Abs(s.Mean-4) > 0.02 {
				t.Errorf("mean degree %.4f, want 4 ± 0.02", s.Mean)
			}
			deg := make([]int, n)
			for _, e := range edges {
				deg[e.U]++
				deg[e.V]++
			}
			for k := 2; k <= 5; k++ {
				got := float64(countEqual(deg, k)) / n
				want := math.Pow(2.0/3, float64(k-2)) / 3
				if math.Abs(got-want) > 0.01 {
					t.Errorf("P(k=%d) = %.4f, want %.4f ± 0.01", k, got, want)
				}
			}
		})
	}
}

// TestHorizontalVisibilityPeriodic checks the mean degree 4(1-1/(2T)) of the
// HVG of a periodic series with period T (Núñez et al. 2012).
func TestHorizontalVisibilityPeriodic(t *testing.T) {
	period := []float64{0.2, 0.9, 0.4, 0.7, 0.1}
	const n = 50_000
	y := fill(n, func(k int) float64 { return period[k%len(period)] })
	got := DegreeStats(n, HorizontalVisibility(y)).Mean
	want := 4 * (1 - 1/(2*float64(len(period))))
	if math.Abs(got-want) > 1e-3 {
		t.Errorf("mean degree %.5f, want %.5f", got, want)
	}
}

func countEqual(xs []int, v int) int {
	c := 0
	for _, x := range xs {
		if x == v {
			c++
		}
	}
	return c
}

func TestOrientMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	exactUsed, floatWrong := 0, 0
	for range 40_000 {
		dj := 2 + r.IntN(1000)
		dk := 1 + r.IntN(dj-1)
		var yi, yj, yk float64
		switch r.IntN(3) {
		case 0: // nearly collinear on a decimal grid
			base, step := r.IntN(100000), r.IntN(21)-10
			yi = float64(base) / 100
			yj = float64(base+step*dj) / 100
			yk = float64(base+step*dk+r.IntN(3)-1) / 100
		case 1: // collinear in real numbers, rounded in binary
			s := r.NormFloat64()
			yi = r.NormFloat64()
			yj, yk = yi+s*float64(dj), yi+s*float64(dk)
		default:
			yi, yj, yk = r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		}
		want := orientExact(yi, yj, yk, dj, dk)
		if got := orient(yi, yj, yk, dj, dk); got != want {
			t.Fatalf("orient(%v, %v, %v, %d, %d) = %d, want %d", yi, yj, yk, dj, dk, got, want)
		}
		naive := (yj-yi)*float64(dk) - (yk-yi)*float64(dj)
		if (naive > 0) != (want > 0) {
			floatWrong++
		}
		l, rr := (yj-yi)*float64(dk), (yk-yi)*float64(dj)
		if s := math.Abs(l) + math.Abs(rr); s != 0 && math.Abs(l-rr) <= ccwErrBound*s {
			exactUsed++
		}
	}
	// Guard the test itself: the cases must reach the exact path, and plain
	// float64 cross-multiplication must get some of them wrong.
	if exactUsed == 0 || floatWrong == 0 {
		t.Errorf("exact path used %d times, plain float64 wrong %d times; the generator no longer stresses the filter", exactUsed, floatWrong)
	}
	t.Logf("exact path used %d times, plain float64 wrong %d times", exactUsed, floatWrong)
}

func TestVisibilityRejectsNonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for name, f := range map[string]func([]float64) []Edge{"Visibility": Visibility, "HorizontalVisibility": HorizontalVisibility} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with %v did not panic", name, v)
					}
				}()
				f([]float64{1, v, 2})
			}()
		}
	}
}
