package binance

import (
	"fmt"
	"time"
)

// Epoch bounds that separate milliseconds from microseconds: 13-digit values
// are milliseconds (2001-09-09 to 2286-11-20), 16-digit values microseconds
// over the same span. Anything else is not a Binance time.
const (
	minMillis = 1_000_000_000_000
	maxMillis = 10_000_000_000_000 - 1
	minMicros = 1_000_000_000_000_000
	maxMicros = 10_000_000_000_000_000 - 1
)

// NormalizeMillis returns t as epoch milliseconds. Spot archives from
// 2025-01-01 carry microseconds (1735689600000000), which are truncated to
// milliseconds; milliseconds are returned unchanged. Any other magnitude
// (seconds, nanoseconds, zero, negative) returns an error.
func NormalizeMillis(t int64) (int64, error) {
	switch {
	case t >= minMillis && t <= maxMillis:
		return t, nil
	case t >= minMicros && t <= maxMicros:
		return t / 1000, nil
	default:
		return 0, fmt.Errorf("time %d is neither epoch milliseconds nor microseconds", t)
	}
}

// Interval is a Binance kline interval such as "5m" or "1M".
type Interval struct {
	name   string
	d      time.Duration
	months int // 1 for "1M", whose length depends on the calendar
}

var intervals = map[string]Interval{
	"1s":  {name: "1s", d: time.Second},
	"1m":  {name: "1m", d: time.Minute},
	"3m":  {name: "3m", d: 3 * time.Minute},
	"5m":  {name: "5m", d: 5 * time.Minute},
	"15m": {name: "15m", d: 15 * time.Minute},
	"30m": {name: "30m", d: 30 * time.Minute},
	"1h":  {name: "1h", d: time.Hour},
	"2h":  {name: "2h", d: 2 * time.Hour},
	"4h":  {name: "4h", d: 4 * time.Hour},
	"6h":  {name: "6h", d: 6 * time.Hour},
	"8h":  {name: "8h", d: 8 * time.Hour},
	"12h": {name: "12h", d: 12 * time.Hour},
	"1d":  {name: "1d", d: 24 * time.Hour},
	"3d":  {name: "3d", d: 72 * time.Hour},
	"1w":  {name: "1w", d: 7 * 24 * time.Hour},
	"1M":  {name: "1M", months: 1},
}

// ParseInterval returns the interval named s. Names are case-sensitive, as in
// the API ("1m" is a minute, "1M" a month); an unknown name returns an error.
func ParseInterval(s string) (Interval, error) {
	iv, ok := intervals[s]
	if !ok {
		return Interval{}, fmt.Errorf("unknown kline interval %q", s)
	}
	return iv, nil
}

// String returns the interval's API name.
func (iv Interval) String() string { return iv.name }

// IsZero reports whether iv is the zero value rather than a parsed interval.
func (iv Interval) IsZero() bool { return iv.name == "" }

// Duration returns the fixed length of the interval. For "1M" it returns 0:
// a month has no fixed length, use NextOpen.
func (iv Interval) Duration() time.Duration { return iv.d }

// Floor returns the open time (epoch ms) of the kline of this interval that
// contains t: weeks open on Monday 00:00 UTC and months on the 1st, as on
// Binance; the other intervals are aligned to the Unix epoch.
func (iv Interval) Floor(t int64) int64 {
	if iv.months > 0 {
		tm := time.UnixMilli(t).UTC()
		return time.Date(tm.Year(), tm.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	d, off := iv.d.Milliseconds(), int64(0)
	if iv.name == "1w" {
		off = 4 * 24 * time.Hour.Milliseconds() // 1970-01-01 was a Thursday; the first Monday is four days later
	}
	q := (t - off) / d
	if (t-off)%d < 0 {
		q--
	}
	return q*d + off
}

// NextOpen returns the open time (epoch ms) of the kline after the one that
// opens at openMs. For "1M" that is the first instant of the next calendar
// month in UTC.
func (iv Interval) NextOpen(openMs int64) int64 {
	if iv.months > 0 {
		t := time.UnixMilli(openMs).UTC()
		return time.Date(t.Year(), t.Month()+time.Month(iv.months), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	return openMs + iv.d.Milliseconds()
}
