package gnn

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// layerKind selects how a layer mixes a node with its neighbours.
type layerKind int

const (
	// kindLinear is out = in·W + b (no graph; logistic regression).
	kindLinear layerKind = iota
	// kindGCN is out = P·in·W + b with P = Â.
	kindGCN
	// kindSAGE is out = in·Wself + P·in·W + b with P the mean adjacency.
	kindSAGE
)

// layerParams are one layer's trainable parameters. wSelf is nil unless the
// layer is GraphSAGE.
type layerParams struct {
	w, wSelf *mat.Dense
	b        []float64
}

func newLayerParams(kind layerKind, in, out int) *layerParams {
	p := &layerParams{w: mat.NewDense(in, out, nil), b: make([]float64, out)}
	if kind == kindSAGE {
		p.wSelf = mat.NewDense(in, out, nil)
	}
	return p
}

// weights returns the weight matrices' backing slices (not the bias).
func (p *layerParams) weights() [][]float64 {
	s := [][]float64{p.w.RawMatrix().Data}
	if p.wSelf != nil {
		s = append(s, p.wSelf.RawMatrix().Data)
	}
	return s
}

// slices returns every parameter's backing slice in a fixed order.
func (p *layerParams) slices() [][]float64 { return append(p.weights(), p.b) }

// glorot fills the weights with Glorot/Xavier uniform values and zeroes the
// bias, drawing from rng in a fixed order.
func (p *layerParams) glorot(rng *rand.Rand) {
	for _, w := range p.weights() {
		r, c := p.w.Dims()
		limit := math.Sqrt(6 / float64(r+c))
		for i := range w {
			w[i] = (2*rng.Float64() - 1) * limit
		}
	}
	clear(p.b)
}

// graphConv is one layer with its scratch buffers, sized for n nodes.
//
// The product P·in·W can be evaluated as (P·in)·W ("aggregate first") or
// P·(in·W) ("transform first"). Aggregating first costs one sparse product of
// width in (plus one more in backward when the input gradient is needed);
// transforming first costs a forward and a backward sparse product of width
// out. The cheaper order is fixed at construction, so the first layer (no
// input gradient) aggregates the features once per epoch and the output layer
// works at the width of the class count.
type graphConv struct {
	kind     layerKind
	p, pT    *CSR
	in, out  int
	aggFirst bool
	agg      *mat.Dense // n×in: P·in, kept for backward (aggregate first)
	tmp      *mat.Dense // n×out: in·W in forward, Pᵀ·dOut in backward (transform first)
	tmpIn    *mat.Dense // n×in: dOut·Wᵀ before Pᵀ (aggregate first with input gradient)
}

func newGraphConv(kind layerKind, p, pT *CSR, n, in, out int, needIn bool) *graphConv {
	l := &graphConv{kind: kind, p: p, pT: pT, in: in, out: out}
	if kind == kindLinear {
		return l
	}
	aggCost, transCost := in, 2*out
	if needIn {
		aggCost = 2 * in
	}
	l.aggFirst = aggCost <= transCost
	if l.aggFirst {
		l.agg = mat.NewDense(n, in, nil)
		if needIn {
			l.tmpIn = mat.NewDense(n, in, nil)
		}
	} else {
		l.tmp = mat.NewDense(n, out, nil)
	}
	return l
}

// forward computes dst = layer(in).
func (l *graphConv) forward(dst, in *mat.Dense, prm *layerParams) {
	switch {
	case l.kind == kindLinear:
		gemm(false, false, in, prm.w, 0, dst)
	case l.aggFirst:
		l.p.Mul(l.agg, in)
		gemm(false, false, l.agg, prm.w, 0, dst)
	default:
		gemm(false, false, in, prm.w, 0, l.tmp)
		l.p.Mul(dst, l.tmp)
	}
	if prm.wSelf != nil {
		gemm(false, false, in, prm.wSelf, 1, dst)
	}
	addBias(dst, prm.b)
}

// backward overwrites grad with the parameter gradients for upstream gradient
// dOut and, when dIn is not nil, writes the input gradient into dIn. in and
// the layer's buffers must be those of the matching forward call.
func (l *graphConv) backward(in, dOut *mat.Dense, prm, grad *layerParams, dIn *mat.Dense) {
	colSums(grad.b, dOut)
	if prm.wSelf != nil {
		gemm(true, false, in, dOut, 0, grad.wSelf)
	}
	switch {
	case l.kind == kindLinear:
		gemm(true, false, in, dOut, 0, grad.w)
		if dIn != nil {
			gemm(false, true, dOut, prm.w, 0, dIn)
		}
	case l.aggFirst:
		gemm(true, false, l.agg, dOut, 0, grad.w)
		if dIn != nil {
			gemm(false, true, dOut, prm.w, 0, l.tmpIn)
			l.pT.Mul(dIn, l.tmpIn)
		}
	default:
		l.pT.Mul(l.tmp, dOut)
		gemm(true, false, in, l.tmp, 0, grad.w)
		if dIn != nil {
			gemm(false, true, l.tmp, prm.w, 0, dIn)
		}
	}
	if dIn != nil && prm.wSelf != nil {
		gemm(false, true, dOut, prm.wSelf, 1, dIn)
	}
}

// gemm computes c = op(a)·op(b) + beta·c with gonum's BLAS, without copying
// transposes.
func gemm(transA, transB bool, a, b *mat.Dense, beta float64, c *mat.Dense) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	blas64.Gemm(ta, tb, 1, a.RawMatrix(), b.RawMatrix(), beta, c.RawMatrix())
}

