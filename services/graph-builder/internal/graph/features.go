package graph

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Bar is one candle. TakerBuyBase, QuoteVolume and Trades are zero when the
// source does not provide them; AggTrades, TradeBuyQty and TradeSellQty are
// optional per-candle aggregates of aggregated trades and zero when trades
// were not loaded.
type Bar struct {
	Time                      int64
	Open, High, Low, Close    float64
	Volume, QuoteVolume       float64
	Trades                    int64
	TakerBuyBase              float64
	AggTrades                 int64
	TradeBuyQty, TradeSellQty float64
}

// FeatureOptions configures Features. The zero value selects the defaults.
type FeatureOptions struct {
	// Horizons are the look-backs, in bars, of the log-return features.
	// Nil selects 1, 3 and 12.
	Horizons []int
	// Window is the length, in bars, of the volatility, volume z-score and
	// VWAP features. Zero selects 12.
	Window int
}

// FeatureSet holds per-bar node features and next-period labels.
//
// X has one row per bar, one column per name in Names. Row t is computed from
// bars[0..t] only. Rows before First lack the history some feature needs and
// hold NaN in those columns; they must not be used for training or
// inference.
//
// Labels[t] is 1 when bar t+1 closes above bar t and 0 when it closes at or
// below it; NextReturn[t] is log(Close[t+1]/Close[t]). The last bar has no
// next period: its label is -1 and its next return NaN.
type FeatureSet struct {
	Names      []string
	X          [][]float64
	First      int
	Labels     []int8
	NextReturn []float64
}

// Features computes node features for a candle series. With horizons h and
// window w (defaults 1, 3, 12 and 12) the columns are, in this order:
//
//   - ret_h: log(Close[t]/Close[t-h]) for each horizon;
//   - rv_w: realised volatility, the square root of the sum of the squared
//     one-bar log returns of the last w bars (not annualised);
//   - volume_z_w: (Volume[t]-mean)/sd against the w bars before t, sample
//     standard deviation, 0 when that window's volume is constant;
//   - log_trades: log1p(Trades), only when some bar has Trades > 0;
//   - taker_imbalance: 2·TakerBuyBase/Volume - 1, only when some bar has
//     TakerBuyBase > 0, and 0 for a bar without volume;
//   - vwap_dist_w: Close[t]/VWAP - 1 over the last w bars, where a bar's
//     notional is its QuoteVolume when it has one and its typical price
//     (High+Low+Close)/3 times Volume otherwise, and 0 when the window has no
//     volume;
//   - log_agg_trades and trade_imbalance: log1p(AggTrades) and
//     (TradeBuyQty-TradeSellQty)/(TradeBuyQty+TradeSellQty), the latter 0
//     without trades, only when some bar has AggTrades > 0.
//
// A feature the data does not carry is left out of Names rather than filled
// with zeros. Which optional columns appear is decided from the whole series,
// so it is a schema choice, not information about the future: every value in
// row t still depends on bars[0..t] only.
//
// It returns an error for a horizon below 1 or repeated, a window below 2, a
// price that is not positive and finite, or a volume, trade count or
// quantity that is negative or not finite.
func Features(bars []Bar, o FeatureOptions) (FeatureSet, error) {
	horizons, window, err := o.resolve()
	if err != nil {
		return FeatureSet{}, err
	}
	if err := checkBars(bars); err != nil {
		return FeatureSet{}, err
	}
	cs := &columns{bars: bars}
	cs.priceFeatures(horizons, window)
	cs.flowFeatures(window)

	n, width := len(bars), len(cs.cols)
	fs := FeatureSet{
		Names:      cs.names,
		X:          make([][]float64, n),
		First:      min(n, max(slices.Max(horizons), window)),
		Labels:     make([]int8, n),
		NextReturn: make([]float64, n),
	}
	flat := make([]float64, n*width)
	for t := range n {
		row := flat[t*width : (t+1)*width : (t+1)*width]
		for j, c := range cs.cols {
			row[j] = c[t]
		}
		fs.X[t] = row
		if t == n-1 {
			fs.Labels[t], fs.NextReturn[t] = -1, math.NaN()
			continue
		}
		if bars[t+1].Close > bars[t].Close {
			fs.Labels[t] = 1
		}
		fs.NextReturn[t] = math.Log(bars[t+1].Close / bars[t].Close)
	}
	return fs, nil
}

// columns accumulates feature columns over bars.
type columns struct {
	bars  []Bar
	names []string
	cols  [][]float64
}

// add appends the column name with value f(t) for every bar from warmup on
// and NaN before it. f must read bars[0..t] only.
func (cs *columns) add(name string, warmup int, f func(t int) float64) {
	c := make([]float64, len(cs.bars))
	for t := range c {
		if t < warmup {
			c[t] = math.NaN()
			continue
		}
		c[t] = f(t)
	}
	cs.names = append(cs.names, name)
	cs.cols = append(cs.cols, c)
}

