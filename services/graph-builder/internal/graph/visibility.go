package graph

import (
	"fmt"
	"math"
	"math/big"
	"sort"
)

// Visibility returns the natural visibility graph (Lacasa et al. 2008) of the
// series y: node i is the sample (i, y[i]), and i < j are joined when every
// sample strictly between them lies strictly below the straight line from
// (i, y[i]) to (j, y[j]). Consecutive samples are always joined; a sample
// exactly on the line blocks the view, so a straight run is a path.
//
// Visibility is decided exactly on the float64 values as given, not up to a
// tolerance: each "is k below the line i–j" test is the cross-multiplied
// comparison (y[j]-y[i])·(k-i) > (y[k]-y[i])·(j-i) evaluated in float64 with a
// forward error bound (Shewchuk's orient2d filter), and only when the float64
// result is too close to zero to trust is it redone in exact rational
// arithmetic. Plain float64 cross-multiplication would be fast but decides
// near-collinear triples either way, which breaks the slope ordering the
// algorithm relies on; prices on a decimal tick grid produce such triples all
// the time.
//
// The algorithm sweeps j from left to right and lists the samples j sees on
// its left, nearest first. After j-1, the next one is always the nearest
// sample left of the last one found, m, strictly above the line from j
// through m; such a sample sees m itself, so it is among m's own left
// neighbours, listed earlier and increasingly steep as seen from m, and a
// binary search finds it. The cost is O(E log n) for E edges (E is about 2.7n
// for noise and 5n to 12n for random walks of 10³ to 10⁵ samples), against
// O(n²) worst case for the divide and conquer of Lan et al. (2015), which
// measured 4 to 7 times slower here on random walks, and O(n³) for the
// definition. The binary search is sound only because every comparison is
// exact.
//
// Every edge has W = 1. Visibility panics if y contains NaN or ±Inf, or has
// more than math.MaxInt32 samples.
func Visibility(y []float64) []Edge {
	checkSeries(y)
	n := len(y)
	if n < 2 {
		return nil
	}
	// Edges are appended grouped by V ascending; the group of j,
	// edges[first[j]:first[j+1]], holds j's left neighbours nearest first,
	// which is also least steep first as seen from j.
	edges := make([]Edge, 0, 4*n)
	first := make([]int, n+1)
	for j := 1; j < n; j++ {
		first[j] = len(edges)
		m := j - 1
		for {
			edges = append(edges, Edge{U: int32(m), V: int32(j), W: 1})
			left := edges[first[m]:first[m+1]]
			// Along left, "above the line j–m" is false then true.
			next := sort.Search(len(left), func(i int) bool {
				return below(y, int(left[i].U), j, m)
			})
			if next == len(left) {
				break
			}
			m = int(left[next].U)
		}
	}
	return sortGroupedByV(edges, n)
}

// HorizontalVisibility returns the horizontal visibility graph (Luque et al.
// 2009) of the series y: i < j are joined when every sample strictly between
// them is strictly lower than min(y[i], y[j]). Consecutive samples are always
// joined; an intermediate sample equal to the lower end blocks the view.
//
// It runs in O(n) time with a stack of the samples still visible from the
// right, then sorts the edges. Every edge has W = 1. HorizontalVisibility
// panics if y contains NaN or ±Inf, or has more than math.MaxInt32 samples.
func HorizontalVisibility(y []float64) []Edge {
	checkSeries(y)
	n := len(y)
	if n < 2 {
		return nil
	}
	edges := make([]Edge, 0, 2*n)
	// The stack holds indices with strictly decreasing values; everything
	// between two neighbours on it is no higher than the later one.
	stack := make([]int, 0, 64)
	for j := range n {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			edges = append(edges, newEdge(top, j))
			if y[top] > y[j] {
				break
			}
			// top is now hidden from everything right of j.
			stack = stack[:len(stack)-1]
			if y[top] == y[j] {
				break
			}
		}
		stack = append(stack, j)
	}
	return sortGroupedByV(edges, n)
}

// checkSeries panics when y cannot be turned into a visibility graph.
func checkSeries(y []float64) {
	if len(y) > maxNodes {
		panic(fmt.Sprintf("graph: series of %d samples exceeds the int32 node limit", len(y)))
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			panic(fmt.Sprintf("graph: sample %d is %v; visibility needs finite values", i, v))
		}
	}
}

// Error-bound constants for the orientation filter, from Shewchuk, "Adaptive
// Precision Floating-Point Arithmetic and Fast Robust Geometric Predicates"
// (1997): epsilon is half an ulp of 1, and ccwErrBound bounds the rounding
// error of a 2×2 determinant relative to the sum of its two products.
const (
	epsilon     = 0x1p-53
	ccwErrBound = (3 + 16*epsilon) * epsilon
	// underflowGuard keeps the filter away from subnormal products, where the
	// relative bound above no longer holds.
	underflowGuard = 0x1p-900
)

// below reports whether sample k lies strictly below the line through samples
// i and j, for i < j. The answer is exact; see Visibility.
func below(y []float64, i, j, k int) bool {
	return orient(y[i], y[j], y[k], j-i, k-i) > 0
}

// orient returns the sign of (yj-yi)·dk - (yk-yi)·dj, which is positive when
// the point (i+dk, yk) is strictly below the line from (i, yi) to (i+dj, yj)
// and dj > 0. The float64 result is used when it clears the error bound; a
// zero or uncertain result is recomputed exactly.
func orient(yi, yj, yk float64, dj, dk int) int {
	l := (yj - yi) * float64(dk)
	r := (yk - yi) * float64(dj)
	det := l - r
	sum := math.Abs(l) + math.Abs(r)
	switch {
	case sum == 0:
		// Both differences are exactly zero: y is constant across i, j, k.
		return 0
	case sum > underflowGuard:
		bound := ccwErrBound * sum
		if det > bound {
			return 1
		}
		if -det > bound {
			return -1
		}
	}
	return orientExact(yi, yj, yk, dj, dk)
}

// orientExact is orient in rational arithmetic, which represents every finite
// float64 exactly. It is reached only for near-collinear triples, overflow and
// subnormal differences.
func orientExact(yi, yj, yk float64, dj, dk int) int {
	var a, b, t big.Rat
	a.SetFloat64(yj)
	t.SetFloat64(yi)
	a.Sub(&a, &t)
	a.Mul(&a, new(big.Rat).SetInt64(int64(dk)))
	b.SetFloat64(yk)
	b.Sub(&b, &t)
	b.Mul(&b, new(big.Rat).SetInt64(int64(dj)))
	return a.Cmp(&b)
}
