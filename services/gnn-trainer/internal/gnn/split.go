package gnn

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Split lists the node indices used for training, validation and testing.
// The sets are disjoint and contain labelled nodes only; unlabelled nodes
// still take part in message passing.
type Split struct {
	Train, Val, Test []int
}

// ErrInvalidSplit is wrapped by every error about an inconsistent Split.
var ErrInvalidSplit = errors.New("invalid split")

// validate checks that every index is in range, labelled, and used once, and
// that Train is not empty.
func (s Split) validate(y []int) error {
	if len(s.Train) == 0 {
		return fmt.Errorf("%w: no training nodes", ErrInvalidSplit)
	}
	seen := make(map[int]string, len(s.Train)+len(s.Val)+len(s.Test))
	for _, part := range []struct {
		name string
		idx  []int
	}{{"train", s.Train}, {"val", s.Val}, {"test", s.Test}} {
		for _, i := range part.idx {
			if i < 0 || i >= len(y) {
				return fmt.Errorf("%w: %s node %d out of range [0,%d)", ErrInvalidSplit, part.name, i, len(y))
			}
			if y[i] < 0 {
				return fmt.Errorf("%w: %s node %d is unlabelled", ErrInvalidSplit, part.name, i)
			}
			if prev, ok := seen[i]; ok {
				return fmt.Errorf("%w: node %d in both %s and %s", ErrInvalidSplit, i, prev, part.name)
			}
			seen[i] = part.name
		}
	}
	return nil
}

// Cuts are the time boundaries of a chronological split: training nodes have
// Time < ValFrom, validation nodes ValFrom <= Time < TestFrom, test nodes
// Time >= TestFrom.
type Cuts struct {
	ValFrom, TestFrom int64
}

// ChronologicalSplit splits the labelled nodes by time so that every training
// node is strictly earlier than every validation node, which is strictly
// earlier than every test node. trainFrac and valFrac are target shares of
// the labelled nodes; the rest is test. Nodes sharing a timestamp never
// straddle a cut: a cut falls at the start of the timestamp group containing
// the target position, so a partition can come out smaller than its share
// (or empty). Indices in each part are in increasing time order, ties by
// index.
//
// It returns an error when the slices differ in length or the fractions are
// outside [0, 1] or sum above 1.
//
// Only labels are split: in the transductive setting later nodes' features
// still reach earlier ones through edges unless the caller builds the graph
// from data available at the training cut.
func ChronologicalSplit(times []int64, labelled []bool, trainFrac, valFrac float64) (Split, Cuts, error) {
	if len(times) != len(labelled) {
		return Split{}, Cuts{}, fmt.Errorf("%w: %d times for %d labelled flags", ErrInvalidSplit, len(times), len(labelled))
	}
	if !(trainFrac >= 0 && valFrac >= 0 && trainFrac+valFrac <= 1) {
		return Split{}, Cuts{}, fmt.Errorf("%w: fractions train %v val %v", ErrInvalidSplit, trainFrac, valFrac)
	}
	var idx []int
	for i, ok := range labelled {
		if ok {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case times[a] < times[b]:
			return -1
		case times[a] > times[b]:
			return 1
		}
		return 0
	})
	n := len(idx)
	cutAt := func(frac float64) int64 {
		k := int(math.Round(frac * float64(n)))
		if k >= n {
			if n == 0 {
				return math.MaxInt64
			}
			return times[idx[n-1]] + 1
		}
		return times[idx[k]]
	}
	cuts := Cuts{ValFrom: cutAt(trainFrac), TestFrom: cutAt(trainFrac + valFrac)}
	var s Split
	for _, i := range idx {
		switch t := times[i]; {
		case t < cuts.ValFrom:
			s.Train = append(s.Train, i)
		case t < cuts.TestFrom:
			s.Val = append(s.Val, i)
		default:
			s.Test = append(s.Test, i)
		}
	}
	return s, cuts, nil
}
