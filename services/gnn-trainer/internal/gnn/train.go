package gnn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Epoch reports one training epoch. Losses and accuracies are computed in
// evaluation mode (no dropout) after the epoch's update, and the losses are
// the mean cross-entropy without the L2 term, so train and validation values
// are comparable. ValLoss and ValAcc are NaN when the split has no
// validation nodes.
type Epoch struct {
	N         int // 1-based
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64
	ValAcc    float64
	Duration  time.Duration
}

// History is the sequence of epochs a run went through.
type History struct {
	Epochs []Epoch
	// Best is the epoch whose weights the returned model holds (lowest
	// validation loss, or the last epoch without validation nodes); 0 means
	// the initial weights.
	Best int
	// StoppedEarly is set when patience ran out before Config.Epochs.
	StoppedEarly bool
}

// ErrDiverged is returned when the training loss stops being finite.
var ErrDiverged = errors.New("training diverged")

// pcgStream is the PCG stream constant; the state comes from Config.Seed.
const pcgStream = 0x9e3779b97f4a7c15

// trainer owns the normalised features, the network with its buffers and
// the optimiser state of one run.
type trainer struct {
	net    *network
	x      *mat.Dense
	y      []int
	split  Split
	wd     float64
	rng    *rand.Rand
	opt    *adam
	params [][]float64
	grads  [][]float64
}

// newTrainer validates the inputs, fits the normalisation on the training
// rows, builds the sparse operator and initialises the weights.
func newTrainer(g *Graph, split Split, cfg Config) (*trainer, *Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if err := g.validate(true); err != nil {
		return nil, nil, err
	}
	if err := split.validate(g.Y); err != nil {
		return nil, nil, err
	}
	classes := numClasses(g.Y)
	if classes < 2 {
		return nil, nil, fmt.Errorf("%w: need at least 2 classes, labels give %d", ErrInvalidGraph, classes)
	}
	_, f := g.X.Dims()
	mean, std := fitZScore(g.X, split.Train)
	p, pT, err := propagation(cfg.Model, g.N, g.Edges, g.Directed)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, pcgStream))
	kind := archKind(cfg.Model)
	dims := layerDims(cfg.Model, f, cfg.Hidden, classes)
	params := make([]*layerParams, len(dims)-1)
	for l := range params {
		params[l] = newLayerParams(kind, dims[l], dims[l+1])
		params[l].glorot(rng)
	}
	net := newNetwork(cfg.Model, p, pT, g.N, dims, params, cfg.Dropout, true)
	t := &trainer{
		net:    net,
		x:      applyZScore(g.X, mean, std),
		y:      g.Y,
		split:  split,
		wd:     cfg.WeightDecay,
		rng:    rng,
		params: paramSlices(params),
		grads:  paramSlices(net.grads),
	}
	t.opt = newAdam(cfg.LR, t.params)
	m := &Model{cfg: cfg, inDim: f, classes: classes, params: params, mean: mean, std: std}
	return t, m, nil
}

// step runs one forward/backward pass over the training nodes and one Adam
// update, returning the training objective (with dropout and L2).
func (t *trainer) step() float64 {
	loss := t.net.lossAndGrad(t.x, t.y, t.split.Train, t.wd, true, t.rng)
	t.opt.step(t.params, t.grads)
	return loss
}

// evaluate fills the loss and accuracy fields of e in evaluation mode.
func (t *trainer) evaluate(e *Epoch) {
	logits := t.net.forward(t.x, false, false, nil)
	e.TrainLoss = softmaxCE(logits, t.y, t.split.Train, nil)
	e.TrainAcc = argmaxAccuracy(logits, t.y, t.split.Train)
	e.ValLoss, e.ValAcc = math.NaN(), math.NaN()
	if len(t.split.Val) > 0 {
		e.ValLoss = softmaxCE(logits, t.y, t.split.Val, nil)
		e.ValAcc = argmaxAccuracy(logits, t.y, t.split.Val)
	}
}

// Train fits cfg.Model on the labelled nodes split.Train of g, using
// split.Val for early stopping, and returns the model holding the weights of
// the epoch with the lowest validation loss (the last epoch when split.Val is
// empty) with the history of all epochs. Features are z-scored with the mean
// and standard deviation of the training rows, stored in the model.
//
// onEpoch, when not nil, is called after every epoch; an error from it stops
// training. Train returns an error wrapping *FieldError, ErrInvalidGraph or
// ErrInvalidSplit for bad input (with a nil model). When ctx is cancelled,
// onEpoch fails, or the loss becomes non-finite (ErrDiverged), it returns the
// best model so far (so the caller can checkpoint it) together with an error
// wrapping context.Cause(ctx), the callback's error, or ErrDiverged.
func Train(ctx context.Context, g *Graph, split Split, cfg Config, onEpoch func(Epoch) error) (*Model, History, error) {
	t, m, err := newTrainer(g, split, cfg)
	if err != nil {
		return nil, History{}, fmt.Errorf("train: %w", err)
	}
	best := cloneSlices(t.params)
	restore := func() {
		for k, p := range t.params {
			copy(p, best[k])
		}
	}
	var h History
	bestLoss, wait := math.Inf(1), 0
	for n := 1; n <= cfg.Epochs; n++ {
		if ctx.Err() != nil {
			restore()
			return m, h, fmt.Errorf("train stopped before epoch %d: %w", n, context.Cause(ctx))
		}
		start := time.Now()
		if loss := t.step(); math.IsNaN(loss) || math.IsInf(loss, 0) {
			restore()
			return m, h, fmt.Errorf("epoch %d: loss %v: %w", n, loss, ErrDiverged)
		}
		e := Epoch{N: n}
		t.evaluate(&e)
		e.Duration = time.Since(start)
		h.Epochs = append(h.Epochs, e)
		if len(split.Val) == 0 || e.ValLoss < bestLoss {
			bestLoss, wait, h.Best = e.ValLoss, 0, n
			for k, p := range t.params {
				copy(best[k], p)
			}
		} else {
			wait++
		}
		if onEpoch != nil {
			if err := onEpoch(e); err != nil {
				restore()
				return m, h, fmt.Errorf("epoch %d callback: %w", n, err)
			}
		}
		if cfg.Patience > 0 && wait >= cfg.Patience {
			h.StoppedEarly = n < cfg.Epochs
			break
		}
	}
	restore()
	return m, h, nil
}

func cloneSlices(s [][]float64) [][]float64 {
	out := make([][]float64, len(s))
	for i, v := range s {
		out[i] = append([]float64(nil), v...)
	}
	return out
}

// argmaxAccuracy returns the share of rows in idx whose largest logit is at
// the true label (ties go to the lowest class).
func argmaxAccuracy(logits *mat.Dense, y, idx []int) float64 {
	if len(idx) == 0 {
		return math.NaN()
	}
	hits := 0
	for _, i := range idx {
		if argmax(logits.RawRowView(i)) == y[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(idx))
}

func argmax(row []float64) int {
	best := 0
	for c, v := range row {
		if v > row[best] {
			best = c
		}
	}
	return best
}
