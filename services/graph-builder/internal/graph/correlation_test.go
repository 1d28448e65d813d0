package graph

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestLogReturns(t *testing.T) {
	tests := []struct {
		name  string
		close []float64
		want  []float64
	}{
		{name: "empty", close: nil, want: nil},
		{name: "single", close: []float64{100}, want: nil},
		{name: "values", close: []float64{100, 110, 99, 99}, want: []float64{math.Log(1.1), math.Log(99.0 / 110), 0}},
		{name: "non-positive price", close: []float64{100, 0, 100, -1, 100}, want: []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{name: "infinite price", close: []float64{100, math.Inf(1), 100}, want: []float64{math.NaN(), math.NaN()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LogReturns(tt.close)
			if !slices.EqualFunc(got, tt.want, sameFloat) || len(got) != len(tt.want) {
				t.Errorf("LogReturns(%v) = %v, want %v", tt.close, got, tt.want)
			}
		})
	}
}

// sameFloat is == that also matches NaN with NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// correlatedReturns returns n assets × length returns driven by one common
// factor, so correlations spread over (0, 1).
func correlatedReturns(r *rand.Rand, n, length int) [][]float64 {
	returns := make([][]float64, n)
	beta := make([]float64, n)
	for a := range n {
		returns[a] = make([]float64, length)
		beta[a] = 2 * r.Float64()
	}
	for t := range length {
		f := r.NormFloat64()
		for a := range n {
			returns[a][t] = 1e-3 * (beta[a]*f + r.NormFloat64())
		}
	}
	return returns
}

func TestCorrelationSnapshotsMatchGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n, length, window, step = 5, 203, 50, 7
	returns := correlatedReturns(r, n, length)
	snaps, err := CorrelationSnapshots(returns, window, step, Threshold{Theta: -1})
	if err != nil {
		t.Fatal(err)
	}
	if want := (length-window)/step + 1; len(snaps) != want {
		t.Fatalf("%d snapshots, want %d", len(snaps), want)
	}
	for s, snap := range snaps {
		if snap.Start != s*step || snap.End != s*step+window {
			t.Fatalf("snapshot %d covers [%d, %d), want [%d, %d)", s, snap.Start, snap.End, s*step, s*step+window)
		}
		// Theta -1 keeps every defined pair, so the graph is complete.
		if d := diffEdges(unweighted(snap.Edges), complete(n)); d != "" {
			t.Fatalf("snapshot %d: %s", s, d)
		}
		for _, e := range snap.Edges {
			want := stat.Correlation(returns[e.U][snap.Start:snap.End], returns[e.V][snap.Start:snap.End], nil)
			if math.Abs(e.W-want) > 1e-12 {
				t.Errorf("snapshot %d edge %d–%d: rho %.15f, want %.15f", s, e.U, e.V, e.W, want)
			}
		}
	}
}

// unweighted returns edges with W set to 1, to compare topology only.
func unweighted(edges []Edge) []Edge {
	out := slices.Clone(edges)
	for i := range out {
		out[i].W = 1
	}
	return out
}

