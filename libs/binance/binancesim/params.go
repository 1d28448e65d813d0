package binancesim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// endpointParams lists the query parameters each REST endpoint reads (binance-spot-api-docs rest-api.md, "Market
// Data endpoints" and "General endpoints"). A parameter outside its endpoint's list is error -1104.
var endpointParams = map[string][]string{
	"/api/v3/ping":              nil,
	"/api/v3/time":              nil,
	"/api/v3/exchangeInfo":      {"symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"},
	"/api/v3/klines":            {"symbol", "interval", "startTime", "endTime", "timeZone", "limit"},
	"/api/v3/aggTrades":         {"symbol", "fromId", "startTime", "endTime", "limit"},
	"/api/v3/depth":             {"symbol", "limit"},
	"/api/v3/uiKlines":          {"symbol", "interval", "startTime", "endTime", "timeZone", "limit"},
	"/api/v3/trades":            {"symbol", "limit"},
	"/api/v3/avgPrice":          {"symbol"},
	"/api/v3/ticker/price":      {"symbol", "symbols", "symbolStatus"},
	"/api/v3/ticker/bookTicker": {"symbol", "symbols", "symbolStatus"},
	"/api/v3/ticker/24hr":       {"symbol", "symbols", "type", "symbolStatus"},
}

// checkParams applies the rules errors.md states for every request: a repeated parameter is -1101
// TOO_MANY_PARAMETERS, a parameter sent empty is -1105 PARAM_EMPTY, and a parameter the endpoint does not read is
// -1104 NOT_ALL_SENT_PARAMETERS_WERE_READ.
func checkParams(path string, q map[string][]string) *apiError {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	allowed := endpointParams[path]
	read := 0
	for _, name := range names {
		vals := q[name]
		if len(vals) > 1 {
			return &apiError{-1101, "Duplicate values for a parameter detected."}
		}
		if !slices.Contains(allowed, name) {
			continue
		}
		read++
		if len(vals) == 1 && vals[0] == "" {
			return &apiError{-1105, fmt.Sprintf("Parameter '%s' was empty.", name)}
		}
	}
	if read < len(names) {
		return &apiError{-1104, fmt.Sprintf("Not all sent parameters were read; read '%d' parameter(s) but was sent '%d'.",
			read, len(names))}
	}
	return nil
}

// minMicros is the smallest 16-digit number: since 2025-01 (CHANGELOG.md) a timestamp parameter of 16 digits is in
// microseconds, a shorter one in milliseconds.
const minMicros = 1_000_000_000_000_000

// timeParam parses an optional timestamp parameter, given in milliseconds or microseconds, into epoch microseconds.
// A millisecond endTime covers its whole millisecond.
func timeParam(q map[string][]string, name string) (us int64, ok bool, e *apiError) {
	v, ok, e := intParam(q, name)
	if e != nil || !ok {
		return 0, ok, e
	}
	if v >= minMicros {
		return v, true, nil
	}
	if name == "endTime" {
		return v*1000 + 999, true, nil
	}
	return v * 1000, true, nil
}

// ceilMs is the first millisecond at or after us, floorMs the last at or before it.
func ceilMs(us int64) int64  { return floorDiv(us+999, 1000) }
func floorMs(us int64) int64 { return floorDiv(us, 1000) }

// timeUnit is the unit of every timestamp in a response: milliseconds unless the X-MBX-TIME-UNIT header asks for
// microseconds (CHANGELOG.md 2024-12, rest-api.md "General API Information"). Any other value is error -1100.
type timeUnit bool

const micros timeUnit = true

func parseTimeUnit(r *http.Request) (timeUnit, *apiError) {
	switch v := r.Header.Get("X-MBX-TIME-UNIT"); {
	case v == "" || strings.EqualFold(v, "MILLISECOND"):
		return false, nil
	case strings.EqualFold(v, "MICROSECOND"):
		return micros, nil
	default:
		return false, &apiError{-1100, "Invalid value for time unit; expected either 'MICROSECOND' or 'MILLISECOND'."}
	}
}

// instant writes an epoch-millisecond instant in the unit.
func (u timeUnit) instant(b []byte, ms int64) []byte {
	if u == micros {
		return strconv.AppendInt(b, ms*1000, 10)
	}
	return strconv.AppendInt(b, ms, 10)
}

// last writes the last instant of the millisecond ms (a kline's close time: 999 µs after it in microseconds).
func (u timeUnit) last(b []byte, ms int64) []byte {
	if u == micros {
		return strconv.AppendInt(b, ms*1000+999, 10)
	}
	return strconv.AppendInt(b, ms, 10)
}

// trade writes a trade's time: its own microsecond, or its millisecond.
func (u timeUnit) trade(b []byte, t AggTrade) []byte {
	if u == micros {
		return strconv.AppendInt(b, t.Micros, 10)
	}
	return strconv.AppendInt(b, t.Time, 10)
}

// wsTimeUnit parses the timeUnit parameter of a WebSocket URL (web-socket-streams.md, CHANGELOG.md 2025-01):
// MICROSECOND or MILLISECOND in any case, milliseconds when absent.
func wsTimeUnit(v string) (timeUnit, *apiError) {
	switch {
	case v == "" || strings.EqualFold(v, "MILLISECOND"):
		return false, nil
	case strings.EqualFold(v, "MICROSECOND"):
		return micros, nil
	}
	return false, &apiError{-1100, "Invalid value for time unit; expected either 'MICROSECOND' or 'MILLISECOND'."}
}
