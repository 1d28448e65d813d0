package gnn

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Graph is a node-classification graph, undirected unless Directed is set.
type Graph struct {
	// N is the number of nodes.
	N int
	// Edges are undirected pairs; duplicates and self-loops are ignored.
	// With Directed set, an edge (u, v) passes messages from u to v only.
	Edges [][2]int32
	// Directed makes Edges one-way (see DirectedNormalizedAdjacency).
	Directed bool
	// X holds the node features, N×F.
	X *mat.Dense
	// Y holds each node's class in [0, classes), or -1 when unlabelled.
	Y []int
	// Time optionally holds a timestamp per node (for ChronologicalSplit).
	Time []int64
}

// ErrInvalidGraph is wrapped by every error about an inconsistent Graph.
var ErrInvalidGraph = errors.New("invalid graph")

// validate checks shapes and ranges; needLabels also requires len(Y) == N.
func (g *Graph) validate(needLabels bool) error {
	if g == nil || g.X == nil {
		return fmt.Errorf("%w: nil graph or features", ErrInvalidGraph)
	}
	if r, _ := g.X.Dims(); r != g.N {
		return fmt.Errorf("%w: X has %d rows for %d nodes", ErrInvalidGraph, r, g.N)
	}
	if needLabels && len(g.Y) != g.N {
		return fmt.Errorf("%w: Y has %d labels for %d nodes", ErrInvalidGraph, len(g.Y), g.N)
	}
	for i, y := range g.Y {
		if y < -1 {
			return fmt.Errorf("%w: Y[%d] = %d", ErrInvalidGraph, i, y)
		}
	}
	if len(g.Time) != 0 && len(g.Time) != g.N {
		return fmt.Errorf("%w: Time has %d entries for %d nodes", ErrInvalidGraph, len(g.Time), g.N)
	}
	for i, e := range g.Edges {
		if e[0] < 0 || e[1] < 0 || int(e[0]) >= g.N || int(e[1]) >= g.N {
			return fmt.Errorf("%w: edge %d (%d,%d) out of range", ErrInvalidGraph, i, e[0], e[1])
		}
	}
	return nil
}

// numClasses returns 1 + the largest label.
func numClasses(y []int) int {
	c := 0
	for _, v := range y {
		c = max(c, v+1)
	}
	return c
}

// fitZScore returns the per-column mean and standard deviation of the rows of
// x listed in rows (population std). A column with zero spread gets std 1 so
// it passes through centred but unscaled.
func fitZScore(x *mat.Dense, rows []int) (mean, std []float64) {
	_, f := x.Dims()
	mean, std = make([]float64, f), make([]float64, f)
	m := x.RawMatrix()
	for _, i := range rows {
		for j, v := range m.Data[i*m.Stride : i*m.Stride+f] {
			mean[j] += v
		}
	}
	n := float64(len(rows))
	for j := range mean {
		mean[j] /= n
	}
	for _, i := range rows {
		for j, v := range m.Data[i*m.Stride : i*m.Stride+f] {
			d := v - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / n)
		if std[j] == 0 || math.IsNaN(std[j]) {
			std[j] = 1
		}
	}
	return mean, std
}

// applyZScore returns a new matrix (x-mean)/std.
func applyZScore(x *mat.Dense, mean, std []float64) *mat.Dense {
	r, f := x.Dims()
	out := mat.NewDense(r, f, nil)
	src, dst := x.RawMatrix(), out.RawMatrix()
	for i := range r {
		s := src.Data[i*src.Stride : i*src.Stride+f]
		d := dst.Data[i*dst.Stride : i*dst.Stride+f]
		for j, v := range s {
			d[j] = (v - mean[j]) / std[j]
		}
	}
	return out
}