// has reports whether any bar satisfies present, which decides whether an
// optional column exists.
func (cs *columns) has(present func(Bar) bool) bool {
	return slices.ContainsFunc(cs.bars, present)
}

// priceFeatures adds the returns and the realised volatility.
func (cs *columns) priceFeatures(horizons []int, window int) {
	bars := cs.bars
	for _, h := range horizons {
		cs.add(fmt.Sprintf("ret_%d", h), h, func(t int) float64 {
			return math.Log(bars[t].Close / bars[t-h].Close)
		})
	}
	r1 := make([]float64, len(bars)) // r1[t] is the return into bar t; r1[0] is unused
	for t := 1; t < len(bars); t++ {
		r1[t] = math.Log(bars[t].Close / bars[t-1].Close)
	}
	cs.add(fmt.Sprintf("rv_%d", window), window, func(t int) float64 {
		var ss float64
		for _, r := range r1[t-window+1 : t+1] {
			ss += r * r
		}
		return math.Sqrt(ss)
	})
}

// flowFeatures adds the volume, trade and VWAP features, each defined to be
// finite when a bar or window has no volume.
func (cs *columns) flowFeatures(window int) {
	bars := cs.bars
	prev := make([]float64, window)
	cs.add(fmt.Sprintf("volume_z_%d", window), window, func(t int) float64 {
		for i := range prev {
			prev[i] = bars[t-window+i].Volume
		}
		mean, sd := stat.MeanStdDev(prev, nil)
		if !(sd > 0) {
			return 0
		}
		return (bars[t].Volume - mean) / sd
	})
	if cs.has(func(b Bar) bool { return b.Trades > 0 }) {
		cs.add("log_trades", 0, func(t int) float64 { return math.Log1p(float64(bars[t].Trades)) })
	}
	if cs.has(func(b Bar) bool { return b.TakerBuyBase > 0 }) {
		cs.add("taker_imbalance", 0, func(t int) float64 {
			if bars[t].Volume == 0 {
				return 0
			}
			return 2*bars[t].TakerBuyBase/bars[t].Volume - 1
		})
	}
	cs.add(fmt.Sprintf("vwap_dist_%d", window), window-1, func(t int) float64 {
		var notional, volume float64
		for _, b := range bars[t-window+1 : t+1] {
			volume += b.Volume
			if b.QuoteVolume > 0 {
				notional += b.QuoteVolume
			} else {
				notional += (b.High + b.Low + b.Close) / 3 * b.Volume
			}
		}
		if volume == 0 {
			return 0
		}
		return bars[t].Close/(notional/volume) - 1
	})
	if cs.has(func(b Bar) bool { return b.AggTrades > 0 }) {
		cs.add("log_agg_trades", 0, func(t int) float64 { return math.Log1p(float64(bars[t].AggTrades)) })
		cs.add("trade_imbalance", 0, func(t int) float64 {
			buy, sell := bars[t].TradeBuyQty, bars[t].TradeSellQty
			if buy+sell == 0 {
				return 0
			}
			return (buy - sell) / (buy + sell)
		})
	}
}

// resolve applies the defaults and validates the options.
func (o FeatureOptions) resolve() (horizons []int, window int, err error) {
	horizons, window = o.Horizons, o.Window
	if horizons == nil {
		horizons = []int{1, 3, 12}
	}
	if window == 0 {
		window = 12
	}
	if len(horizons) == 0 {
		return nil, 0, errors.New("no return horizons")
	}
	for i, h := range horizons {
		if h < 1 {
			return nil, 0, fmt.Errorf("horizon %d: need at least 1 bar", h)
		}
		if slices.Contains(horizons[:i], h) {
			return nil, 0, fmt.Errorf("horizon %d given twice", h)
		}
	}
	if window < 2 {
		return nil, 0, fmt.Errorf("window %d: need at least 2 bars", window)
	}
	return horizons, window, nil
}

// checkBars rejects values that would turn features into NaN or ±Inf.
func checkBars(bars []Bar) error {
	for i, b := range bars {
		for _, p := range [...]struct {
			name  string
			value float64
		}{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close}} {
			if !positiveFinite(p.value) {
				return fmt.Errorf("bar %d (time %d): %s price %v is not positive and finite", i, b.Time, p.name, p.value)
			}
		}
		for _, q := range [...]struct {
			name  string
			value float64
		}{
			{"volume", b.Volume}, {"quote volume", b.QuoteVolume}, {"taker buy base", b.TakerBuyBase},
			{"trade buy quantity", b.TradeBuyQty}, {"trade sell quantity", b.TradeSellQty},
			{"trades", float64(b.Trades)}, {"aggregated trades", float64(b.AggTrades)},
		} {
			if !(q.value >= 0) || math.IsInf(q.value, 1) {
				return fmt.Errorf("bar %d (time %d): %s %v is negative or not finite", i, b.Time, q.name, q.value)
			}
		}
	}
	return nil
}
