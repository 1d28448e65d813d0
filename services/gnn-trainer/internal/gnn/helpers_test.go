package gnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func testRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	d := mat.NewDense(r, c, nil)
	for i := range d.RawMatrix().Data {
		d.RawMatrix().Data[i] = rng.NormFloat64()
	}
	return d
}

// randEdges returns m random undirected edges on n nodes, including some
// duplicates and self-loops that the builders must ignore.
func randEdges(rng *rand.Rand, n, m int) [][2]int32 {
	edges := make([][2]int32, m)
	for i := range edges {
		edges[i] = [2]int32{int32(rng.IntN(n)), int32(rng.IntN(n))}
	}
	return edges
}

// numericGrad returns the central-difference gradient of f with respect to
// every element of x, perturbing x in place and restoring it.
func numericGrad(f func() float64, x []float64) []float64 {
	const h = 1e-5
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		fp := f()
		x[i] = orig - h
		fm := f()
		x[i] = orig
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// relErr is ‖a−b‖ / max(‖a‖, ‖b‖), the norm-wise relative error; it is 0
// when both are zero.
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	den := math.Sqrt(max(na, nb))
	if den == 0 {
		return 0
	}
	return math.Sqrt(d) / den
}

// checkGrad compares an analytic gradient with central differences of f.
func checkGrad(t *testing.T, name string, f func() float64, x, analytic []float64) {
	t.Helper()
	num := numericGrad(f, x)
	if err := relErr(analytic, num); err >= 1e-6 || math.IsNaN(err) {
		t.Errorf("%s: relative error %.3g (analytic %v, numeric %v)", name, err, analytic[:min(4, len(analytic))], num[:min(4, len(num))])
	}
	var norm float64
	for _, v := range num {
		norm += v * v
	}
	if norm == 0 {
		t.Errorf("%s: numeric gradient is identically zero, the check proves nothing", name)
	}
}

// dot returns Σ a⊙b over the raw data of two equally shaped matrices.
func dot(a, b *mat.Dense) float64 {
	s := 0.0
	bd := b.RawMatrix().Data
	for i, v := range a.RawMatrix().Data {
		s += v * bd[i]
	}
	return s
}
