package gnn

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Model is a trained classifier: architecture, weights and the feature
// normalisation fitted on the training rows. It is safe for concurrent
// Predict calls. It marshals to JSON with encoding/json and loads back with
// LoadModel; float64 values round-trip exactly.
type Model struct {
	cfg     Config
	inDim   int
	classes int
	params  []*layerParams
	mean    []float64
	std     []float64
}

// Config returns the configuration the model was trained with.
func (m *Model) Config() Config { return m.cfg }

// Classes returns the number of output classes.
func (m *Model) Classes() int { return m.classes }

// InDim returns the number of input features the model expects.
func (m *Model) InDim() int { return m.inDim }

// Predict returns, for every node of g, the class probabilities computed in
// evaluation mode (no dropout) after applying the stored normalisation. Only
// N, Edges and X are read. It returns an error wrapping ErrInvalidGraph when
// g is inconsistent or its feature count differs from the model's.
func (m *Model) Predict(g *Graph) ([][]float64, error) {
	if err := g.validate(false); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	if _, f := g.X.Dims(); f != m.inDim {
		return nil, fmt.Errorf("predict: %w: %d features, model expects %d", ErrInvalidGraph, f, m.inDim)
	}
	probs := m.predictDense(g)
	out := make([][]float64, g.N)
	for i := range out {
		out[i] = slices.Clone(probs.RawRowView(i))
	}
	return out, nil
}

// predictDense runs the evaluation forward pass on a validated graph.
func (m *Model) predictDense(g *Graph) *mat.Dense {
	p, pT, err := propagation(m.cfg.Model, g.N, g.Edges, g.Directed)
	if err != nil {
		// Unreachable: the graph and architecture were validated.
		panic(err)
	}
	dims := layerDims(m.cfg.Model, m.inDim, m.cfg.Hidden, m.classes)
	net := newNetwork(m.cfg.Model, p, pT, g.N, dims, m.params, 0, false)
	logits := net.forward(applyZScore(g.X, m.mean, m.std), false, false, nil)
	probs := mat.NewDense(g.N, m.classes, nil)
	softmaxRows(probs, logits)
	return probs
}

// Evaluate returns the model's metrics on each part of split. It returns an
// error wrapping ErrInvalidGraph or ErrInvalidSplit on inconsistent input.
func (m *Model) Evaluate(g *Graph, split Split) (Report, error) {
	if err := g.validate(true); err != nil {
		return Report{}, fmt.Errorf("evaluate: %w", err)
	}
	if err := split.validate(g.Y); err != nil {
		return Report{}, fmt.Errorf("evaluate: %w", err)
	}
	probs, err := m.Predict(g)
	if err != nil {
		return Report{}, fmt.Errorf("evaluate: %w", err)
	}
	return newReport(probs, g.Y, split, m.classes)
}

const modelFormatVersion = 1

type matrixJSON struct {
	Rows int       `json:"rows"`
	Cols int       `json:"cols"`
	Data []float64 `json:"data"`
}

type layerJSON struct {
	W     matrixJSON  `json:"w"`
	WSelf *matrixJSON `json:"w_self,omitempty"`
	B     []float64   `json:"b"`
}

type modelJSON struct {
	Version int         `json:"version"`
	Config  Config      `json:"config"`
	InDim   int         `json:"in_dim"`
	Classes int         `json:"classes"`
	Dims    []int       `json:"dims"`
	Layers  []layerJSON `json:"layers"`
	Mean    []float64   `json:"feature_mean"`
	Std     []float64   `json:"feature_std"`
}

func toMatrixJSON(d *mat.Dense) matrixJSON {
	r, c := d.Dims()
	return matrixJSON{Rows: r, Cols: c, Data: slices.Clone(d.RawMatrix().Data[:r*c])}
}

// MarshalJSON encodes the architecture, dimensions, weights, biases,
// normalisation and configuration. It fails on non-finite weights, which
// JSON cannot represent.
func (m *Model) MarshalJSON() ([]byte, error) {
	w := modelJSON{
		Version: modelFormatVersion,
		Config:  m.cfg,
		InDim:   m.inDim,
		Classes: m.classes,
		Dims:    layerDims(m.cfg.Model, m.inDim, m.cfg.Hidden, m.classes),
		Mean:    m.mean,
		Std:     m.std,
	}
	for _, p := range m.params {
		l := layerJSON{W: toMatrixJSON(p.w), B: p.b}
		if p.wSelf != nil {
			ws := toMatrixJSON(p.wSelf)
			l.WSelf = &ws
		}
		w.Layers = append(w.Layers, l)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote and checks that every shape
// matches the declared architecture.
func (m *Model) UnmarshalJSON(data []byte) error {
	var w modelJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if w.Version != modelFormatVersion {
		return fmt.Errorf("model format version %d, want %d", w.Version, modelFormatVersion)
	}
	if err := w.Config.Validate(); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if w.InDim <= 0 || w.Classes <= 0 || len(w.Mean) != w.InDim || len(w.Std) != w.InDim {
		return fmt.Errorf("model: in_dim %d, classes %d, %d means, %d stds", w.InDim, w.Classes, len(w.Mean), len(w.Std))
	}
	dims := layerDims(w.Config.Model, w.InDim, w.Config.Hidden, w.Classes)
	if len(w.Layers) != len(dims)-1 {
		return fmt.Errorf("model: %d layers, architecture %q needs %d", len(w.Layers), w.Config.Model, len(dims)-1)
	}
	kind := archKind(w.Config.Model)
	params := make([]*layerParams, len(w.Layers))
	for l, lj := range w.Layers {
		in, out := dims[l], dims[l+1]
		p := newLayerParams(kind, in, out)
		if err := fillMatrix(p.w, lj.W); err != nil {
			return fmt.Errorf("model layer %d w: %w", l, err)
		}
		if (lj.WSelf != nil) != (p.wSelf != nil) {
			return fmt.Errorf("model layer %d: w_self presence does not match %q", l, w.Config.Model)
		}
		if lj.WSelf != nil {
			if err := fillMatrix(p.wSelf, *lj.WSelf); err != nil {
				return fmt.Errorf("model layer %d w_self: %w", l, err)
			}
		}
		if len(lj.B) != out {
			return fmt.Errorf("model layer %d: %d biases, want %d", l, len(lj.B), out)
		}
		copy(p.b, lj.B)
		params[l] = p
	}
	*m = Model{cfg: w.Config, inDim: w.InDim, classes: w.Classes, params: params, mean: w.Mean, std: w.Std}
	return nil
}

func fillMatrix(dst *mat.Dense, src matrixJSON) error {
	r, c := dst.Dims()
	if src.Rows != r || src.Cols != c || len(src.Data) != r*c {
		return fmt.Errorf("shape %dx%d with %d values, want %dx%d", src.Rows, src.Cols, len(src.Data), r, c)
	}
	copy(dst.RawMatrix().Data, src.Data)
	return nil
}

// LoadModel reads a model written by json.Marshal. It returns an error when
// the JSON is malformed or its shapes are inconsistent.
func LoadModel(r io.Reader) (*Model, error) {
	var m Model
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return &m, nil
}
