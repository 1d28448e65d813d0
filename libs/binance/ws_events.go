package binance

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// rawInt decodes a JSON integer without allocating.
func rawInt(v []byte) (int64, error) {
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, fmt.Errorf("%q overflows int64", v)
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, nil
}

// rawString returns the contents of a JSON string. Binance's strings carry
// no escapes; a string with escapes is decoded by encoding/json.
func rawString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, fmt.Errorf("%.40q is not a string", v)
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if err := exactjson.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			return []byte(s), nil
		}
	}
	return inner, nil
}

// rawDecimal decodes a number that Binance sends as a string ("0.35280000");
// a bare JSON number is accepted too.
func rawDecimal(v []byte) (float64, error) {
	if len(v) > 0 && v[0] == '"' {
		s, err := rawString(v)
		if err != nil {
			return 0, err
		}
		v = s
	}
	return strconv.ParseFloat(string(v), 64)
}

func rawBool(v []byte) (bool, error) {
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%.40q is not a boolean", v)
}

// fieldSet records which required members an event had, so a missing one is
// named in the error.
type fieldSet struct {
	names string // one byte per field, e.g. "esapqflTm"
	seen  uint32
}

func (f *fieldSet) mark(name byte) {
	if i := strings.IndexByte(f.names, name); i >= 0 {
		f.seen |= 1 << i
	}
}

func (f *fieldSet) missing() string {
	var out []byte
	for i := range len(f.names) {
		if f.seen&(1<<i) == 0 {
			out = append(out, f.names[i])
		}
	}
	return string(out)
}

// eventType checks the "e" member against want.
func eventType(v []byte, want string) error {
	s, err := rawString(v)
	if err != nil {
		return err
	}
	if string(s) != want {
		return fmt.Errorf("event type %q, want %q", s, want)
	}
	return nil
}

// ParseAggTradeEvent decodes the data of a <symbol>@aggTrade stream message
// (fields e, E, s, a, p, q, f, l, T, m). Time is the trade time T. It returns
// an error naming the member when one is missing or malformed, or the event is
// not an aggTrade.
func ParseAggTradeEvent(data []byte) (AggTrade, error) {
	var a AggTrade
	if err := parseTradeMembers(data, "aggTrade", &a); err != nil {
		return AggTrade{}, fmt.Errorf("aggTrade event: %w", err)
	}
	return a, nil
}

// ParseTradeEvent decodes the data of a <symbol>@trade stream message
// (fields e, E, s, t, p, q, T, m) into an AggTrade of one trade: AggID,
// FirstID and LastID are all the trade id t. Trade ids and aggregate trade
// ids are different sequences, so the two kinds must not share a topic or a
// collection. Errors are returned as by ParseAggTradeEvent.
func ParseTradeEvent(data []byte) (AggTrade, error) {
	var a AggTrade
	if err := parseTradeMembers(data, "trade", &a); err != nil {
		return AggTrade{}, fmt.Errorf("trade event: %w", err)
	}
	return a, nil
}

func parseTradeMembers(data []byte, kind string, a *AggTrade) error {
	fields := fieldSet{names: "esapqflTm"}
	if kind == "trade" {
		fields.names = "estpqTm"
	}
	i, err := exactjson.ObjectStart(data)
	if err != nil {
		return err
	}
	for {
		k, v, next, done, err := exactjson.NextMember(data, i)
		if err != nil {
			return err
		}
		if done {
			break
		}
		i = next
		if len(k) != 1 {
			continue
		}
		switch k[0] {
		case 'e':
			err = eventType(v, kind)
		case 's':
			var s []byte
			if s, err = rawString(v); err == nil {
				a.Symbol = string(s)
			}
		case 'a':
			if kind == "trade" {
				continue // the seller's order id
			}
			a.AggID, err = rawInt(v)
		case 't':
			if kind == "trade" {
				a.AggID, err = rawInt(v)
				a.FirstID, a.LastID = a.AggID, a.AggID
			}
		case 'p':
			a.Price, err = rawDecimal(v)
		case 'q':
			a.Qty, err = rawDecimal(v)
		case 'f':
			a.FirstID, err = rawInt(v)
		case 'l':
			a.LastID, err = rawInt(v)
		case 'T':
			var t int64
			if t, err = rawInt(v); err == nil {
				a.Time, err = NormalizeMillis(t)
			}
		case 'm':
			a.BuyerMaker, err = rawBool(v)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", k, err)
		}
		fields.mark(k[0])
	}
	if m := fields.missing(); m != "" {
		return fmt.Errorf("members %q missing", m)
	}
	if a.Symbol == "" {
		return errors.New("empty symbol")
	}
	return nil
}

