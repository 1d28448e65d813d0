package trainer

import (
	"testing"

	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

func history(n, best int) gnn.History {
	h := gnn.History{Best: best}
	for i := 1; i <= n; i++ {
		h.Epochs = append(h.Epochs, gnn.Epoch{N: i, TrainLoss: 1 / float64(i), ValLoss: 2 / float64(i), ValAcc: 0.5})
	}
	return h
}

func TestCurveKeepsShortRunsWhole(t *testing.T) {
	c := curve(history(7, 3), MaxCurvePoints)
	if len(c) != 7 {
		t.Fatalf("%d points, want all 7 epochs", len(c))
	}
	if c[2].N != 3 || *c[2].TrainLoss != 1.0/3 || *c[2].ValLoss != 2.0/3 || *c[2].ValAcc != 0.5 {
		t.Fatalf("epoch 3: %+v", c[2])
	}
}

func TestCurveThinsLongRunsKeepingFirstBestLast(t *testing.T) {
	for _, tc := range []struct{ n, best int }{{5000, 1234}, {501, 2}, {1000, 1000}, {1000, 0}} {
		c := curve(history(tc.n, tc.best), MaxCurvePoints)
		if len(c) > MaxCurvePoints {
			t.Fatalf("%d epochs: %d points, want at most %d", tc.n, len(c), MaxCurvePoints)
		}
		if len(c) < MaxCurvePoints-1 {
			t.Fatalf("%d epochs: %d points, want close to %d", tc.n, len(c), MaxCurvePoints)
		}
		if c[0].N != 1 || c[len(c)-1].N != tc.n {
			t.Fatalf("%d epochs: first %d last %d, want 1 and %d", tc.n, c[0].N, c[len(c)-1].N, tc.n)
		}
		found := tc.best == 0
		for i, p := range c {
			if i > 0 && p.N <= c[i-1].N {
				t.Fatalf("%d epochs: epoch %d after %d, want increasing", tc.n, p.N, c[i-1].N)
			}
			found = found || p.N == tc.best
		}
		if !found {
			t.Fatalf("%d epochs: best epoch %d missing from the curve", tc.n, tc.best)
		}
	}
}