func TestCorrelationSnapshotsUndefined(t *testing.T) {
	const window = 10
	r := rand.New(rand.NewPCG(23, 24))
	returns := correlatedReturns(r, 4, 40)
	// Asset 1 is flat over [0, 20) at a value whose computed mean over a
	// window is off in the last bit, which leaves its centred returns tiny
	// but not zero; asset 3 has a NaN at 25, so windows covering it lose
	// asset 3.
	const flat = 0.0035
	for t := range 20 {
		returns[1][t] = flat
	}
	returns[3][25] = math.NaN()
	methods := map[string]Method{"threshold": Threshold{Theta: -1}, "topk": TopK{K: 3}, "mst": MST{}}
	for name, m := range methods {
		t.Run(name, func(t *testing.T) {
			snaps, err := CorrelationSnapshots(returns, window, 5, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, snap := range snaps {
				undefined := map[int32]bool{1: snap.End <= 20, 3: snap.Start <= 25 && 25 < snap.End}
				defined := 4
				for _, u := range undefined {
					if u {
						defined--
					}
				}
				for _, e := range snap.Edges {
					if math.IsNaN(e.W) || e.W < -1 || e.W > 1 {
						t.Errorf("[%d, %d): edge %v has rho outside [-1, 1]", snap.Start, snap.End, e)
					}
					if undefined[e.U] || undefined[e.V] {
						t.Errorf("[%d, %d): edge %v touches an asset with undefined correlation", snap.Start, snap.End, e)
					}
				}
				if name == "mst" && len(snap.Edges) != defined-1 {
					t.Errorf("[%d, %d): MST has %d edges, want %d", snap.Start, snap.End, len(snap.Edges), defined-1)
				}
				if name != "mst" && len(snap.Edges) != defined*(defined-1)/2 {
					t.Errorf("[%d, %d): %d edges, want all %d defined pairs", snap.Start, snap.End, len(snap.Edges), defined*(defined-1)/2)
				}
			}
		})
	}
}

// randomRho returns a symmetric n×n matrix with unit diagonal; with few
// levels many entries tie.
func randomRho(r *rand.Rand, n, levels int) []float64 {
	rho := make([]float64, n*n)
	for a := range n {
		rho[a*n+a] = 1
		for b := a + 1; b < n; b++ {
			v := 2*float64(r.IntN(levels))/float64(levels-1) - 1
			rho[a*n+b], rho[b*n+a] = v, v
		}
	}
	return rho
}

func allDefined(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func TestThresholdSelectsByAbsoluteValue(t *testing.T) {
	rho := []float64{
		1, 0.5, -0.7, 0.2,
		0.5, 1, 0.69, -0.5,
		-0.7, 0.69, 1, 0,
		0.2, -0.5, 0, 1,
	}
	got := Threshold{Theta: 0.5}.edges(rho, allDefined(4))
	want := []Edge{{0, 1, 0.5}, {0, 2, -0.7}, {1, 2, 0.69}, {1, 3, -0.5}}
	if d := diffEdges(got, want); d != "" {
		t.Error(d)
	}
}

func TestTopKKnown(t *testing.T) {
	// Asset 3's two partners tie at |rho| 0.3: the lower index, 0, wins.
	rho := []float64{
		1, 0.9, 0.1, 0.3,
		0.9, 1, -0.8, 0.2,
		0.1, -0.8, 1, -0.3,
		0.3, 0.2, -0.3, 1,
	}
	got := TopK{K: 1}.edges(rho, allDefined(4))
	want := []Edge{{0, 1, 0.9}, {0, 3, 0.3}, {1, 2, -0.8}}
	if d := diffEdges(got, want); d != "" {
		t.Error(d)
	}
}

// TestTopKDefinition checks TopK against its definition: a–b is an edge
// exactly when b ranks within a's top K or a within b's, where rank counts
// the partners that are strictly stronger or equally strong and lower.
func TestTopKDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for range 300 {
		n := 1 + r.IntN(9)
		k := 1 + r.IntN(n)
		rho := randomRho(r, n, 5)
		defined := allDefined(n)
		for a := range defined {
			defined[a] = r.IntN(6) > 0
		}
		rank := func(a, b int) int {
			c := 0
			for o := range n {
				if o == a || o == b || !defined[o] {
					continue
				}
				if x, y := math.Abs(rho[a*n+o]), math.Abs(rho[a*n+b]); x > y || (x == y && o < b) {
					c++
				}
			}
			return c
		}
		var want []Edge
		for a := range n {
			for b := a + 1; b < n; b++ {
				if defined[a] && defined[b] && (rank(a, b) < k || rank(b, a) < k) {
					want = append(want, Edge{int32(a), int32(b), rho[a*n+b]})
				}
			}
		}
		got := TopK{K: k}.edges(rho, defined)
		sortEdges(got, n)
		if d := diffEdges(got, want); d != "" {
			t.Fatalf("n=%d k=%d: %s", n, k, d)
		}
	}
}

// mantegna is the distance the MST minimises.
func mantegna(rho float64) float64 { return math.Sqrt(2 * (1 - rho)) }

func treeLength(edges []Edge) float64 {
	var d float64
	for _, e := range edges {
		d += mantegna(e.W)
	}
	return d
}

// bruteForceMST tries every (n-1)-subset of the complete graph and returns
// the smallest total Mantegna distance of a spanning tree.
func bruteForceMST(rho []float64, n int) float64 {
	all := complete(n)
	best := math.Inf(1)
	var pick func(from int, chosen []Edge)
	pick = func(from int, chosen []Edge) {
		if len(chosen) == n-1 {
			if spans(chosen, n) {
				e := slices.Clone(chosen)
				for i := range e {
					e[i].W = rho[int(e[i].U)*n+int(e[i].V)]
				}
				best = min(best, treeLength(e))
			}
			return
		}
		for i := from; i < len(all); i++ {
			pick(i+1, append(chosen, all[i]))
		}
	}
	pick(0, nil)
	return best
}

// spans reports whether edges connect all n nodes.
func spans(edges []Edge, n int) bool {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	components := n
	for _, e := range edges {
		a, b := find(int(e.U)), find(int(e.V))
		if a != b {
			parent[a] = b
			components--
		}
	}
	return components == 1
}

func TestMSTIsMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for trial := range 200 {
		n := 1 + trial%6
		rho := randomRho(r, n, 1000)
		if trial%3 == 0 {
			rho = randomRho(r, n, 3) // heavy ties
		}
		got := MST{}.edges(rho, allDefined(n))
		if len(got) != max(0, n-1) || (n > 1 && !spans(got, n)) {
			t.Fatalf("n=%d: %v is not a spanning tree", n, got)
		}
		if n < 2 {
			continue
		}
		if got, want := treeLength(got), bruteForceMST(rho, n); math.Abs(got-want) > 1e-12 {
			t.Fatalf("n=%d: tree length %v, minimum %v", n, got, want)
		}
	}
}

