package gnn

import (
	"context"
	"fmt"
)

// Majority is the constant baseline: every node gets the class frequencies
// of the training nodes, add-one smoothed over the classes present in y (so
// log loss stays finite for a class absent from training), and so is
// predicted as the most frequent training class. It returns the metrics on
// each part of split, or an error wrapping ErrInvalidSplit.
func Majority(y []int, split Split) (Report, error) {
	if err := split.validate(y); err != nil {
		return Report{}, fmt.Errorf("majority: %w", err)
	}
	classes := numClasses(y)
	prior := make([]float64, classes)
	for _, i := range split.Train {
		prior[y[i]]++
	}
	total := float64(len(split.Train) + classes)
	for c := range prior {
		prior[c] = (prior[c] + 1) / total
	}
	probs := make([][]float64, len(y))
	for i := range probs {
		probs[i] = prior
	}
	r, err := newReport(probs, y, split, classes)
	if err != nil {
		return Report{}, fmt.Errorf("majority: %w", err)
	}
	return r, nil
}

// LogisticRegression trains multinomial logistic regression on the node
// features alone (the edges are ignored), with the same z-score
// normalisation fitted on split.Train, Adam, L2 weight decay on the weights
// and early stopping on split.Val as Train. cfg.Model is replaced by
// "logreg" and cfg.Dropout by 0; cfg.Hidden is ignored. The returned Model
// predicts and serialises like a GNN's, so Model.Evaluate gives comparable
// metrics. Errors are those of Train.
func LogisticRegression(ctx context.Context, g *Graph, split Split, cfg Config, onEpoch func(Epoch) error) (*Model, History, error) {
	cfg.Model, cfg.Dropout = ArchLogReg, 0
	return Train(ctx, g, split, cfg, onEpoch)
}
