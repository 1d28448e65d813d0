package binance

import (
	"fmt"
	"io"
	"strconv"
)

// KlinesCSVToJSON reads an archive kline CSV as ParseKlinesCSV does and calls
// fn with each candle's open time (ms) and its JSON record: byte for byte what
// AppendJSON writes for the Candle ParseKlinesCSV gives, but written straight
// from the CSV text, without the round trip through float64 (see
// appendDecimalText). rec is valid during the call only. Errors are those of
// ParseKlinesCSV.
func KlinesCSVToJSON(r io.Reader, symbol string, iv Interval, fn func(t int64, rec []byte) error) error {
	var buf []byte
	err := parseCSV(r, func(f [][]byte) (int64, bool, error) {
		if len(f) != 12 {
			return 0, false, fmt.Errorf("%d columns, want 12", len(f))
		}
		p := fieldParser{f: f}
		t, closeTime, trades := p.time(0), p.time(6), p.int(8)
		buf = appendCandleJSON(buf[:0], symbol, iv.name, t, t, closeTime, trades, p.appendDecimal,
			[8]int{1, 2, 3, 4, 5, 7, 9, 10})
		return t, true, p.err
	}, func(t int64) error { return fn(t, buf) })
	if err != nil && !isCallbackErr(err) {
		return fmt.Errorf("klines csv %s %s: %w", symbol, iv.name, err)
	}
	return unwrapCallback(err)
}

// AggTradesCSVToJSON is KlinesCSVToJSON for an archive aggTrades CSV: fn gets
// each valid trade's time (ms) and the JSON AppendJSON writes for the
// AggTrade ParseAggTradesCSV gives. Errors are those of ParseAggTradesCSV.
func AggTradesCSVToJSON(r io.Reader, symbol string, fn func(t int64, rec []byte) error) error {
	var buf []byte
	err := parseCSV(r, func(f [][]byte) (int64, bool, error) {
		if len(f) != 8 {
			return 0, false, fmt.Errorf("%d columns, want 8", len(f))
		}
		p := fieldParser{f: f}
		id, firstID, lastID, t, buyerMaker := p.int(0), p.int(3), p.int(4), p.time(5), p.bool(6)
		if firstID == -1 && lastID == -1 {
			// Perhaps Binance's invalid placeholder: decide on the values.
			if a := (AggTrade{Price: p.float(1), Qty: p.float(2), FirstID: firstID, LastID: lastID}); a.invalid() {
				return 0, false, p.err
			}
		}
		buf = appendAggTradeJSON(buf[:0], symbol, t, id, firstID, lastID, buyerMaker, p.appendDecimal, [2]int{1, 2})
		return t, true, p.err
	}, func(t int64) error { return fn(t, buf) })
	if err != nil && !isCallbackErr(err) {
		return fmt.Errorf("aggTrades csv %s: %w", symbol, err)
	}
	return unwrapCallback(err)
}

// appendDecimal appends column i as a JSON number: the column's own text
// when appendDecimalText can normalise it, else what appendFloat writes for
// its parsed value (recording a parse error as float does).
func (p *fieldParser) appendDecimal(dst []byte, i int) []byte {
	if out, ok := appendDecimalText(dst, p.f[i]); ok {
		return out
	}
	return appendFloat(dst, p.float(i))
}

// appendDecimalText appends the plain decimal b (an optional minus, digits,
// and an optional fraction of at least one digit) without its insignificant
// zeros: "0012.3400" as "12.34", "5.000" as "5", "-0.0" as "-0". When b has at
// most 15 digits once those zeros are gone, that is exactly what
// appendFloat writes for the float64 nearest to b: two such decimals never
// round to the same float64, so b's digits are the shortest that round-trip.
// Anything else (exponents, more digits, malformed text) reports false and
// is left to the float path, for its value or its error.
func appendDecimalText(dst []byte, b []byte) ([]byte, bool) {
	neg := len(b) > 0 && b[0] == '-'
	num := b
	if neg {
		num = b[1:]
	}
	dot := -1
	for i, c := range num {
		if c == '.' && dot < 0 {
			dot = i
		} else if c < '0' || c > '9' {
			return dst, false
		}
	}
	intPart, frac := num, num[:0]
	if dot >= 0 {
		intPart, frac = num[:dot], num[dot+1:]
		if len(frac) == 0 {
			return dst, false // "1." : strconv decides
		}
	}
	if len(intPart) == 0 {
		return dst, false // ".5", "-", ""
	}
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	// The digits of the integer n = b·10^len(frac) must number at most 15.
	digits := len(frac)
	if intPart[0] != '0' {
		digits += len(intPart)
	} else {
		lead := 0
		for lead < len(frac) && frac[lead] == '0' {
			lead++
		}
		digits -= lead
	}
	if digits > 15 || len(frac) > 15 {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, intPart...)
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst, true
}

// appendCandleJSON writes a candle's JSON object; dec appends its decimals
// (open, high, low, close, volume, quote volume, taker buy base, taker buy
// quote) by the index d holds for each. Candle.AppendJSON and
// KlinesCSVToJSON share it, so a candle has one encoding.
func appendCandleJSON(dst []byte, symbol, interval string, t, openTime, closeTime, trades int64,
	dec func(dst []byte, i int) []byte, d [8]int) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, symbol)
	dst = append(dst, '_')
	dst = appendEscaped(dst, interval)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, openTime, 10)
	dst = appendStrField(dst, `","symbol":`, symbol)
	dst = appendStrField(dst, `,"interval":`, interval)
	dst = appendIntField(dst, `,"time":`, t)
	dst = appendIntField(dst, `,"open_time":`, openTime)
	dst = appendIntField(dst, `,"close_time":`, closeTime)
	dst = dec(append(dst, `,"open":`...), d[0])
	dst = dec(append(dst, `,"high":`...), d[1])
	dst = dec(append(dst, `,"low":`...), d[2])
	dst = dec(append(dst, `,"close":`...), d[3])
	dst = dec(append(dst, `,"volume":`...), d[4])
	dst = dec(append(dst, `,"quote_volume":`...), d[5])
	dst = appendIntField(dst, `,"trades":`, trades)
	dst = dec(append(dst, `,"taker_buy_base":`...), d[6])
	dst = dec(append(dst, `,"taker_buy_quote":`...), d[7])
	return append(dst, '}')
}

// appendAggTradeJSON writes an aggregate trade's JSON object; dec appends its
// price and quantity by the indexes in d. AggTrade.AppendJSON and
// AggTradesCSVToJSON share it.
func appendAggTradeJSON(dst []byte, symbol string, t, aggID, firstID, lastID int64, buyerMaker bool,
	dec func(dst []byte, i int) []byte, d [2]int) []byte {
	dst = append(dst, `{"_key":"`...)
	dst = appendEscaped(dst, symbol)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, aggID, 10)
	dst = appendStrField(dst, `","symbol":`, symbol)
	dst = appendIntField(dst, `,"time":`, t)
	dst = appendIntField(dst, `,"agg_id":`, aggID)
	dst = dec(append(dst, `,"price":`...), d[0])
	dst = dec(append(dst, `,"qty":`...), d[1])
	dst = appendIntField(dst, `,"first_id":`, firstID)
	dst = appendIntField(dst, `,"last_id":`, lastID)
	dst = append(dst, `,"buyer_maker":`...)
	dst = strconv.AppendBool(dst, buyerMaker)
	return append(dst, '}')
}