// kruskal is the reference MST under the same total edge order.
func kruskal(rho []float64, n int) []Edge {
	all := complete(n)
	for i := range all {
		all[i].W = rho[int(all[i].U)*n+int(all[i].V)]
	}
	slices.SortFunc(all, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(b.W, a.W), cmp.Compare(a.U, b.U), cmp.Compare(a.V, b.V))
	})
	var tree []Edge
	for _, e := range all {
		if !closesCycle(tree, e, n) {
			tree = append(tree, e)
		}
	}
	sortEdges(tree, n)
	return tree
}

// closesCycle reports whether e joins two nodes already connected by tree.
func closesCycle(tree []Edge, e Edge, n int) bool {
	adj := make([][]int, n)
	for _, t := range tree {
		adj[t.U] = append(adj[t.U], int(t.V))
		adj[t.V] = append(adj[t.V], int(t.U))
	}
	seen := make([]bool, n)
	stack := []int{int(e.U)}
	seen[e.U] = true
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range adj[v] {
			if !seen[w] {
				seen[w] = true
				stack = append(stack, w)
			}
		}
	}
	return seen[e.V]
}

func TestMSTTieBreakingMatchesKruskal(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for range 300 {
		n := 2 + r.IntN(10)
		rho := randomRho(r, n, 3)
		got := MST{}.edges(rho, allDefined(n))
		sortEdges(got, n)
		if d := diffEdges(got, kruskal(rho, n)); d != "" {
			t.Fatalf("n=%d: %s", n, d)
		}
	}
}

func TestCorrelationSnapshotsErrors(t *testing.T) {
	ok := [][]float64{{1, 2, 3}, {3, 1, 2}}
	tests := []struct {
		name    string
		returns [][]float64
		window  int
		step    int
		method  Method
	}{
		{name: "window too small", returns: ok, window: 1, step: 1, method: MST{}},
		{name: "step too small", returns: ok, window: 2, step: 0, method: MST{}},
		{name: "nil method", returns: ok, window: 2, step: 1},
		{name: "ragged", returns: [][]float64{{1, 2, 3}, {1, 2}}, window: 2, step: 1, method: MST{}},
		{name: "k zero", returns: ok, window: 2, step: 1, method: TopK{}},
		{name: "theta NaN", returns: ok, window: 2, step: 1, method: Threshold{Theta: math.NaN()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := CorrelationSnapshots(tt.returns, tt.window, tt.step, tt.method); err == nil {
				t.Error("no error")
			}
		})
	}
	snaps, err := CorrelationSnapshots(ok, 4, 1, MST{})
	if err != nil || len(snaps) != 0 {
		t.Errorf("window longer than the series: %v, %v; want no snapshots and no error", snaps, err)
	}
}
