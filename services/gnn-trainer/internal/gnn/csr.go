package gnn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// parallelMinWork is the number of multiply-adds below which Mul stays on the
// calling goroutine: spawning workers costs more than it saves on tiny graphs.
const parallelMinWork = 1 << 15

// CSR is an immutable sparse matrix in compressed sparse row form. Row i holds
// the column indices indices[indptr[i]:indptr[i+1]] (strictly increasing) and
// the matching values.
type CSR struct {
	rows, cols int
	indptr     []int
	indices    []int32
	values     []float64
}

// NewCSR builds a CSR from its raw arrays, which it takes ownership of. It
// returns an error when the arrays are inconsistent: len(indptr) != rows+1,
// indptr not starting at 0 or decreasing, len(indices) != len(values) !=
// indptr[rows], a column out of range, or columns not strictly increasing
// within a row.
func NewCSR(rows, cols int, indptr []int, indices []int32, values []float64) (*CSR, error) {
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("csr dims %dx%d: negative", rows, cols)
	}
	if len(indptr) != rows+1 || indptr[0] != 0 {
		return nil, fmt.Errorf("csr indptr: want length %d starting at 0", rows+1)
	}
	nnz := indptr[rows]
	if len(indices) != nnz || len(values) != nnz {
		return nil, fmt.Errorf("csr: %d indices and %d values, indptr says %d", len(indices), len(values), nnz)
	}
	for i := range rows {
		lo, hi := indptr[i], indptr[i+1]
		if hi < lo {
			return nil, fmt.Errorf("csr indptr: decreases at row %d", i)
		}
		for p := lo; p < hi; p++ {
			c := indices[p]
			if c < 0 || int(c) >= cols {
				return nil, fmt.Errorf("csr row %d: column %d out of range [0,%d)", i, c, cols)
			}
			if p > lo && c <= indices[p-1] {
				return nil, fmt.Errorf("csr row %d: columns not strictly increasing", i)
			}
		}
	}
	return &CSR{rows: rows, cols: cols, indptr: indptr, indices: indices, values: values}, nil
}

// Dims returns the number of rows and columns.
func (a *CSR) Dims() (rows, cols int) { return a.rows, a.cols }

// NNZ returns the number of stored entries.
func (a *CSR) NNZ() int { return len(a.values) }

// Row returns the column indices and values of row i. The slices alias the
// matrix and must not be modified.
func (a *CSR) Row(i int) (cols []int32, vals []float64) {
	lo, hi := a.indptr[i], a.indptr[i+1]
	return a.indices[lo:hi:hi], a.values[lo:hi:hi]
}

// At returns element (i, j), zero when it is not stored.
func (a *CSR) At(i, j int) float64 {
	cols, vals := a.Row(i)
	if k, ok := slices.BinarySearch(cols, int32(j)); ok {
		return vals[k]
	}
	return 0
}

// Transpose returns Aᵀ as a new CSR (a counting sort over columns, so the
// column indices of every row stay increasing).
func (a *CSR) Transpose() *CSR {
	indptr := make([]int, a.cols+1)
	for _, c := range a.indices {
		indptr[c+1]++
	}
	for j := range a.cols {
		indptr[j+1] += indptr[j]
	}
	next := slices.Clone(indptr[:a.cols])
	indices := make([]int32, len(a.indices))
	values := make([]float64, len(a.values))
	for i := range a.rows {
		for p := a.indptr[i]; p < a.indptr[i+1]; p++ {
			c := a.indices[p]
			q := next[c]
			next[c]++
			indices[q] = int32(i)
			values[q] = a.values[p]
		}
	}
	return &CSR{rows: a.cols, cols: a.rows, indptr: indptr, indices: indices, values: values}
}

