package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomBar returns a bar with every field populated, following prev's
// close.
func randomBar(r *rand.Rand, prevClose float64, time int64) Bar {
	c := prevClose * math.Exp(0.01*r.NormFloat64())
	v := 10 * r.ExpFloat64()
	buy := r.Float64() * 5
	return Bar{
		Time: time, Open: prevClose, High: max(prevClose, c) * 1.001, Low: min(prevClose, c) * 0.999, Close: c,
		Volume: v, QuoteVolume: v * c, Trades: 1 + r.Int64N(500), TakerBuyBase: v * r.Float64(),
		AggTrades: 1 + r.Int64N(300), TradeBuyQty: buy, TradeSellQty: r.Float64() * 5,
	}
}

func randomBars(r *rand.Rand, n int) []Bar {
	bars := make([]Bar, n)
	c := 100.0
	for t := range bars {
		bars[t] = randomBar(r, c, int64(t)*300_000)
		c = bars[t].Close
	}
	return bars
}

// ohlcv strips the optional fields, as in the multi-asset fixture.
func ohlcv(bars []Bar) []Bar {
	out := make([]Bar, len(bars))
	for i, b := range bars {
		out[i] = Bar{Time: b.Time, Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume}
	}
	return out
}

func TestFeatureNames(t *testing.T) {
	bars := randomBars(rand.New(rand.NewPCG(31, 32)), 30)
	tests := []struct {
		name string
		bars []Bar
		want []string
	}{
		{
			name: "all fields",
			bars: bars,
			want: []string{"ret_1", "ret_3", "ret_12", "rv_12", "volume_z_12", "log_trades", "taker_imbalance", "vwap_dist_12", "log_agg_trades", "trade_imbalance"},
		},
		{name: "ohlcv only", bars: ohlcv(bars), want: []string{"ret_1", "ret_3", "ret_12", "rv_12", "volume_z_12", "vwap_dist_12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := Features(tt.bars, FeatureOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fs.Names, tt.want) {
				t.Errorf("Names = %v, want %v", fs.Names, tt.want)
			}
			if fs.First != 12 {
				t.Errorf("First = %d, want 12", fs.First)
			}
			for i, row := range fs.X {
				if len(row) != len(tt.want) {
					t.Fatalf("row %d has %d columns, want %d", i, len(row), len(tt.want))
				}
			}
		})
	}
}

func TestFeatureValues(t *testing.T) {
	closes := []float64{100, 110, 99, 99, 121}
	volumes := []float64{1, 2, 3, 3, 5}
	bars := make([]Bar, len(closes))
	for i, c := range closes {
		// High = Low = Close makes the typical price the close.
		bars[i] = Bar{Time: int64(i), Open: c, High: c, Low: c, Close: c, Volume: volumes[i]}
	}
	fs, err := Features(bars, FeatureOptions{Horizons: []int{1, 2}, Window: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ret_1", "ret_2", "rv_2", "volume_z_2", "vwap_dist_2"}; !slices.Equal(fs.Names, want) {
		t.Fatalf("Names = %v, want %v", fs.Names, want)
	}
	nan, sd := math.NaN(), math.Sqrt(0.5)
	want := [][]float64{
		{nan, nan, nan, nan, nan},
		{math.Log(1.1), nan, nan, nan, 110/((100*1+110*2)/3.0) - 1},
		{math.Log(99.0 / 110), math.Log(0.99), math.Hypot(math.Log(1.1), math.Log(99.0/110)), (3 - 1.5) / sd, 99/((110*2+99*3)/5.0) - 1},
		{0, math.Log(99.0 / 110), math.Abs(math.Log(99.0 / 110)), (3 - 2.5) / sd, 0},
		{math.Log(121.0 / 99), math.Log(121.0 / 99), math.Log(121.0 / 99), 0, 121/((99*3+121*5)/8.0) - 1},
	}
	for i := range want {
		for j := range want[i] {
			got, w := fs.X[i][j], want[i][j]
			if !(sameFloat(got, w) || math.Abs(got-w) < 1e-12) {
				t.Errorf("X[%d][%s] = %v, want %v", i, fs.Names[j], got, w)
			}
		}
	}
	if fs.First != 2 {
		t.Errorf("First = %d, want 2", fs.First)
	}
	if want := []int8{1, 0, 0, 1, -1}; !slices.Equal(fs.Labels, want) {
		t.Errorf("Labels = %v, want %v", fs.Labels, want)
	}
	wantNext := []float64{math.Log(1.1), math.Log(99.0 / 110), 0, math.Log(121.0 / 99), nan}
	if !slices.EqualFunc(fs.NextReturn, wantNext, func(a, b float64) bool { return sameFloat(a, b) || math.Abs(a-b) < 1e-15 }) {
		t.Errorf("NextReturn = %v, want %v", fs.NextReturn, wantNext)
	}
}

func TestFeatureVWAPUsesQuoteVolume(t *testing.T) {
	bars := []Bar{
		{Open: 10, High: 12, Low: 9, Close: 11, Volume: 2, QuoteVolume: 21},
		// No quote volume: this bar's notional falls back to the typical price.
		{Open: 11, High: 13, Low: 10, Close: 12, Volume: 3},
	}
	fs, err := Features(bars, FeatureOptions{Horizons: []int{1}, Window: 2})
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(fs.Names, "vwap_dist_2")
	want := 12/((21+(13+10+12)/3.0*3)/5) - 1
	if got := fs.X[1][col]; math.Abs(got-want) > 1e-12 {
		t.Errorf("vwap_dist_2 = %v, want %v", got, want)
	}
}

func TestFeaturesZeroVolumeStayFinite(t *testing.T) {
	bars := randomBars(rand.New(rand.NewPCG(33, 34)), 40)
	for i := range bars {
		if i != 5 { // bar 5 keeps its flows so that the optional columns exist
			bars[i].Volume, bars[i].QuoteVolume, bars[i].TakerBuyBase = 0, 0, 0
			bars[i].TradeBuyQty, bars[i].TradeSellQty = 0, 0
		}
	}
	fs, err := Features(bars, FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Names) != 10 {
		t.Fatalf("Names = %v, want all 10 features", fs.Names)
	}
	for i := fs.First; i < len(fs.X); i++ {
		for j, v := range fs.X[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("X[%d][%s] = %v", i, fs.Names[j], v)
			}
		}
	}
}

