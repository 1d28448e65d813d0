package binancesim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

const (
	msPerMinute = int64(60_000)
	msPerDay    = int64(86_400_000)
	minutesDay  = 1440
	// cacheDays bounds the per-(symbol, day) trade and minute-candle caches.
	cacheDays = 8
)

// SymbolConfig describes one simulated asset.
type SymbolConfig struct {
	Symbol     string  // e.g. "BTCUSDT"
	BaseAsset  string  // e.g. "BTC"
	QuoteAsset string  // e.g. "USDT"
	StartPrice float64 // price on MarketConfig.Start
	AnnualVol  float64 // annualised volatility of log returns, e.g. 0.6
	// AggTradesPerSecond is the mean number of aggregate trades per second over a day. The intraday pattern makes the
	// rate about 1.5x higher around 14:30 UTC than around 02:30 UTC, and weekends run at 70 %.
	AggTradesPerSecond float64
	// TradesPerAgg is the mean number of individual trades in one aggregate trade (>= 1).
	TradesPerAgg  float64
	MeanQty       float64 // mean quantity of an aggregate trade
	PriceDecimals int     // tick size is 10^-PriceDecimals
	QtyDecimals   int     // step size is 10^-QtyDecimals
}

// MarketConfig configures a Market. Empty Symbols, a zero Start and a zero JumpSigma take the values of
// DefaultMarketConfig; a zero JumpsPerDay means no jumps.
type MarketConfig struct {
	Seed uint64
	// Start is the first UTC day with trades; there is no data before it.
	Start   time.Time
	Symbols []SymbolConfig
	// Correlation is the correlation matrix of the assets' returns, in Symbols order. Nil means the default matrix
	// (0.8 between BTC and ETH, 0.6 to 0.7 otherwise) when Symbols is empty too, else the identity.
	Correlation [][]float64
	JumpsPerDay float64 // expected number of price jumps per symbol per day
	JumpSigma   float64 // standard deviation of a jump's log return
}

// DefaultMarketConfig returns four correlated assets starting 2024-01-01. BTCUSDT trades at 2 aggregate trades per
// second on average (about 5.2 million per 30-day month), the others at 1.5, 1 and 1.
func DefaultMarketConfig(seed uint64) MarketConfig {
	return MarketConfig{
		Seed:  seed,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Symbols: []SymbolConfig{
			{"BTCUSDT", "BTC", "USDT", 42000, 0.55, 2, 1.6, 0.02, 2, 5},
			{"ETHUSDT", "ETH", "USDT", 2300, 0.65, 1.5, 1.5, 0.3, 2, 4},
			{"BNBUSDT", "BNB", "USDT", 310, 0.6, 1, 1.4, 1.5, 2, 3},
			{"SOLUSDT", "SOL", "USDT", 100, 0.85, 1, 1.4, 8, 2, 3},
		},
		Correlation: [][]float64{
			{1, 0.8, 0.65, 0.7},
			{0.8, 1, 0.65, 0.7},
			{0.65, 0.65, 1, 0.6},
			{0.7, 0.7, 0.6, 1},
		},
		JumpsPerDay: 0.5,
		JumpSigma:   0.01,
	}
}

// AggTrade is one aggregate trade. Prices and quantities are fixed-point with 8 decimals, as Binance prints them.
type AggTrade struct {
	ID           int64
	Price        int64 // price * 1e8
	Qty          int64 // quantity * 1e8
	FirstTradeID int64
	LastTradeID  int64
	Time         int64 // epoch ms
	// Micros is the time in epoch microseconds (Time is Micros/1000): the sub-millisecond part is real, as in the
	// microsecond archives and responses Binance serves since 2025.
	Micros     int64
	BuyerMaker bool
}

// Candle is one kline. Prices and base volumes are fixed-point with 8 decimals.
type Candle struct {
	OpenTime, CloseTime    int64 // epoch ms; CloseTime is the last millisecond of the interval
	Open, High, Low, Close int64
	Volume                 int64
	QuoteVolume            float64
	Trades                 int64 // individual trades, the sum of LastTradeID-FirstTradeID+1 of the agg trades
	TakerBuyVolume         int64
	TakerBuyQuoteVolume    float64
}

// dayStats holds what must be known about a day without generating its trades.
type dayStats struct {
	open       []float64 // log price per symbol at 00:00
	aggs       []int64   // aggregate trades per symbol
	trades     []int64   // individual trades per symbol
	firstAgg   []int64   // id of the day's first aggregate trade per symbol
	firstTrade []int64
	shock      []float64 // correlated normal shock of the move to the next day's open
}

type symDay struct {
	sym int
	day int64 // index from Start
}

