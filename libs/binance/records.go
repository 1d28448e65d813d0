// Package binance is the shared Binance spot client of StreamForge: normalised
// records, bulk archives (data.binance.vision), the weight-limited REST API and
// the local order book.
//
// Every record carries a symbol, a time in epoch milliseconds UTC and a
// deterministic key, so a replay or a retry overwrites
// instead of duplicating. Records encode themselves with AppendJSON, which
// avoids reflection on the hot path; the output decodes with encoding/json to
// the same values.
package binance

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Candle is one kline. Its key is "<SYMBOL>_<interval>_<openTime>".
type Candle struct {
	Symbol        string  `json:"symbol"`
	Interval      string  `json:"interval"`
	Time          int64   `json:"time"` // the open time
	OpenTime      int64   `json:"open_time"`
	CloseTime     int64   `json:"close_time"`
	Open          float64 `json:"open"`
	High          float64 `json:"high"`
	Low           float64 `json:"low"`
	Close         float64 `json:"close"`
	Volume        float64 `json:"volume"`
	QuoteVolume   float64 `json:"quote_volume"`
	Trades        int64   `json:"trades"`
	TakerBuyBase  float64 `json:"taker_buy_base"`
	TakerBuyQuote float64 `json:"taker_buy_quote"`
}

// Key returns the deterministic record key "<SYMBOL>_<interval>_<openTime>".
func (c *Candle) Key() string {
	return string(c.appendKey(nil))
}

func (c *Candle) appendKey(dst []byte) []byte {
	dst = append(dst, c.Symbol...)
	dst = append(dst, '_')
	dst = append(dst, c.Interval...)
	dst = append(dst, '_')
	return strconv.AppendInt(dst, c.OpenTime, 10)
}

// AppendJSON appends the candle as a JSON object, "_key" included, to dst.
func (c *Candle) AppendJSON(dst []byte) []byte {
	v := [8]float64{c.Open, c.High, c.Low, c.Close, c.Volume, c.QuoteVolume, c.TakerBuyBase, c.TakerBuyQuote}
	return appendCandleJSON(dst, c.Symbol, c.Interval, c.Time, c.OpenTime, c.CloseTime, c.Trades,
		func(dst []byte, i int) []byte { return appendFloat(dst, v[i]) }, [8]int{0, 1, 2, 3, 4, 5, 6, 7})
}

// AggTrade is one aggregate trade. Its key is "<SYMBOL>_<aggId>".
type AggTrade struct {
	Symbol     string  `json:"symbol"`
	Time       int64   `json:"time"` // the trade time (T)
	AggID      int64   `json:"agg_id"`
	Price      float64 `json:"price"`
	Qty        float64 `json:"qty"`
	FirstID    int64   `json:"first_id"`
	LastID     int64   `json:"last_id"`
	BuyerMaker bool    `json:"buyer_maker"`
}

// Key returns the deterministic record key "<SYMBOL>_<aggId>".
func (a *AggTrade) Key() string {
	return a.Symbol + "_" + strconv.FormatInt(a.AggID, 10)
}

// AppendJSON appends the trade as a JSON object, "_key" included, to dst.
func (a *AggTrade) AppendJSON(dst []byte) []byte {
	v := [2]float64{a.Price, a.Qty}
	return appendAggTradeJSON(dst, a.Symbol, a.Time, a.AggID, a.FirstID, a.LastID, a.BuyerMaker,
		func(dst []byte, i int) []byte { return appendFloat(dst, v[i]) }, [2]int{0, 1})
}

// Level is one price level of an order book: [price, qty].
type Level [2]float64

// BookSnapshot is the top of an order book at one update id. Its key is
// "<SYMBOL>_<lastUpdateId>".
type BookSnapshot struct {
	Symbol       string  `json:"symbol"`
	Time         int64   `json:"time"`
	LastUpdateID int64   `json:"last_update_id"`
	Bids         []Level `json:"bids"`
	Asks         []Level `json:"asks"`
}

// Key returns the deterministic record key "<SYMBOL>_<lastUpdateId>".
func (b *BookSnapshot) Key() string {
	return b.Symbol + "_" + strconv.FormatInt(b.LastUpdateID, 10)
}

// AppendJSON appends the snapshot as a JSON object, "_key" included, to dst.
func (b *BookSnapshot) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, b.Symbol)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, b.LastUpdateID, 10)
	dst = appendStrField(dst, `","symbol":`, b.Symbol)
	dst = appendIntField(dst, `,"time":`, b.Time)
	dst = appendIntField(dst, `,"last_update_id":`, b.LastUpdateID)
	dst = appendLevels(dst, `,"bids":`, b.Bids)
	dst = appendLevels(dst, `,"asks":`, b.Asks)
	return append(dst, '}')
}