func addBias(dst *mat.Dense, b []float64) {
	m := dst.RawMatrix()
	for i := range m.Rows {
		row := m.Data[i*m.Stride : i*m.Stride+m.Cols]
		row = row[:len(b)]
		for j, v := range b {
			row[j] += v
		}
	}
}

func colSums(dst []float64, src *mat.Dense) {
	clear(dst)
	m := src.RawMatrix()
	for i := range m.Rows {
		row := m.Data[i*m.Stride : i*m.Stride+m.Cols]
		row = row[:len(dst)]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// reluForward sets dst = max(src, 0) elementwise.
func reluForward(dst, src *mat.Dense) {
	d, s := dst.RawMatrix().Data, src.RawMatrix().Data
	d = d[:len(s)]
	for i, v := range s {
		d[i] = max(v, 0)
	}
}

// reluBackward sets dst = dOut where pre > 0 and 0 elsewhere; dst may be dOut.
func reluBackward(dst, dOut, pre *mat.Dense) {
	d, g, z := dst.RawMatrix().Data, dOut.RawMatrix().Data, pre.RawMatrix().Data
	d, g = d[:len(z)], g[:len(z)]
	// Multiplying by a 0/1 step compiles without a branch, which matters:
	// the signs are close to random, so a branch would mispredict often.
	for i, v := range z {
		var step float64
		if v > 0 {
			step = 1
		}
		d[i] = g[i] * step
	}
}

// sampleDropout fills mask with inverted-dropout factors: 0 with probability
// p, 1/(1-p) otherwise. Each 64-bit draw yields two 32-bit uniforms, so p is
// resolved to 2^-32.
func sampleDropout(mask []float64, p float64, rng *rand.Rand) {
	keep := 1 / (1 - p)
	threshold := uint64(p * (1 << 32))
	i := 0
	for ; i+1 < len(mask); i += 2 {
		r := rng.Uint64()
		mask[i] = keepOrDrop(r&0xffffffff, threshold, keep)
		mask[i+1] = keepOrDrop(r>>32, threshold, keep)
	}
	if i < len(mask) {
		mask[i] = keepOrDrop(rng.Uint64()&0xffffffff, threshold, keep)
	}
}

// keepOrDrop returns keep when u >= threshold and 0 otherwise, without a
// branch (the outcome is random, so a branch would mispredict half the time).
func keepOrDrop(u, threshold uint64, keep float64) float64 {
	// Both are below 2^32, so the difference is negative exactly when u >= threshold.
	return keep * float64((threshold-u-1)>>63)
}

// applyMask sets dst = src ⊙ mask elementwise. As dropout is linear in its
// input for a fixed mask, the same function is its backward pass.
func applyMask(dst, src *mat.Dense, mask []float64) {
	d, s := dst.RawMatrix().Data, src.RawMatrix().Data
	d, mask = d[:len(s)], mask[:len(s)]
	for i, v := range s {
		d[i] = v * mask[i]
	}
}

// softmaxCE returns the mean softmax cross-entropy of logits over the rows in
// idx against labels y and, when dLogits is not nil, overwrites it with the
// gradient of that mean (zero outside idx).
func softmaxCE(logits *mat.Dense, y, idx []int, dLogits *mat.Dense) float64 {
	lm := logits.RawMatrix()
	var gm blas64.General
	if dLogits != nil {
		gm = dLogits.RawMatrix()
		clear(gm.Data[:(gm.Rows-1)*gm.Stride+gm.Cols])
	}
	if len(idx) == 0 {
		return 0
	}
	scale := 1 / float64(len(idx))
	loss := 0.0
	for _, i := range idx {
		row := lm.Data[i*lm.Stride : i*lm.Stride+lm.Cols]
		_, lse := logSumExp(row)
		loss += lse - row[y[i]]
		if dLogits != nil {
			g := gm.Data[i*gm.Stride : i*gm.Stride+gm.Cols]
			g = g[:len(row)]
			for c, v := range row {
				g[c] = math.Exp(v-lse) * scale
			}
			g[y[i]] -= scale
		}
	}
	return loss * scale
}

// logSumExp returns the row maximum and log Σ exp(row), computed stably.
func logSumExp(row []float64) (maxv, lse float64) {
	maxv = math.Inf(-1)
	for _, v := range row {
		maxv = max(maxv, v)
	}
	s := 0.0
	for _, v := range row {
		s += math.Exp(v - maxv)
	}
	return maxv, maxv + math.Log(s)
}

// softmaxRows writes the row-wise softmax of logits into dst.
func softmaxRows(dst, logits *mat.Dense) {
	lm, dm := logits.RawMatrix(), dst.RawMatrix()
	for i := range lm.Rows {
		row := lm.Data[i*lm.Stride : i*lm.Stride+lm.Cols]
		out := dm.Data[i*dm.Stride : i*dm.Stride+dm.Cols]
		_, lse := logSumExp(row)
		for c, v := range row {
			out[c] = math.Exp(v - lse)
		}
	}
}

// l2Penalty returns wd/2·Σw² over ws and, when grads is not nil, adds its
// gradient wd·w to the matching grads slices.
func l2Penalty(ws, grads [][]float64, wd float64) float64 {
	s := 0.0
	for k, w := range ws {
		for i, v := range w {
			s += v * v
			if grads != nil {
				grads[k][i] += wd * v
			}
		}
	}
	return wd / 2 * s
}