// Market generates a deterministic, correlated multi-asset market. Any range can be computed without generating
// history from Start: day-level state (open price, trade counts, first ids) is a cheap sequential walk, and each
// (symbol, day) is then generated from its own PRNG stream. It is safe for concurrent use.
type Market struct {
	cfg     MarketConfig
	chol    [][]float64
	startMs int64
	index   map[string]int
	// mu guards the caches only: the expensive work (a day's path, trades and minute candles) runs outside it, once
	// per entry, so a request that generates days never stalls one that reads cached data (see cache.go).
	mu         sync.Mutex
	days       []dayStats
	paths      map[int64]*pathCell // day -> symbol -> 1441 log prices
	data       map[symDay]*dayData
	lruOrder   []symDay
	dayCandles map[symDay]Candle // whole-day candles, small and kept for good
	// activity and sqrtActivity tabulate intraday and its square root per minute of the day (hot in generation).
	activity, sqrtActivity [minutesDay]float64
	// beforeGen, when set (tests), is called before a day's summary or trades are generated.
	beforeGen func(s int, d int64)
}

// NewMarket validates cfg and returns a Market. It returns an error when the correlation matrix is not square, not
// symmetric or not positive definite, or a symbol is misconfigured.
func NewMarket(cfg MarketConfig) (*Market, error) {
	def := DefaultMarketConfig(cfg.Seed)
	if len(cfg.Symbols) == 0 {
		cfg.Symbols = def.Symbols
		if cfg.Correlation == nil {
			cfg.Correlation = def.Correlation
		}
	}
	if cfg.Start.IsZero() {
		cfg.Start = def.Start
	}
	if cfg.JumpSigma == 0 {
		cfg.JumpSigma = def.JumpSigma
	}
	// Copies, so defaulting below never writes into the caller's slices.
	cfg.Symbols = append([]SymbolConfig(nil), cfg.Symbols...)
	n := len(cfg.Symbols)
	if cfg.Correlation == nil {
		cfg.Correlation = make([][]float64, n)
		for i := range n {
			cfg.Correlation[i] = make([]float64, n)
			cfg.Correlation[i][i] = 1
		}
	}
	m := &Market{
		cfg:        cfg,
		startMs:    cfg.Start.UTC().Truncate(24 * time.Hour).UnixMilli(),
		index:      make(map[string]int, n),
		paths:      make(map[int64]*pathCell),
		data:       make(map[symDay]*dayData),
		dayCandles: make(map[symDay]Candle),
	}
	for i, s := range cfg.Symbols {
		switch {
		case s.Symbol == "":
			return nil, fmt.Errorf("symbol %d: empty name", i)
		case s.StartPrice <= 0 || s.AnnualVol < 0 || s.AggTradesPerSecond < 0 || s.MeanQty <= 0:
			return nil, fmt.Errorf("symbol %s: price, volatility, rate and quantity must be positive", s.Symbol)
		case s.PriceDecimals < 0 || s.PriceDecimals > 8 || s.QtyDecimals < 0 || s.QtyDecimals > 8:
			return nil, fmt.Errorf("symbol %s: decimals must be within 0..8", s.Symbol)
		}
		if s.TradesPerAgg < 1 {
			cfg.Symbols[i].TradesPerAgg = 1
		}
		m.index[s.Symbol] = i
	}
	chol, err := cholesky(cfg.Correlation, n)
	if err != nil {
		return nil, fmt.Errorf("correlation matrix: %w", err)
	}
	m.chol = chol
	for k := range minutesDay {
		m.activity[k] = intraday(k)
		m.sqrtActivity[k] = math.Sqrt(m.activity[k])
	}
	return m, nil
}

// Symbols returns the configured symbols in order.
func (m *Market) Symbols() []SymbolConfig { return append([]SymbolConfig(nil), m.cfg.Symbols...) }

// Start returns the first millisecond with data.
func (m *Market) Start() time.Time { return time.UnixMilli(m.startMs).UTC() }

func (m *Market) symbol(name string) (int, bool) {
	i, ok := m.index[name]
	return i, ok
}

func cholesky(a [][]float64, n int) ([][]float64, error) {
	if len(a) != n {
		return nil, fmt.Errorf("want %dx%d, got %d rows", n, n, len(a))
	}
	l := make([][]float64, n)
	for i := range n {
		if len(a[i]) != n {
			return nil, fmt.Errorf("row %d has %d columns, want %d", i, len(a[i]), n)
		}
		l[i] = make([]float64, n)
		for j := 0; j <= i; j++ {
			if a[i][j] != a[j][i] {
				return nil, fmt.Errorf("not symmetric at (%d,%d)", i, j)
			}
			sum := a[i][j]
			for k := range j {
				sum -= l[i][k] * l[j][k]
			}
			if i == j {
				if sum <= 0 {
					return nil, fmt.Errorf("not positive definite at row %d", i)
				}
				l[i][i] = math.Sqrt(sum)
			} else {
				l[i][j] = sum / l[j][j]
			}
		}
	}
	return l, nil
}

