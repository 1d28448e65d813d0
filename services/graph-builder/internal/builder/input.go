package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/graph-builder/internal/graph"
)

// series is one symbol's bars in time order, with what was read for it.
type series struct {
	symbol   string
	interval binance.Interval
	bars     []graph.Bar
	trades   int64 // agg trades folded into the bars
	outside  int64 // agg trades outside every bar (before the first, after the last, or in a gap)
}

// candleDoc is the part of a candle document the graph needs.
type candleDoc struct {
	Symbol       string  `json:"symbol"`
	Time         int64   `json:"time"`
	Open         float64 `json:"open"`
	High         float64 `json:"high"`
	Low          float64 `json:"low"`
	Close        float64 `json:"close"`
	Volume       float64 `json:"volume"`
	QuoteVolume  float64 `json:"quote_volume"`
	Trades       int64   `json:"trades"`
	TakerBuyBase float64 `json:"taker_buy_base"`
}

// tradeDoc is the part of an agg-trade document the graph needs.
type tradeDoc struct {
	Time       int64   `json:"time"`
	Qty        float64 `json:"qty"`
	BuyerMaker bool    `json:"buyer_maker"`
}

// readSeries reads every symbol's candles, then folds its trades (streamed,
// never held) into per-bar aggregates. onRead is called every so many
// documents with the running count.
func readSeries(ctx context.Context, st store.Store, ins []input, from, to int64, onRead func(n int64)) ([]*series, error) {
	bySymbol := map[string]*series{}
	var order []*series
	var n int64
	tick := func() {
		n++
		if n%50_000 == 0 {
			onRead(n)
		}
	}
	for _, in := range ins {
		if !in.candles {
			continue
		}
		iv, err := binance.ParseInterval(in.interval)
		if err != nil || iv.Duration() == 0 {
			return nil, fmt.Errorf("%s: interval %q is not a fixed kline interval", in.collection, in.interval)
		}
		s := &series{symbol: in.symbol, interval: iv}
		last := int64(math.MinInt64)
		err = st.Range(ctx, in.collection, in.symbol, from, to, func(doc json.RawMessage) error {
			var c candleDoc
			if err := json.Unmarshal(doc, &c); err != nil {
				return fmt.Errorf("%s: candle document: %w", in.collection, err)
			}
			if c.Time <= last {
				return nil // the store reads in time order; a repeat is a duplicate
			}
			if c.Close <= 0 || c.Open <= 0 || math.IsNaN(c.Close) || c.Volume < 0 {
				return fmt.Errorf("%s: candle at %d has close %g, open %g, volume %g: prices must be positive", in.collection, c.Time, c.Close, c.Open, c.Volume)
			}
			last = c.Time
			s.bars = append(s.bars, graph.Bar{Time: c.Time, Open: c.Open, High: c.High, Low: c.Low, Close: c.Close,
				Volume: c.Volume, QuoteVolume: c.QuoteVolume, Trades: c.Trades, TakerBuyBase: c.TakerBuyBase})
			tick()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", in.collection, err)
		}
		if len(s.bars) == 0 {
			return nil, fmt.Errorf("read %s: no candles of %s in the time range", in.collection, in.symbol)
		}
		bySymbol[in.symbol] = s
		order = append(order, s)
	}
	if len(order) > 1 {
		for _, s := range order[1:] {
			if s.interval != order[0].interval {
				return nil, fmt.Errorf("candles of %s are %s, of %s %s: one interval for all symbols", order[0].symbol, order[0].interval, s.symbol, s.interval)
			}
		}
	}
	for _, in := range ins {
		if in.candles {
			continue
		}
		s := bySymbol[in.symbol]
		step := s.interval.Duration().Milliseconds()
		err := st.Range(ctx, in.collection, in.symbol, from, to, func(doc json.RawMessage) error {
			var tr tradeDoc
			if err := json.Unmarshal(doc, &tr); err != nil {
				return fmt.Errorf("%s: trade document: %w", in.collection, err)
			}
			tick()
			i := barAt(s.bars, tr.Time, step)
			if i < 0 {
				s.outside++
				return nil
			}
			b := &s.bars[i]
			b.AggTrades++
			// The buyer is the maker: the taker sold.
			if tr.BuyerMaker {
				b.TradeSellQty += tr.Qty
			} else {
				b.TradeBuyQty += tr.Qty
			}
			s.trades++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", in.collection, err)
		}
	}
	onRead(n)
	return order, nil
}

// barAt returns the index of the bar whose [open, open+step) holds t, or -1.
func barAt(bars []graph.Bar, t, step int64) int {
	i := sort.Search(len(bars), func(i int) bool { return bars[i].Time > t }) - 1
	if i < 0 || t >= bars[i].Time+step {
		return -1
	}
	return i
}
