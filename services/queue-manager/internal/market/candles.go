package market

import "slices"

// Candle spans and how many of each the model keeps.
const (
	// KeepCandles is how many 1 s candles the model keeps.
	KeepCandles = 180
	// KeepMinuteCandles is how many 1 m candles the model keeps.
	KeepMinuteCandles = 120
)

// series is the candles of one span built from trades, oldest first, each
// stamped with the model's revision of its last change.
type series struct {
	span    int64 // ms
	keep    int
	candles []keptCandle
}

type keptCandle struct {
	Candle
	rev int64
}

// add puts a trade at ms (epoch) into its candle at the model's revision
// rev.
func (s *series) add(rev, ms int64, price, qty float64) {
	start := ms - ms%s.span
	i, found := slices.BinarySearchFunc(s.candles, start, func(c keptCandle, t int64) int { return cmp64(c.Time, t) })
	if !found {
		if i == 0 && len(s.candles) >= s.keep {
			return // older than every candle kept
		}
		s.candles = slices.Insert(s.candles, i, keptCandle{Candle: Candle{Time: start, Open: price, High: price, Low: price, Close: price}})
		if len(s.candles) > s.keep {
			s.candles = s.candles[len(s.candles)-s.keep:]
			i--
		}
	}
	c := &s.candles[i]
	c.High, c.Low, c.Close = max(c.High, price), min(c.Low, price), price
	c.Volume += qty
	c.Trades++
	c.rev = rev
}

// since returns the candles changed after revision rev (all kept for 0),
// oldest first, never nil.
func (s *series) since(rev int64) []Candle {
	out := []Candle{}
	for _, c := range s.candles {
		if c.rev > rev {
			out = append(out, c.Candle)
		}
	}
	return out
}
