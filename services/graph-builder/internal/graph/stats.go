package graph

import (
	"fmt"
	"slices"
)

// Stats summarises the degree distribution of a graph.
type Stats struct {
	Nodes, Edges int
	// Min and Max are the smallest and largest degree.
	Min, Max int
	// Mean is 2·Edges/Nodes; Median averages the two middle degrees when
	// Nodes is even.
	Mean, Median float64
	// Isolated counts nodes of degree 0.
	Isolated int
}

// DegreeStats returns the degree statistics of the simple undirected graph
// with nodes 0..n-1 and the given edges. An empty graph (n = 0) gives zero
// Stats. It panics if an edge has an endpoint outside [0, n).
func DegreeStats(n int, edges []Edge) Stats {
	if n <= 0 {
		return Stats{}
	}
	deg := make([]int, n)
	for _, e := range edges {
		if e.U < 0 || int(e.U) >= n || e.V < 0 || int(e.V) >= n {
			panic(fmt.Sprintf("graph: edge %d–%d outside %d nodes", e.U, e.V, n))
		}
		deg[e.U]++
		deg[e.V]++
	}
	s := Stats{Nodes: n, Edges: len(edges), Mean: 2 * float64(len(edges)) / float64(n)}
	for _, d := range deg {
		if d == 0 {
			s.Isolated++
		}
	}
	slices.Sort(deg)
	s.Min, s.Max = deg[0], deg[n-1]
	s.Median = float64(deg[(n-1)/2]+deg[n/2]) / 2
	return s
}
