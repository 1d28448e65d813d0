package market

import "slices"

// Candle spans and how many of each the model keeps.
const (
	// KeepCandles is how many 1 s candles the model keeps.
	KeepCandles = 180
	// KeepMinuteCandles is how many 1 m candles the model keeps.
	KeepMinuteCandles = 120
)

// series is the candles of one span built from trades, oldest first, and
// which of them changed since the last frame.
type series struct {
	span      int64 // ms
	keep      int
	candles   []Candle
	dirtyFrom int64 // the oldest candle changed since the last frame (0: none)
	sentOnce  bool
}

// add puts a trade at ms (epoch) into its candle.
func (s *series) add(ms int64, price, qty float64) {
	start := ms - ms%s.span
	i, found := slices.BinarySearchFunc(s.candles, start, func(c Candle, t int64) int { return cmp64(c.Time, t) })
	if !found {
		if i == 0 && len(s.candles) >= s.keep {
			return // older than every candle kept
		}
		s.candles = slices.Insert(s.candles, i, Candle{Time: start, Open: price, High: price, Low: price, Close: price})
		if len(s.candles) > s.keep {
			s.candles = s.candles[len(s.candles)-s.keep:]
			i--
		}
	}
	c := &s.candles[i]
	c.High, c.Low, c.Close = max(c.High, price), min(c.Low, price), price
	c.Volume += qty
	c.Trades++
	if s.dirtyFrom == 0 || start < s.dirtyFrom {
		s.dirtyFrom = start
	}
}

// changed returns the candles changed since the last call (all kept on the
// first), oldest first, never nil.
func (s *series) changed() []Candle {
	out := []Candle{}
	for _, c := range s.candles {
		if !s.sentOnce || (s.dirtyFrom != 0 && c.Time >= s.dirtyFrom) {
			out = append(out, c)
		}
	}
	s.dirtyFrom, s.sentOnce = 0, true
	return out
}
