// Package report renders training artefacts for people: a PNG of the
// learning curves of a gnn.History.
package report

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

// Size of the TrainingCurve image; at vgimg's default 96 dpi it is 768×384
// pixels.
const (
	Width  = 8 * vg.Inch
	Height = 4 * vg.Inch
)

// ErrEmptyHistory is returned when there is no epoch to plot.
var ErrEmptyHistory = errors.New("empty history")

var (
	trainColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	valColor   = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// TrainingCurve writes an 8×4 in PNG with two panels: train and validation
// loss per epoch (left) and train and validation accuracy (right), with a
// dashed line at the epoch whose weights were kept. Validation series are
// omitted when the run had no validation nodes (NaN values). It returns
// ErrEmptyHistory when h has no epochs, or the error of drawing or writing.
func TrainingCurve(w io.Writer, h gnn.History, title string) error {
	if len(h.Epochs) == 0 {
		return ErrEmptyHistory
	}
	loss, err := panel(h, title+" — loss", "cross-entropy", func(e gnn.Epoch) (float64, float64) { return e.TrainLoss, e.ValLoss })
	if err != nil {
		return err
	}
	acc, err := panel(h, title+" — accuracy", "accuracy", func(e gnn.Epoch) (float64, float64) { return e.TrainAcc, e.ValAcc })
	if err != nil {
		return err
	}
	acc.Y.Min, acc.Y.Max = 0, 1
	acc.Legend.Top = false // accuracy rises towards the top-right corner

	img := vgimg.New(Width, Height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	loss.Draw(tiles.At(dc, 0, 0))
	acc.Draw(tiles.At(dc, 1, 0))
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("write training curve png: %w", err)
	}
	return nil
}

// panel builds one plot with a train and (when present) a validation series.
func panel(h gnn.History, title, ylabel string, value func(gnn.Epoch) (train, val float64)) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	var train, val plotter.XYs
	for _, e := range h.Epochs {
		tr, va := value(e)
		if !math.IsNaN(tr) && !math.IsInf(tr, 0) {
			train = append(train, plotter.XY{X: float64(e.N), Y: tr})
		}
		if !math.IsNaN(va) && !math.IsInf(va, 0) {
			val = append(val, plotter.XY{X: float64(e.N), Y: va})
		}
	}
	for _, s := range []struct {
		name string
		xys  plotter.XYs
		c    color.Color
	}{{"train", train, trainColor}, {"validation", val, valColor}} {
		if len(s.xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(s.xys)
		if err != nil {
			return nil, fmt.Errorf("plot %s %s: %w", s.name, ylabel, err)
		}
		line.Color = s.c
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	if h.Best > 0 && len(train)+len(val) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, xy := range append(train, val...) {
			lo, hi = min(lo, xy.Y), max(hi, xy.Y)
		}
		marker, err := plotter.NewLine(plotter.XYs{{X: float64(h.Best), Y: lo}, {X: float64(h.Best), Y: hi}})
		if err != nil {
			return nil, fmt.Errorf("plot best-epoch marker: %w", err)
		}
		marker.Color = color.Gray{Y: 90}
		marker.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(marker)
		p.Legend.Add(fmt.Sprintf("kept (epoch %d)", h.Best), marker)
	}
	p.Legend.Top = true
	return p, nil
}
