package trainer

import "github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"

// MaxCurvePoints bounds the training curve carried in the finished event's
// result: longer runs are thinned evenly, keeping the first, the best and
// the last epoch.
const MaxCurvePoints = 500

// CurvePoint is one epoch of the training curve in the finished event.
type CurvePoint struct {
	N         int      `json:"epoch"`
	TrainLoss *float64 `json:"train_loss"`
	TrainAcc  *float64 `json:"train_acc"`
	ValLoss   *float64 `json:"val_loss"`
	ValAcc    *float64 `json:"val_acc"`
}

// curve is h's epochs, at most limit of them (limit >= 3): evenly spaced
// over the run, always with the first, the best and the last.
func curve(h gnn.History, limit int) []CurvePoint {
	n := len(h.Epochs)
	point := func(e gnn.Epoch) CurvePoint {
		return CurvePoint{N: e.N, TrainLoss: finite(e.TrainLoss), TrainAcc: finite(e.TrainAcc), ValLoss: finite(e.ValLoss), ValAcc: finite(e.ValAcc)}
	}
	out := make([]CurvePoint, 0, min(n, limit))
	if n <= limit {
		for _, e := range h.Epochs {
			out = append(out, point(e))
		}
		return out
	}
	// limit-1 evenly spaced indices from 0 to n-1, plus the best epoch
	// when the spacing missed it.
	best := -1
	for i, e := range h.Epochs {
		if e.N == h.Best {
			best = i
		}
	}
	slots := limit - 1
	if best < 0 {
		slots = limit
	}
	prev := -1
	for k := 0; k < slots; k++ {
		i := k * (n - 1) / (slots - 1)
		if best > prev && best < i {
			out = append(out, point(h.Epochs[best]))
		}
		if i != prev {
			out = append(out, point(h.Epochs[i]))
		}
		prev = i
	}
	return out
}