// Mul computes dst = A·b. dst must be rows×k and b cols×k, and dst must not
// share memory with b; Mul panics otherwise, like gonum's mat operations.
//
// Rows are split into GOMAXPROCS blocks of roughly equal non-zero count and
// each block is computed by its own goroutine. Every output row is written by
// exactly one goroutine and summed in the stored column order, so the result
// is race-free and bit-identical for any number of workers.
func (a *CSR) Mul(dst, b *mat.Dense) {
	br, k := b.Dims()
	dr, dc := dst.Dims()
	if br != a.cols || dr != a.rows || dc != k {
		panic(fmt.Sprintf("csr: Mul dimension mismatch: (%dx%d)·(%dx%d) into %dx%d", a.rows, a.cols, br, k, dr, dc))
	}
	bm, dm := b.RawMatrix(), dst.RawMatrix()
	if len(bm.Data) > 0 && len(dm.Data) > 0 && &bm.Data[0] == &dm.Data[0] {
		panic("csr: Mul dst aliases b")
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > a.rows {
		workers = a.rows
	}
	if workers <= 1 || a.NNZ()*k < parallelMinWork {
		a.mulRows(0, a.rows, dm, bm)
		return
	}
	var wg sync.WaitGroup
	nnz := a.NNZ()
	lo := 0
	for w := 1; w <= workers; w++ {
		hi := a.rows
		if w < workers {
			// First row whose start offset reaches this worker's share of non-zeros.
			target := nnz / workers * w
			hi = sort.SearchInts(a.indptr[:a.rows+1], target)
			hi = max(hi, lo)
		}
		if hi > lo {
			from, to := lo, hi
			wg.Go(func() { a.mulRows(from, to, dm, bm) })
		}
		lo = hi
	}
	wg.Wait()
}

func (a *CSR) mulRows(lo, hi int, dst, b blas64.General) {
	k := dst.Cols
	for i := lo; i < hi; i++ {
		drow := dst.Data[i*dst.Stride : i*dst.Stride+k]
		clear(drow)
		for p := a.indptr[i]; p < a.indptr[i+1]; p++ {
			v := a.values[p]
			off := int(a.indices[p]) * b.Stride
			brow := b.Data[off : off+k]
			brow = brow[:len(drow)]
			for c, x := range brow {
				drow[c] += v * x
			}
		}
	}
}

// errEdge reports an edge endpoint outside [0, n).
var errEdge = errors.New("edge endpoint out of range")

// NormalizedAdjacency returns Â = D^-1/2 (A+I) D^-1/2 for the undirected graph
// on n nodes (Kipf & Welling 2017), where D is the degree matrix of A+I.
// Duplicate edges (in either direction) count once and self-loops in edges
// are ignored, as every node gets exactly one. Â is symmetric, so it is its
// own transpose. It returns an error wrapping an out-of-range endpoint.
func NormalizedAdjacency(n int, edges [][2]int32) (*CSR, error) {
	keys, err := edgeKeys(n, edges, false)
	if err != nil {
		return nil, fmt.Errorf("normalized adjacency: %w", err)
	}
	a := pattern(n, keys, true)
	a.normalizeByRowCounts()
	return a, nil
}

// normalizeByRowCounts sets entry (i, j) to 1/sqrt(d_i·d_j), d being each
// row's entry count (degree with its self-loop): D^-1/2 (A+I) D^-1/2 on a
// pattern that holds A+I.
func (a *CSR) normalizeByRowCounts() {
	inv := make([]float64, a.rows)
	for i := range a.rows {
		inv[i] = 1 / math.Sqrt(float64(a.indptr[i+1]-a.indptr[i]))
	}
	for i := range a.rows {
		for p := a.indptr[i]; p < a.indptr[i+1]; p++ {
			a.values[p] = inv[i] * inv[a.indices[p]]
		}
	}
}

// MeanAdjacency returns the row-normalised neighbour matrix used by
// GraphSAGE-mean: entry (i, j) is 1/deg(i) for each neighbour j of i, with no
// self-loop, so an isolated node aggregates to zero. Duplicate edges count
// once and self-loops in edges are ignored. The result is not symmetric; use
// Transpose for backpropagation. It returns an error wrapping an out-of-range
// endpoint.
func MeanAdjacency(n int, edges [][2]int32) (*CSR, error) {
	keys, err := edgeKeys(n, edges, false)
	if err != nil {
		return nil, fmt.Errorf("mean adjacency: %w", err)
	}
	a := pattern(n, keys, false)
	a.meanRows()
	return a, nil
}

// meanRows sets every entry of a row to 1/(the row's entry count): the mean
// over its neighbours. An empty row stays empty.
func (a *CSR) meanRows() {
	for i := range a.rows {
		lo, hi := a.indptr[i], a.indptr[i+1]
		w := 1 / float64(max(hi-lo, 1))
		for p := lo; p < hi; p++ {
			a.values[p] = w
		}
	}
}
