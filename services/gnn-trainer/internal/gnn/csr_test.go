package gnn

import (
	"errors"
	"math"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func denseOf(a *CSR) *mat.Dense {
	r, c := a.Dims()
	d := mat.NewDense(r, c, nil)
	for i := range r {
		cols, vals := a.Row(i)
		for k, j := range cols {
			d.Set(i, int(j), vals[k])
		}
	}
	return d
}

func TestNormalizedAdjacency(t *testing.T) {
	// Path 0-1-2 plus isolated node 3; a duplicate, a reversed duplicate and
	// a self-loop that must all be ignored.
	edges := [][2]int32{{0, 1}, {1, 2}, {1, 0}, {0, 1}, {2, 2}}
	a, err := NormalizedAdjacency(4, edges)
	if err != nil {
		t.Fatal(err)
	}
	// Degrees with self-loops: 2, 3, 2, 1.
	s2, s3 := math.Sqrt(2), math.Sqrt(3)
	want := mat.NewDense(4, 4, []float64{
		1.0 / 2, 1 / (s2 * s3), 0, 0,
		1 / (s2 * s3), 1.0 / 3, 1 / (s3 * s2), 0,
		0, 1 / (s3 * s2), 1.0 / 2, 0,
		0, 0, 0, 1,
	})
	if got := denseOf(a); !mat.EqualApprox(got, want, 1e-15) {
		t.Errorf("got\n%v\nwant\n%v", mat.Formatted(got), mat.Formatted(want))
	}
	if a.NNZ() != 8 {
		t.Errorf("got %d non-zeros, want 8", a.NNZ())
	}
}

func TestMeanAdjacency(t *testing.T) {
	edges := [][2]int32{{0, 1}, {0, 2}, {2, 0}, {1, 1}}
	a, err := MeanAdjacency(4, edges)
	if err != nil {
		t.Fatal(err)
	}
	want := mat.NewDense(4, 4, []float64{
		0, 0.5, 0.5, 0,
		1, 0, 0, 0,
		1, 0, 0, 0,
		0, 0, 0, 0, // isolated: aggregates to zero
	})
	if got := denseOf(a); !mat.Equal(got, want) {
		t.Errorf("got\n%v\nwant\n%v", mat.Formatted(got), mat.Formatted(want))
	}
	if got, want := denseOf(a.Transpose()), mat.DenseCopyOf(want.T()); !mat.Equal(got, want) {
		t.Errorf("transpose: got\n%v\nwant\n%v", mat.Formatted(got), mat.Formatted(want))
	}
}

func TestAdjacencyRejectsOutOfRange(t *testing.T) {
	for _, build := range []func(int, [][2]int32) (*CSR, error){NormalizedAdjacency, MeanAdjacency} {
		if _, err := build(3, [][2]int32{{0, 3}}); !errors.Is(err, errEdge) {
			t.Errorf("got %v, want errEdge", err)
		}
	}
}

func TestNewCSRValidates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		indptr  []int
		indices []int32
		values  []float64
		ok      bool
	}{
		{"valid", []int{0, 2, 3}, []int32{0, 2, 1}, []float64{1, 2, 3}, true},
		{"short indptr", []int{0, 2}, []int32{0, 2}, []float64{1, 2}, false},
		{"column out of range", []int{0, 1, 1}, []int32{3}, []float64{1}, false},
		{"unsorted row", []int{0, 2, 2}, []int32{2, 0}, []float64{1, 1}, false},
		{"values mismatch", []int{0, 1, 1}, []int32{0}, []float64{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCSR(2, 3, tc.indptr, tc.indices, tc.values)
			if got := err == nil; got != tc.ok {
				t.Errorf("got err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestMulMatchesDenseAndIsDeterministic checks the sparse product against
// gonum's dense product and that the parallel path gives bit-identical
// results for 1, 2 and 7 workers (row blocks).
func TestMulMatchesDenseAndIsDeterministic(t *testing.T) {
	rng := testRNG(1)
	const n, k = 3000, 16
	a, err := MeanAdjacency(n, randEdges(rng, n, 12000))
	if err != nil {
		t.Fatal(err)
	}
	if a.NNZ()*k < parallelMinWork {
		t.Fatalf("graph too small to exercise the parallel path")
	}
	b := randDense(rng, n, k)
	var want mat.Dense
	want.Mul(denseOf(a), b)

	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var first *mat.Dense
	for _, procs := range []int{1, 2, 7} {
		runtime.GOMAXPROCS(procs)
		got := mat.NewDense(n, k, nil)
		a.Mul(got, b)
		if !mat.EqualApprox(got, &want, 1e-12) {
			t.Fatalf("GOMAXPROCS=%d: sparse product differs from dense", procs)
		}
		if first == nil {
			first = got
		} else if !mat.Equal(got, first) {
			t.Errorf("GOMAXPROCS=%d: result not bit-identical to GOMAXPROCS=1", procs)
		}
	}
}