// rng returns a PRNG stream identified by the seed and the labels, so every piece of state has its own stream.
func (m *Market) rng(labels ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprint(h, labels...)
	return rand.New(rand.NewPCG(m.cfg.Seed, h.Sum64()))
}

func (m *Market) correlated(r *rand.Rand, z []float64) []float64 {
	n := len(m.chol)
	var buf [16]float64 // on the stack for up to 16 symbols: this runs once per minute of a day
	raw := buf[:0]
	if n > len(buf) {
		raw = make([]float64, 0, n)
	}
	raw = raw[:n]
	for i := range raw {
		raw[i] = r.NormFloat64()
	}
	for i := range n {
		z[i] = 0
		for k := 0; k <= i; k++ {
			z[i] += m.chol[i][k] * raw[k]
		}
	}
	return z
}

// intraday is the relative activity at a minute of the day: highest around 14:30 UTC (US open), lowest at 02:30.
func intraday(minute int) float64 {
	return 1 + 0.25*math.Cos(2*math.Pi*(float64(minute)/minutesDay-14.5/24))
}

// dayAt returns the stats of day d (index from Start), extending the walk as needed; the walk is cheap and runs
// under m.mu. The stats' slices are never written after the walk made them.
func (m *Market) dayAt(d int64) dayStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.cfg.Symbols)
	for int64(len(m.days)) <= d+1 {
		i := int64(len(m.days))
		ds := dayStats{open: make([]float64, n), aggs: make([]int64, n), trades: make([]int64, n),
			firstAgg: make([]int64, n), firstTrade: make([]int64, n)}
		r := m.rng("day", i)
		z := m.correlated(r, make([]float64, n))
		weekday := time.UnixMilli(m.startMs + i*msPerDay).UTC().Weekday()
		activity := 1.0
		if weekday == time.Saturday || weekday == time.Sunday {
			activity = 0.7
		}
		for s, sc := range m.cfg.Symbols {
			if i == 0 {
				ds.open[s] = math.Log(sc.StartPrice)
				ds.firstAgg[s], ds.firstTrade[s] = 1, 1
			} else {
				p := m.days[i-1]
				sd := sc.AnnualVol / math.Sqrt(365)
				x0 := math.Log(sc.StartPrice)
				// Weak mean reversion keeps decades of simulated prices plausible.
				ds.open[s] = p.open[s] + sd*p.shock[s] - 0.002*(p.open[s]-x0)
				ds.firstAgg[s] = p.firstAgg[s] + p.aggs[s]
				ds.firstTrade[s] = p.firstTrade[s] + p.trades[s]
			}
			mean := sc.AggTradesPerSecond * 86400 * activity * math.Exp(0.15*r.NormFloat64())
			ds.aggs[s] = int64(math.Round(mean))
			ds.trades[s] = ds.aggs[s] + int64(math.Round(float64(ds.aggs[s])*(sc.TradesPerAgg-1)*(0.9+0.2*r.Float64())))
		}
		ds.shock = z
		m.days = append(m.days, ds)
	}
	return m.days[d]
}

// genPath computes per-symbol log prices at each minute boundary of day d: a correlated random walk with jumps,
// bridged so it ends at the next day's open. dayPath caches it.
func (m *Market) genPath(d int64) [][]float64 {
	today, tomorrow := m.dayAt(d), m.dayAt(d+1)
	n := len(m.cfg.Symbols)
	r := m.rng("path", d)
	path := make([][]float64, n)
	for s := range path {
		path[s] = make([]float64, minutesDay+1)
	}
	z := make([]float64, n)
	jumpP := m.cfg.JumpsPerDay / minutesDay
	for k := range minutesDay {
		m.correlated(r, z)
		f := m.sqrtActivity[k]
		for s, sc := range m.cfg.Symbols {
			inc := sc.AnnualVol / math.Sqrt(525600) * f * z[s]
			if r.Float64() < jumpP {
				inc += m.cfg.JumpSigma * r.NormFloat64()
			}
			path[s][k+1] = path[s][k] + inc
		}
	}
	for s := range n {
		drift := (tomorrow.open[s] - today.open[s] - path[s][minutesDay]) / minutesDay
		for k := 0; k <= minutesDay; k++ {
			path[s][k] += today.open[s] + drift*float64(k)
		}
	}
	return path
}