// TestFeaturesNoLookAhead rewrites every bar after t and checks that rows
// 0..t and the labels before t do not move.
func TestFeaturesNoLookAhead(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for trial := range 200 {
		n := 1 + r.IntN(60)
		bars := randomBars(r, n)
		if trial%2 == 1 {
			bars = ohlcv(bars)
		}
		opts := FeatureOptions{Horizons: []int{1, 2, 5}, Window: 2 + r.IntN(6)}
		before, err := Features(bars, opts)
		if err != nil {
			t.Fatal(err)
		}
		cut := r.IntN(n)
		changed := slices.Clone(bars)
		for i := cut + 1; i < n; i++ {
			changed[i] = randomBar(r, changed[i-1].Close, bars[i].Time)
			if trial%2 == 1 {
				changed[i] = ohlcv(changed[i : i+1])[0]
			}
		}
		after, err := Features(changed, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(before.Names, after.Names) || before.First != after.First {
			t.Fatalf("schema changed: %v/%d, then %v/%d", before.Names, before.First, after.Names, after.First)
		}
		for i := 0; i <= cut; i++ {
			if !slices.EqualFunc(before.X[i], after.X[i], sameFloat) {
				t.Fatalf("n=%d: changing bars after %d changed X[%d]: %v, then %v", n, cut, i, before.X[i], after.X[i])
			}
		}
		if !slices.Equal(before.Labels[:cut], after.Labels[:cut]) {
			t.Fatalf("changing bars after %d changed labels before it", cut)
		}
	}
}

// TestFeatureLabelFollowsNextBar moves only bar t+1's close and checks that
// label t follows it while row t does not.
func TestFeatureLabelFollowsNextBar(t *testing.T) {
	bars := randomBars(rand.New(rand.NewPCG(37, 38)), 30)
	const at = 20
	for _, tt := range []struct {
		factor float64
		label  int8
	}{{1.01, 1}, {0.99, 0}, {1, 0}} {
		moved := slices.Clone(bars)
		moved[at+1].Close = bars[at].Close * tt.factor
		moved[at+1].High = max(moved[at+1].High, moved[at+1].Close)
		moved[at+1].Low = min(moved[at+1].Low, moved[at+1].Close)
		fs, err := Features(moved, FeatureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fs.Labels[at] != tt.label {
			t.Errorf("next close ×%v: label %d, want %d", tt.factor, fs.Labels[at], tt.label)
		}
		if want := math.Log(moved[at+1].Close / moved[at].Close); fs.NextReturn[at] != want {
			t.Errorf("next close ×%v: next return %v, want %v", tt.factor, fs.NextReturn[at], want)
		}
		ref, _ := Features(bars, FeatureOptions{})
		if !slices.EqualFunc(fs.X[at], ref.X[at], sameFloat) {
			t.Errorf("next close ×%v changed X[%d]", tt.factor, at)
		}
	}
}

func TestFeaturesShortSeries(t *testing.T) {
	bars := randomBars(rand.New(rand.NewPCG(39, 40)), 5)
	fs, err := Features(bars, FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fs.First != 5 || len(fs.X) != 5 || fs.Labels[4] != -1 {
		t.Errorf("First %d, %d rows, last label %d; want 5, 5, -1", fs.First, len(fs.X), fs.Labels[4])
	}
	fs, err = Features(nil, FeatureOptions{})
	if err != nil || len(fs.X) != 0 || fs.First != 0 {
		t.Errorf("no bars: %+v, %v", fs, err)
	}
}

func TestFeaturesErrors(t *testing.T) {
	good := randomBars(rand.New(rand.NewPCG(41, 42)), 3)
	withBar := func(i int, f func(*Bar)) []Bar {
		b := slices.Clone(good)
		f(&b[i])
		return b
	}
	tests := []struct {
		name string
		bars []Bar
		opts FeatureOptions
	}{
		{name: "zero horizon", bars: good, opts: FeatureOptions{Horizons: []int{0}}},
		{name: "repeated horizon", bars: good, opts: FeatureOptions{Horizons: []int{3, 3}}},
		{name: "empty horizons", bars: good, opts: FeatureOptions{Horizons: []int{}}},
		{name: "window one", bars: good, opts: FeatureOptions{Window: 1}},
		{name: "zero close", bars: withBar(1, func(b *Bar) { b.Close = 0 })},
		{name: "NaN high", bars: withBar(2, func(b *Bar) { b.High = math.NaN() })},
		{name: "negative volume", bars: withBar(0, func(b *Bar) { b.Volume = -1 })},
		{name: "infinite quote volume", bars: withBar(0, func(b *Bar) { b.QuoteVolume = math.Inf(1) })},
		{name: "negative trades", bars: withBar(0, func(b *Bar) { b.Trades = -1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Features(tt.bars, tt.opts); err == nil {
				t.Error("no error")
			}
		})
	}
}
