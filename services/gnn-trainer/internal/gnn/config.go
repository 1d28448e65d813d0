package gnn

import (
	"errors"
	"fmt"
	"math"
)

// Config holds the hyper-parameters of a training run. Start from
// DefaultConfig and call Validate before use (Train does).
type Config struct {
	// Model is the architecture: "gcn", "sage", or "logreg" (set by
	// LogisticRegression).
	Model string `json:"model"`
	// Hidden is the width of the hidden layer (unused by "logreg").
	Hidden int `json:"hidden"`
	// Dropout is the probability of zeroing an input of each layer during
	// training, in [0, 1).
	Dropout float64 `json:"dropout"`
	// LR is Adam's learning rate.
	LR float64 `json:"lr"`
	// WeightDecay is the L2 coefficient applied, as in Kipf & Welling, to the
	// first layer's weight matrices only (not biases, not the output layer):
	// the loss gains WeightDecay/2·‖W₁‖², i.e. the gradient WeightDecay·W₁,
	// which matches PyTorch's Adam(weight_decay=WeightDecay) on those weights.
	WeightDecay float64 `json:"weight_decay"`
	// Epochs is the maximum number of epochs.
	Epochs int `json:"epochs"`
	// Patience stops training after that many epochs without a lower
	// validation loss; 0 disables early stopping (the best-validation weights
	// are still the ones returned).
	Patience int `json:"patience"`
	// Seed seeds the PCG generator behind initialisation and dropout.
	Seed uint64 `json:"seed"`
}

// DefaultConfig returns the settings of Kipf & Welling's GCN: GCN, hidden 16,
// dropout 0.5, learning rate 0.01, weight decay 5e-4, at most 200 epochs with
// patience 20, seed 0.
func DefaultConfig() Config {
	return Config{
		Model:       ArchGCN,
		Hidden:      16,
		Dropout:     0.5,
		LR:          0.01,
		WeightDecay: 5e-4,
		Epochs:      200,
		Patience:    20,
	}
}

// ErrInvalidConfig is wrapped by every FieldError.
var ErrInvalidConfig = errors.New("invalid config")

// FieldError names the Config field that failed validation.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid config: %s %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *FieldError) Unwrap() error { return ErrInvalidConfig }

// Validate returns a *FieldError for every field out of range, joined with
// errors.Join in field order, or nil. Use errors.As to read the first
// field's name.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if c.Model != ArchGCN && c.Model != ArchSAGE && c.Model != ArchLogReg {
		bad("Model", "must be %q, %q or %q, got %q", ArchGCN, ArchSAGE, ArchLogReg, c.Model)
	}
	if c.Hidden <= 0 && c.Model != ArchLogReg {
		bad("Hidden", "must be positive, got %d", c.Hidden)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		bad("Dropout", "must be in [0, 1), got %v", c.Dropout)
	}
	if !(c.LR > 0) || !finite(c.LR) {
		bad("LR", "must be positive and finite, got %v", c.LR)
	}
	if !(c.WeightDecay >= 0) || !finite(c.WeightDecay) {
		bad("WeightDecay", "must be non-negative and finite, got %v", c.WeightDecay)
	}
	if c.Epochs <= 0 {
		bad("Epochs", "must be positive, got %d", c.Epochs)
	}
	if c.Patience < 0 {
		bad("Patience", "must be non-negative, got %d", c.Patience)
	}
	return errors.Join(errs...)
}
