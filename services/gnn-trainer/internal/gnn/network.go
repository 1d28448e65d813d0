package gnn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Architecture names accepted in Config.Model.
const (
	ArchGCN    = "gcn"
	ArchSAGE   = "sage"
	ArchLogReg = "logreg"
)

func archKind(arch string) layerKind {
	switch arch {
	case ArchGCN:
		return kindGCN
	case ArchSAGE:
		return kindSAGE
	default:
		return kindLinear
	}
}

// layerDims returns the widths from input to output: [F, H, C] for the graph
// models and [F, C] for logistic regression.
func layerDims(arch string, in, hidden, classes int) []int {
	if arch == ArchLogReg {
		return []int{in, classes}
	}
	return []int{in, hidden, classes}
}

// propagation builds the sparse operator of an architecture and its
// transpose (nil for logistic regression).
func propagation(arch string, n int, edges [][2]int32, directed bool) (p, pT *CSR, err error) {
	switch {
	case arch == ArchGCN && directed:
		p, err = DirectedNormalizedAdjacency(n, edges)
		if err != nil {
			return nil, nil, err
		}
		return p, p.Transpose(), nil
	case arch == ArchSAGE && directed:
		p, err = DirectedMeanAdjacency(n, edges)
		if err != nil {
			return nil, nil, err
		}
		return p, p.Transpose(), nil
	}
	switch arch {
	case ArchGCN:
		p, err = NormalizedAdjacency(n, edges)
		return p, p, err
	case ArchSAGE:
		p, err = MeanAdjacency(n, edges)
		if err != nil {
			return nil, nil, err
		}
		return p, p.Transpose(), nil
	case ArchLogReg:
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown architecture %q", arch)
}

// network is a stack of layers with ReLU between them and inverted dropout
// on the input of every layer, plus all the buffers one forward/backward pass
// needs, so an epoch allocates nothing large.
type network struct {
	layers  []*graphConv
	params  []*layerParams
	dropout float64

	z     []*mat.Dense // z[l]: output of layer l (logits for the last)
	a     []*mat.Dense // a[l]: ReLU(z[l]) for hidden layers
	h     []*mat.Dense // h[l]: dropped-out input of layer l (training only)
	masks [][]float64  // masks[l]: dropout factors for h[l]

	grads []*layerParams
	dz    []*mat.Dense // gradient w.r.t. z[l]
	dh    []*mat.Dense // gradient w.r.t. the input of layer l, l > 0
}

// newNetwork sizes a network for n nodes. Training buffers (dropout and
// gradients) are allocated only when train is set.
func newNetwork(arch string, p, pT *CSR, n int, dims []int, params []*layerParams, dropout float64, train bool) *network {
	kind := archKind(arch)
	nl := len(dims) - 1
	net := &network{params: params, dropout: dropout}
	for l := range nl {
		in, out := dims[l], dims[l+1]
		net.layers = append(net.layers, newGraphConv(kind, p, pT, n, in, out, train && l > 0))
		net.z = append(net.z, mat.NewDense(n, out, nil))
		var act *mat.Dense
		if l < nl-1 {
			act = mat.NewDense(n, out, nil)
		}
		net.a = append(net.a, act)
		if !train {
			continue
		}
		var h *mat.Dense
		var mask []float64
		if dropout > 0 {
			h, mask = mat.NewDense(n, in, nil), make([]float64, n*in)
		}
		net.h, net.masks = append(net.h, h), append(net.masks, mask)
		net.grads = append(net.grads, newLayerParams(kind, in, out))
		net.dz = append(net.dz, mat.NewDense(n, out, nil))
		var dh *mat.Dense
		if l > 0 {
			dh = mat.NewDense(n, in, nil)
		}
		net.dh = append(net.dh, dh)
	}
	return net
}

// forward runs the network on x and returns the logits (a network buffer).
// In training mode it applies dropout, drawing fresh masks from rng when
// resample is set and reusing the previous ones otherwise (gradient checks).
func (net *network) forward(x *mat.Dense, train, resample bool, rng *rand.Rand) *mat.Dense {
	in := x
	for l, layer := range net.layers {
		if train && net.dropout > 0 {
			if resample {
				sampleDropout(net.masks[l], net.dropout, rng)
			}
			applyMask(net.h[l], in, net.masks[l])
			in = net.h[l]
		}
		layer.forward(net.z[l], in, net.params[l])
		if net.a[l] != nil {
			reluForward(net.a[l], net.z[l])
			in = net.a[l]
		}
	}
	return net.z[len(net.z)-1]
}

// input returns what layer l consumed in the last training forward pass.
func (net *network) input(x *mat.Dense, l int) *mat.Dense {
	if net.dropout > 0 {
		return net.h[l]
	}
	if l == 0 {
		return x
	}
	return net.a[l-1]
}

// lossAndGrad runs a training forward pass and backpropagates the mean
// cross-entropy over idx plus the L2 term wd/2·‖W‖² on the first layer's
// weight matrices, leaving the gradients in net.grads. It returns the loss.
func (net *network) lossAndGrad(x *mat.Dense, y, idx []int, wd float64, resample bool, rng *rand.Rand) float64 {
	logits := net.forward(x, true, resample, rng)
	last := len(net.layers) - 1
	loss := softmaxCE(logits, y, idx, net.dz[last])
	for l := last; l >= 0; l-- {
		net.layers[l].backward(net.input(x, l), net.dz[l], net.params[l], net.grads[l], net.dh[l])
		if l == 0 {
			break
		}
		// dz[l-1] = dh[l] ⊙ mask[l] ⊙ 1[z[l-1] > 0]
		if net.dropout > 0 {
			applyMask(net.dh[l], net.dh[l], net.masks[l])
		}
		reluBackward(net.dz[l-1], net.dh[l], net.z[l-1])
	}
	loss += l2Penalty(net.params[0].weights(), net.grads[0].weights(), wd)
	return loss
}

// paramSlices lists the backing slices of every parameter (or gradient) in
// a fixed order, for Adam and for snapshots.
func paramSlices(ps []*layerParams) [][]float64 {
	var s [][]float64
	for _, p := range ps {
		s = append(s, p.slices()...)
	}
	return s
}