// BookDiff is one depth update covering update ids FirstUpdateID (U) to
// FinalUpdateID (u). Its key is "<SYMBOL>_diff_<u>". A quantity of 0 removes
// the level.
type BookDiff struct {
	Symbol        string  `json:"symbol"`
	Time          int64   `json:"time"` // the event time (E)
	FirstUpdateID int64   `json:"first_update_id"`
	FinalUpdateID int64   `json:"final_update_id"`
	Bids          []Level `json:"bids"`
	Asks          []Level `json:"asks"`
}

// Key returns the deterministic record key "<SYMBOL>_diff_<u>".
func (d *BookDiff) Key() string {
	return d.Symbol + "_diff_" + strconv.FormatInt(d.FinalUpdateID, 10)
}

// AppendJSON appends the diff as a JSON object, "_key" included, to dst.
func (d *BookDiff) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, d.Symbol)
	dst = append(dst, "_diff_"...)
	dst = strconv.AppendInt(dst, d.FinalUpdateID, 10)
	dst = appendStrField(dst, `","symbol":`, d.Symbol)
	dst = appendIntField(dst, `,"time":`, d.Time)
	dst = appendIntField(dst, `,"first_update_id":`, d.FirstUpdateID)
	dst = appendIntField(dst, `,"final_update_id":`, d.FinalUpdateID)
	dst = appendLevels(dst, `,"bids":`, d.Bids)
	dst = appendLevels(dst, `,"asks":`, d.Asks)
	return append(dst, '}')
}

// Gap tells consumers that the updates (or ids) From..To of a symbol are
// missing from the data topic. Its key is "<SYMBOL>_gap_<from>_<to>".
type Gap struct {
	Symbol string `json:"symbol"`
	Time   int64  `json:"time"` // when the gap was detected
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Reason string `json:"reason"`
}

// Key returns the deterministic record key "<SYMBOL>_gap_<from>_<to>".
func (g *Gap) Key() string {
	return g.Symbol + "_gap_" + strconv.FormatInt(g.From, 10) + "_" + strconv.FormatInt(g.To, 10)
}

// AppendJSON appends the gap as a JSON object, "_key" included, to dst.
func (g *Gap) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, g.Symbol)
	dst = append(dst, "_gap_"...)
	dst = strconv.AppendInt(dst, g.From, 10)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, g.To, 10)
	dst = appendStrField(dst, `","symbol":`, g.Symbol)
	dst = appendIntField(dst, `,"time":`, g.Time)
	dst = appendIntField(dst, `,"from":`, g.From)
	dst = appendIntField(dst, `,"to":`, g.To)
	dst = appendStrField(dst, `,"reason":`, g.Reason)
	return append(dst, '}')
}

func appendStrField(dst []byte, name, s string) []byte {
	dst = append(dst, name...)
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

func appendIntField(dst []byte, name string, v int64) []byte {
	dst = append(dst, name...)
	return strconv.AppendInt(dst, v, 10)
}

// appendFloat writes the shortest decimal that round-trips. JSON has no NaN or
// infinity; parsers never produce them, and null keeps the output valid.
func appendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	if out, ok := appendShortDecimal(dst, v); ok {
		return out
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// pow10 holds the powers of ten that are exact float64 values and below
// 2^53, the range where a division by them is correctly rounded.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// appendShortDecimal is the fast path of appendFloat for what exchanges
// send: prices and quantities of at most 15 significant digits. It looks for
// the smallest k such that v·10^k is an integer n < 10^15 with n/10^k == v
// exactly; that decimal then has at most 15 digits, and as no two decimals
// of at most 15 digits round to the same float64, it is the shortest one
// that round-trips: what strconv.AppendFloat(dst, v, 'f', -1, 64) writes,
// at a fraction of the cost. It reports false when there is no such k.
func appendShortDecimal(dst []byte, v float64) ([]byte, bool) {
	a := math.Abs(v)
	for k := range pow10 {
		s := a * pow10[k]
		if !(s < 1e15) {
			return dst, false
		}
		n := uint64(s)
		if float64(n) != s || float64(n)/pow10[k] != a {
			continue
		}
		if math.Signbit(v) {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, n/pow10u[k], 10)
		frac := n % pow10u[k]
		if frac == 0 {
			return dst, true
		}
		for frac%10 == 0 {
			frac /= 10
			k--
		}
		dst = append(dst, '.')
		for p := pow10u[k] / 10; p > frac; p /= 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendUint(dst, frac, 10), true
	}
	return dst, false
}

func appendLevels(dst []byte, name string, levels []Level) []byte {
	dst = append(dst, name...)
	dst = append(dst, '[')
	for i, l := range levels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendFloat(dst, l[0])
		dst = append(dst, ',')
		dst = appendFloat(dst, l[1])
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// appendEscaped writes s as the inside of a JSON string. Symbols are plain
// ASCII in practice; the slow path only exists so output is always valid.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
