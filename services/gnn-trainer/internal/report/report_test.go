package report

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

func history(withVal bool) gnn.History {
	var h gnn.History
	for n := 1; n <= 40; n++ {
		e := gnn.Epoch{
			N:         n,
			TrainLoss: 0.7 * math.Exp(-float64(n)/10),
			TrainAcc:  1 - 0.5*math.Exp(-float64(n)/8),
			ValLoss:   math.NaN(),
			ValAcc:    math.NaN(),
			Duration:  time.Millisecond,
		}
		if withVal {
			e.ValLoss = 0.5 + 0.002*(float64(n)-20)*(float64(n)-20)/10
			e.ValAcc = 0.8 - 0.001*math.Abs(float64(n)-20)
		}
		h.Epochs = append(h.Epochs, e)
	}
	h.Best = 20
	return h
}

func TestTrainingCurve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		withVal bool
	}{{"with validation", true}, {"train only", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := TrainingCurve(&buf, history(tc.withVal), "gcn"); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("output is not a PNG: %v", err)
			}
			// 8×4 in at vgimg's default 96 dpi.
			if got := img.Bounds().Size(); got.X != 768 || got.Y != 384 {
				t.Errorf("got %dx%d pixels, want 768x384", got.X, got.Y)
			}
			if dir := os.Getenv("REPORT_PNG_DIR"); dir != "" {
				if err := os.WriteFile(filepath.Join(dir, "curve-"+tc.name+".png"), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestTrainingCurveEmpty(t *testing.T) {
	if err := TrainingCurve(&bytes.Buffer{}, gnn.History{}, "x"); !errors.Is(err, ErrEmptyHistory) {
		t.Errorf("got %v, want ErrEmptyHistory", err)
	}
}
