package gnn

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Every check below differentiates a scalar L = Σ R⊙op(inputs) for a fixed
// random R (so the upstream gradient is R) and compares the hand-written
// backward pass with central differences, on small random graphs.

func TestGradLayers(t *testing.T) {
	const n, in, out = 9, 4, 3
	for _, tc := range []struct {
		name     string
		kind     layerKind
		aggFirst bool
	}{
		{"gcn/aggregate-first", kindGCN, true},
		{"gcn/transform-first", kindGCN, false},
		{"sage/aggregate-first", kindSAGE, true},
		{"sage/transform-first", kindSAGE, false},
		{"linear", kindLinear, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := testRNG(7)
			edges := randEdges(rng, n, 14)
			var p, pT *CSR
			var err error
			switch tc.kind {
			case kindGCN:
				p, err = NormalizedAdjacency(n, edges)
				pT = p
			case kindSAGE:
				p, err = MeanAdjacency(n, edges)
				if err == nil {
					pT = p.Transpose()
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			l := &graphConv{kind: tc.kind, p: p, pT: pT, in: in, out: out, aggFirst: tc.aggFirst,
				agg: mat.NewDense(n, in, nil), tmp: mat.NewDense(n, out, nil), tmpIn: mat.NewDense(n, in, nil)}
			prm, grad := newLayerParams(tc.kind, in, out), newLayerParams(tc.kind, in, out)
			prm.glorot(rng)
			for i := range prm.b {
				prm.b[i] = rng.NormFloat64()
			}
			x, r := randDense(rng, n, in), randDense(rng, n, out)
			dst, dIn := mat.NewDense(n, out, nil), mat.NewDense(n, in, nil)
			loss := func() float64 {
				l.forward(dst, x, prm)
				return dot(dst, r)
			}
			loss()
			l.backward(x, r, prm, grad, dIn)
			checkGrad(t, "input", loss, x.RawMatrix().Data, dIn.RawMatrix().Data)
			checkGrad(t, "W", loss, prm.w.RawMatrix().Data, grad.w.RawMatrix().Data)
			checkGrad(t, "b", loss, prm.b, grad.b)
			if prm.wSelf != nil {
				checkGrad(t, "Wself", loss, prm.wSelf.RawMatrix().Data, grad.wSelf.RawMatrix().Data)
			}
		})
	}
}

func TestGradReLU(t *testing.T) {
	rng := testRNG(3)
	x, r := randDense(rng, 6, 5), randDense(rng, 6, 5)
	// Keep inputs away from the kink, where the derivative is undefined.
	for i, v := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = math.Copysign(math.Abs(v)+0.1, v)
	}
	out, dx := mat.NewDense(6, 5, nil), mat.NewDense(6, 5, nil)
	loss := func() float64 {
		reluForward(out, x)
		return dot(out, r)
	}
	reluBackward(dx, r, x)
	checkGrad(t, "relu", loss, x.RawMatrix().Data, dx.RawMatrix().Data)
}

func TestGradDropoutFixedMask(t *testing.T) {
	rng := testRNG(4)
	x, r := randDense(rng, 6, 5), randDense(rng, 6, 5)
	mask := make([]float64, 30)
	sampleDropout(mask, 0.4, rng)
	out, dx := mat.NewDense(6, 5, nil), mat.NewDense(6, 5, nil)
	loss := func() float64 {
		applyMask(out, x, mask)
		return dot(out, r)
	}
	applyMask(dx, r, mask)
	checkGrad(t, "dropout", loss, x.RawMatrix().Data, dx.RawMatrix().Data)
}

func TestGradSoftmaxCEMasked(t *testing.T) {
	rng := testRNG(5)
	const n, c = 8, 4
	logits := randDense(rng, n, c)
	y := []int{0, 3, 1, 2, 2, 0, 1, 3}
	idx := []int{1, 2, 5, 7} // the other rows must get zero gradient
	grad := mat.NewDense(n, c, nil)
	softmaxCE(logits, y, idx, grad)
	checkGrad(t, "softmax-ce", func() float64 { return softmaxCE(logits, y, idx, nil) },
		logits.RawMatrix().Data, grad.RawMatrix().Data)
	for _, i := range []int{0, 3, 4, 6} {
		for _, v := range grad.RawRowView(i) {
			if v != 0 {
				t.Errorf("row %d outside the mask has gradient %v", i, v)
			}
		}
	}
}

func TestGradL2(t *testing.T) {
	rng := testRNG(6)
	w1, w2 := randDense(rng, 3, 4).RawMatrix().Data, randDense(rng, 2, 2).RawMatrix().Data
	ws := [][]float64{w1, w2}
	grads := [][]float64{make([]float64, len(w1)), make([]float64, len(w2))}
	l2Penalty(ws, grads, 5e-2)
	f := func() float64 { return l2Penalty(ws, nil, 5e-2) }
	checkGrad(t, "l2/w1", f, w1, grads[0])
	checkGrad(t, "l2/w2", f, w2, grads[1])
}

// TestGradNetwork checks the whole two-layer objective (dropout with fixed
// masks, ReLU, both layers, masked cross-entropy, L2 on the first layer)
// against central differences for every parameter.
func TestGradNetwork(t *testing.T) {
	for _, tc := range []struct {
		arch     string
		directed bool
	}{{ArchGCN, false}, {ArchSAGE, false}, {ArchLogReg, false}, {ArchGCN, true}, {ArchSAGE, true}} {
		arch := tc.arch
		name := arch
		if tc.directed {
			name += "/directed"
		}
		t.Run(name, func(t *testing.T) {
			const n, f, hidden, classes = 12, 5, 4, 3
			rng := testRNG(11)
			edges := randEdges(rng, n, 20)
			p, pT, err := propagation(arch, n, edges, tc.directed)
			if err != nil {
				t.Fatal(err)
			}
			dims := layerDims(arch, f, hidden, classes)
			params := make([]*layerParams, len(dims)-1)
			for l := range params {
				params[l] = newLayerParams(archKind(arch), dims[l], dims[l+1])
				params[l].glorot(rng)
				for i := range params[l].b {
					params[l].b[i] = 0.1 * rng.NormFloat64()
				}
			}
			net := newNetwork(arch, p, pT, n, dims, params, 0.3, true)
			x := randDense(rng, n, f)
			y := make([]int, n)
			for i := range y {
				y[i] = rng.IntN(classes)
			}
			idx := []int{0, 2, 3, 5, 8, 11}
			net.lossAndGrad(x, y, idx, 0.05, true, rng) // draw the masks once
			loss := func() float64 { return net.lossAndGrad(x, y, idx, 0.05, false, nil) }
			loss()
			analytic := cloneSlices(paramSlices(net.grads))
			for k, prm := range paramSlices(params) {
				checkGrad(t, fmt.Sprintf("param %d", k), loss, prm, analytic[k])
			}
		})
	}
}
