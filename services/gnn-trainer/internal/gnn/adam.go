package gnn

import "math"

// adam is the Adam optimiser (Kingma & Ba 2015) with β1 0.9, β2 0.999 and
// ε 1e-8, in PyTorch's form: θ -= lr·m̂/(√v̂+ε) with bias-corrected moments.
// Weight decay is not applied here; it enters the loss as an L2 term.
type adam struct {
	lr   float64
	t    int
	m, v [][]float64
}

const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

func newAdam(lr float64, params [][]float64) *adam {
	a := &adam{lr: lr}
	for _, p := range params {
		a.m = append(a.m, make([]float64, len(p)))
		a.v = append(a.v, make([]float64, len(p)))
	}
	return a
}

// step updates params in place from grads (same shapes as at construction).
func (a *adam) step(params, grads [][]float64) {
	a.t++
	c1 := 1 - math.Pow(adamBeta1, float64(a.t))
	c2 := 1 - math.Pow(adamBeta2, float64(a.t))
	for k, p := range params {
		g, m, v := grads[k], a.m[k], a.v[k]
		g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
		for i := range p {
			m[i] = adamBeta1*m[i] + (1-adamBeta1)*g[i]
			v[i] = adamBeta2*v[i] + (1-adamBeta2)*g[i]*g[i]
			p[i] -= a.lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + adamEps)
		}
	}
}
