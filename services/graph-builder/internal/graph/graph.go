// Package graph turns market time series into graphs and node features: the
// natural and horizontal visibility graphs of one series, rolling correlation
// graphs across several assets, causal per-bar features for a graph neural
// network, and degree statistics to sanity-check the result.
//
// The package is pure computation: it does no I/O, keeps no state between
// calls and is safe for concurrent use.
package graph

import "math"

// Edge is an undirected edge between the nodes U and V with weight W.
//
// Every function in this package returns edges with U < V, without duplicates,
// sorted by (U, V). The meaning of W depends on the producer: 1 for visibility
// graphs, the Pearson correlation for correlation snapshots.
type Edge struct {
	U, V int32
	W    float64
}

// maxNodes is the largest node count an Edge can address.
const maxNodes = math.MaxInt32

// sortEdges sorts edges by (U, V) in place with two stable counting-sort
// passes, linear in len(edges)+n. Every endpoint must be in [0, n).
func sortEdges(edges []Edge, n int) {
	if len(edges) < 2 {
		return
	}
	tmp := make([]Edge, len(edges))
	count := make([]int, n+1)
	countingPass(edges, tmp, count, func(e Edge) int32 { return e.V })
	clear(count)
	countingPass(tmp, edges, count, func(e Edge) int32 { return e.U })
}

// sortGroupedByV returns edges sorted by (U, V) when they are already in
// ascending order of V, as the sweeps produce them: one stable counting pass
// by U is then enough, half the work of sortEdges on million-edge graphs.
func sortGroupedByV(edges []Edge, n int) []Edge {
	out := make([]Edge, len(edges))
	countingPass(edges, out, make([]int, n+1), func(e Edge) int32 { return e.U })
	return out
}

// countingPass stably sorts src into dst by key; count must be zeroed and
// have one more element than the largest key.
func countingPass(src, dst []Edge, count []int, key func(Edge) int32) {
	for _, e := range src {
		count[key(e)+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	for _, e := range src {
		k := key(e)
		dst[count[k]] = e
		count[k]++
	}
}

// newEdge returns the unit-weight edge between a and b in canonical order.
func newEdge(a, b int) Edge {
	if a > b {
		a, b = b, a
	}
	return Edge{U: int32(a), V: int32(b), W: 1}
}
