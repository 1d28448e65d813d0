package graph

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
)

// LogReturns returns the one-step log returns log(close[t+1]/close[t]) of a
// price series; the result has one element fewer than close, and is nil for
// fewer than two prices. A return involving a price that is not positive and
// finite is NaN, which CorrelationSnapshots treats as undefined.
func LogReturns(close []float64) []float64 {
	if len(close) < 2 {
		return nil
	}
	r := make([]float64, len(close)-1)
	for t := range r {
		a, b := close[t], close[t+1]
		if !positiveFinite(a) || !positiveFinite(b) {
			r[t] = math.NaN()
			continue
		}
		r[t] = math.Log(b / a)
	}
	return r
}

func positiveFinite(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// Snapshot is the correlation graph of one window of returns.
//
// Start and End index the return series, End exclusive. Nodes are the assets
// in input order; each edge's W is the Pearson correlation of its two assets
// over the window.
type Snapshot struct {
	Start, End int
	Edges      []Edge
}

// Method decides which correlations of a window become edges. Threshold,
// TopK and MST implement it.
type Method interface {
	// edges selects edges from the n×n row-major correlation matrix rho;
	// defined[a] is false for assets whose correlations are undefined.
	edges(rho []float64, defined []bool) []Edge
	validate() error
}

// Threshold keeps every pair with |rho| >= Theta; a Theta of 0 or less keeps
// every pair whose correlation is defined.
type Threshold struct {
	Theta float64
}

// TopK keeps, for every asset, the edges to its K partners of largest |rho|
// (ties go to the lower asset index), and returns the union, so an asset can
// end up with more than K edges.
type TopK struct {
	K int
}

// MST keeps the minimum spanning tree under the Mantegna distance
// d = sqrt(2(1-rho)) (Mantegna 1999), over the assets whose correlations are
// defined; with n such assets it has n-1 edges.
//
// Because d is strictly decreasing in rho the tree is built by Prim's
// algorithm on rho directly, which avoids the rounding ties sqrt would add.
// Exact ties are broken by (U, V), which makes the edge order total and the
// tree unique.
type MST struct{}

// CorrelationSnapshots slides a window of window returns, moving by step,
// over the aligned return series returns[asset][t] and returns the
// correlation graph of every complete window, selected by m.
//
// The correlation of an asset is undefined in a window where its returns are
// constant or contain NaN or ±Inf; such an asset gets no edges in that
// snapshot rather than NaN ones. Correlations are clamped to [-1, 1].
//
// Every window is computed afresh with the corrected two-pass formula that
// gonum's stat.Correlation uses, after centring each asset once per window:
// O(assets² · window) per snapshot, a few tens of µs for 6 assets and a
// one-day window of 5-minute returns, and no drift, which running sums would
// accumulate over tens of thousands of steps.
//
// It returns an error when the series have different lengths, window < 2,
// step < 1, m is nil, TopK.K < 1 or Threshold.Theta is NaN. Fewer than
// window returns give no snapshots and no error.
func CorrelationSnapshots(returns [][]float64, window, step int, m Method) ([]Snapshot, error) {
	switch {
	case window < 2:
		return nil, fmt.Errorf("window %d: need at least 2 returns", window)
	case step < 1:
		return nil, fmt.Errorf("step %d: need at least 1", step)
	case m == nil:
		return nil, errors.New("no correlation method")
	case len(returns) > maxNodes:
		return nil, fmt.Errorf("%d assets exceed the int32 node limit", len(returns))
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	n := len(returns)
	if n == 0 {
		return nil, nil
	}
	length := len(returns[0])
	for a, r := range returns {
		if len(r) != length {
			return nil, fmt.Errorf("asset %d has %d returns, asset 0 has %d", a, len(r), length)
		}
	}
	if length < window {
		return nil, nil
	}

	var (
		centred = make([]float64, n*window)
		comp    = make([]float64, n) // Chan et al. compensation: sum of deviations
		norm    = make([]float64, n) // sqrt of the corrected sum of squares
		defined = make([]bool, n)
		rho     = make([]float64, n*n)
		snaps   = make([]Snapshot, 0, (length-window)/step+1)
	)
	for start := 0; start+window <= length; start += step {
		for a := range n {
			c := centred[a*window : (a+1)*window]
			if !centre(c, returns[a][start:start+window]) {
				defined[a] = false
				continue
			}
			comp[a] = floats.Sum(c)
			ss := floats.Dot(c, c) - comp[a]*comp[a]/float64(window)
			// Only magnitudes no return series reaches can round a
			// non-constant window to a sum of squares that is not
			// positive and finite; dividing by it would give NaN.
			defined[a] = ss > 0 && !math.IsInf(ss, 1)
			norm[a] = math.Sqrt(ss)
		}
		for a := range n {
			rho[a*n+a] = 1
			for b := a + 1; b < n; b++ {
				r := math.NaN()
				if defined[a] && defined[b] {
					ca := centred[a*window : (a+1)*window]
					cb := centred[b*window : (b+1)*window]
					sxy := floats.Dot(ca, cb) - comp[a]*comp[b]/float64(window)
					// Two divisions, not one by the product, which tiny
					// variances would underflow to zero.
					r = max(-1, min(1, sxy/norm[a]/norm[b]))
				}
				rho[a*n+b], rho[b*n+a] = r, r
			}
		}
		edges := m.edges(rho, defined)
		sortEdges(edges, n)
		snaps = append(snaps, Snapshot{Start: start, End: start + window, Edges: edges})
	}
	return snaps, nil
}

// centre writes x minus its mean into c and reports whether x has a defined
// variance: finite and not constant. Constancy is tested on the inputs, not
// on the centred values, which rounding of the mean can leave slightly off 0.
func centre(c, x []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		return false
	}
	mean := floats.Sum(x) / float64(len(x))
	for t, v := range x {
		c[t] = v - mean
	}
	return true
}

func (t Threshold) validate() error {
	if math.IsNaN(t.Theta) {
		return errors.New("threshold theta is NaN")
	}
	return nil
}

func (t Threshold) edges(rho []float64, defined []bool) []Edge {
	n := len(defined)
	var edges []Edge
	for a := range n {
		for b := a + 1; b < n; b++ {
			// A NaN rho (undefined) fails the comparison.
			if r := rho[a*n+b]; math.Abs(r) >= t.Theta {
				edges = append(edges, Edge{U: int32(a), V: int32(b), W: r})
			}
		}
	}
	return edges
}

func (k TopK) validate() error {
	if k.K < 1 {
		return fmt.Errorf("top-k k %d: need at least 1", k.K)
	}
	return nil
}

func (k TopK) edges(rho []float64, defined []bool) []Edge {
	n := len(defined)
	keep := make([]bool, n*n) // upper triangle marks the union
	partners := make([]int, 0, n)
	for a := range n {
		if !defined[a] {
			continue
		}
		partners = partners[:0]
		for b := range n {
			if b != a && defined[b] {
				partners = append(partners, b)
			}
		}
		// Stable sort keeps ascending index among equal |rho|.
		slices.SortStableFunc(partners, func(b, c int) int {
			return cmp.Compare(math.Abs(rho[a*n+c]), math.Abs(rho[a*n+b]))
		})
		for _, b := range partners[:min(k.K, len(partners))] {
			keep[min(a, b)*n+max(a, b)] = true
		}
	}
	var edges []Edge
	for a := range n {
		for b := a + 1; b < n; b++ {
			if keep[a*n+b] {
				edges = append(edges, Edge{U: int32(a), V: int32(b), W: rho[a*n+b]})
			}
		}
	}
	return edges
}

func (MST) validate() error { return nil }

// edges runs dense Prim in O(n²), the right shape for a complete graph.
func (MST) edges(rho []float64, defined []bool) []Edge {
	n := len(defined)
	// better reports whether the edge a–b beats c–d: higher rho, that is
	// shorter distance, then lexicographically smaller (U, V).
	better := func(a, b, c, d int) bool {
		r1, r2 := rho[a*n+b], rho[c*n+d]
		if r1 != r2 {
			return r1 > r2
		}
		u1, v1 := min(a, b), max(a, b)
		u2, v2 := min(c, d), max(c, d)
		return u1 < u2 || (u1 == u2 && v1 < v2)
	}
	inTree := make([]bool, n)
	link := make([]int, n) // link[v]: tree end of v's best edge, -1 for none
	for v := range link {
		link[v] = -1
	}
	root := slices.Index(defined, true)
	if root < 0 {
		return nil
	}
	var edges []Edge
	for add := root; add >= 0; {
		inTree[add] = true
		if p := link[add]; p >= 0 {
			edges = append(edges, newEdge(p, add))
			edges[len(edges)-1].W = rho[p*n+add]
		}
		next := -1
		for v := range n {
			if inTree[v] || !defined[v] {
				continue
			}
			if link[v] < 0 || better(add, v, link[v], v) {
				link[v] = add
			}
			if next < 0 || better(link[v], v, link[next], next) {
				next = v
			}
		}
		add = next
	}
	return edges
}
