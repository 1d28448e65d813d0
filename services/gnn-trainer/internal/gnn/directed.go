package gnn

import (
	"fmt"
	"math"
	"slices"
)

// Directed graphs pass messages one way: an edge (u, v) lets v aggregate u
// and not the reverse. A time series graph built this way from earlier to
// later nodes lets no node see the future, however many layers deep.

// DirectedNormalizedAdjacency returns Â = D^-1/2 (A+I) D^-1/2 where A[v][u] = 1
// for each edge (u, v) and D counts each row's entries (in-degree + 1): the
// normalisation PyTorch Geometric's gcn_norm applies to a directed
// edge_index. Duplicate edges count once, self-loops in edges are ignored
// (every node gets exactly one). Â is not symmetric: use Transpose for
// backpropagation. It returns an error wrapping an out-of-range endpoint.
func DirectedNormalizedAdjacency(n int, edges [][2]int32) (*CSR, error) {
	keys, err := edgeKeys(n, edges, true)
	if err != nil {
		return nil, fmt.Errorf("directed normalized adjacency: %w", err)
	}
	a := pattern(n, keys, true)
	a.normalizeByRowCounts()
	return a, nil
}

// DirectedMeanAdjacency returns GraphSAGE-mean's operator for a directed
// graph: entry (v, u) is 1/indeg(v) for each edge (u, v), no self-loop, so a
// node without incoming edges aggregates to zero.
func DirectedMeanAdjacency(n int, edges [][2]int32) (*CSR, error) {
	keys, err := edgeKeys(n, edges, true)
	if err != nil {
		return nil, fmt.Errorf("directed mean adjacency: %w", err)
	}
	a := pattern(n, keys, false)
	a.meanRows()
	return a, nil
}

// edgeKeys validates edges, drops self-loops and duplicates and returns each
// message path once as v<<32|u (receiver v, sender u), sorted: an edge (u, v)
// of a directed graph gives v<<32|u, an undirected pair gives both ways
// (a duplicate in either direction counts once).
func edgeKeys(n int, edges [][2]int32, directed bool) ([]uint64, error) {
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("node count %d out of range", n)
	}
	size := len(edges)
	if !directed {
		size *= 2
	}
	keys := make([]uint64, 0, size)
	for i, e := range edges {
		u, v := e[0], e[1]
		if u < 0 || v < 0 || int(u) >= n || int(v) >= n {
			return nil, fmt.Errorf("edge %d (%d,%d) with %d nodes: %w", i, u, v, n, errEdge)
		}
		if u == v {
			continue
		}
		keys = append(keys, uint64(v)<<32|uint64(u))
		if !directed {
			keys = append(keys, uint64(u)<<32|uint64(v))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// pattern returns the CSR structure of edgeKeys' keys: one row per receiver,
// its senders in increasing order, and the diagonal in place when selfLoops
// is set. Values are left zero.
func pattern(n int, keys []uint64, selfLoops bool) *CSR {
	indptr := make([]int, n+1)
	for _, key := range keys {
		indptr[key>>32+1]++
	}
	if selfLoops {
		for i := range n {
			indptr[i+1]++
		}
	}
	for i := range n {
		indptr[i+1] += indptr[i]
	}
	indices := make([]int32, indptr[n])
	next := slices.Clone(indptr[:n])
	k := 0
	for r := range n {
		diagDone := !selfLoops
		for ; k < len(keys) && int(keys[k]>>32) == r; k++ {
			c := int32(uint32(keys[k]))
			if !diagDone && c > int32(r) {
				indices[next[r]] = int32(r)
				next[r]++
				diagDone = true
			}
			indices[next[r]] = c
			next[r]++
		}
		if !diagDone {
			indices[next[r]] = int32(r)
			next[r]++
		}
	}
	return &CSR{rows: n, cols: n, indptr: indptr, indices: indices, values: make([]float64, indptr[n])}
}