// ParseKlineEvent decodes the data of a <symbol>@kline_<interval> stream
// message: the candle (from k: t, T, s, i, o, c, h, l, v, n, q, V, Q) and
// whether it is closed (k.x). Binance sends the open candle every one or two
// seconds and a last time with x=true; only a closed candle is final. Errors
// name the member that is missing or malformed.
func ParseKlineEvent(data []byte) (c Candle, closed bool, err error) {
	c, closed, err = parseKline(data)
	if err != nil {
		return Candle{}, false, fmt.Errorf("kline event: %w", err)
	}
	return c, closed, nil
}

func parseKline(data []byte) (c Candle, closed bool, err error) {
	i, err := exactjson.ObjectStart(data)
	if err != nil {
		return c, false, err
	}
	var k []byte
	sawType := false
	for {
		key, v, next, done, err := exactjson.NextMember(data, i)
		if err != nil {
			return c, false, err
		}
		if done {
			break
		}
		i = next
		switch string(key) {
		case "e":
			if err := eventType(v, "kline"); err != nil {
				return c, false, err
			}
			sawType = true
		case "k":
			k = v
		}
	}
	if !sawType || k == nil {
		return c, false, errors.New(`members "e" and "k" required`)
	}
	fields := fieldSet{names: "tTsiochlvnxqVQ"}
	if i, err = exactjson.ObjectStart(k); err != nil {
		return c, false, fmt.Errorf("member \"k\": %w", err)
	}
	for {
		key, v, next, done, err := exactjson.NextMember(k, i)
		if err != nil {
			return c, false, fmt.Errorf("member \"k\": %w", err)
		}
		if done {
			break
		}
		i = next
		if len(key) != 1 {
			continue
		}
		switch key[0] {
		case 't':
			var t int64
			if t, err = rawInt(v); err == nil {
				c.OpenTime, err = NormalizeMillis(t)
				c.Time = c.OpenTime
			}
		case 'T':
			var t int64
			if t, err = rawInt(v); err == nil {
				c.CloseTime, err = NormalizeMillis(t)
			}
		case 's':
			var s []byte
			if s, err = rawString(v); err == nil {
				c.Symbol = string(s)
			}
		case 'i':
			var s []byte
			if s, err = rawString(v); err == nil {
				var iv Interval
				if iv, err = ParseInterval(string(s)); err == nil {
					c.Interval = iv.String()
				}
			}
		case 'o':
			c.Open, err = rawDecimal(v)
		case 'c':
			c.Close, err = rawDecimal(v)
		case 'h':
			c.High, err = rawDecimal(v)
		case 'l':
			c.Low, err = rawDecimal(v)
		case 'v':
			c.Volume, err = rawDecimal(v)
		case 'n':
			c.Trades, err = rawInt(v)
		case 'x':
			closed, err = rawBool(v)
		case 'q':
			c.QuoteVolume, err = rawDecimal(v)
		case 'V':
			c.TakerBuyBase, err = rawDecimal(v)
		case 'Q':
			c.TakerBuyQuote, err = rawDecimal(v)
		default:
			continue
		}
		if err != nil {
			return c, false, fmt.Errorf("member \"k.%s\": %w", key, err)
		}
		fields.mark(key[0])
	}
	if m := fields.missing(); m != "" {
		return c, false, fmt.Errorf("members %q of \"k\" missing", m)
	}
	if c.Symbol == "" {
		return c, false, errors.New("empty symbol")
	}
	return c, closed, nil
}
