package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Coverage reads the coverage ledger; *app's store adapter is one.
type Coverage interface {
	// Coverage returns the ledger's hours of symbol and type typ (empty:
	// every type) that start in [from, to) (epoch ms), in time order.
	Coverage(ctx context.Context, symbol, typ string, from, to int64) ([]coverage.Hour, error)
}

// SetCoverage serves GET /api/v1/coverage from c.
func (a *API) SetCoverage(c Coverage) { a.coverage = c }

// maxCoverageSpan bounds one coverage request: a year of hours.
const maxCoverageSpan = 366 * 24 * time.Hour

// coverageTime reads a from or to parameter: an RFC 3339 time or a date
// (its midnight, UTC).
func coverageTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, &protocol.FieldError{Field: name, Problem: "is required (an RFC 3339 time or a date, 2024-08-01)"}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, &protocol.FieldError{Field: name, Problem: fmt.Sprintf("%q is neither an RFC 3339 time nor a date (2024-08-01)", v)}
}

// coverageQuery reads and checks the parameters of GET /api/v1/coverage.
func coverageQuery(r *http.Request) (symbol, typ string, from, to time.Time, err error) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "symbol", "type", "from", "to":
			if len(q[name]) > 1 {
				return "", "", from, to, &protocol.FieldError{Field: name, Problem: "given more than once"}
			}
		default:
			return "", "", from, to, &protocol.FieldError{Field: name, Problem: "unknown parameter (want symbol, type, from, to)"}
		}
	}
	symbol, typ = q.Get("symbol"), q.Get("type")
	if symbol == "" {
		return "", "", from, to, &protocol.FieldError{Field: "symbol", Problem: "is required (BTCUSDT)"}
	}
	if err := protocol.ValidateSymbol(symbol); err != nil {
		return "", "", from, to, &protocol.FieldError{Field: "symbol", Problem: err.Error()}
	}
	if typ != "" {
		if _, _, err := protocol.LookupDataType(typ); err != nil {
			return "", "", from, to, &protocol.FieldError{Field: "type", Problem: err.Error()}
		}
	}
	if from, err = coverageTime("from", q.Get("from")); err != nil {
		return "", "", from, to, err
	}
	if to, err = coverageTime("to", q.Get("to")); err != nil {
		return "", "", from, to, err
	}
	switch {
	case !to.After(from):
		return "", "", from, to, &protocol.FieldError{Field: "to", Problem: fmt.Sprintf("%s is not after from (%s)",
			to.Format(time.RFC3339), from.Format(time.RFC3339))}
	case to.Sub(from) > maxCoverageSpan:
		return "", "", from, to, &protocol.FieldError{Field: "to", Problem: "more than 366 days after from; ask in pieces"}
	}
	return symbol, typ, from, to, nil
}

// getCoverage serves the coverage ledger of a symbol (and type) over a
// time range: every hour recorded, their sum and the holes.
func (a *API) getCoverage(w http.ResponseWriter, r *http.Request) {
	symbol, typ, from, to, err := coverageQuery(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.coverage == nil {
		problem(w, http.StatusNotFound, "not found", "this queue-manager keeps no coverage ledger", "")
		return
	}
	f, t := from.UnixMilli(), to.UnixMilli()
	hours, err := a.coverage.Coverage(r.Context(), symbol, typ, coverage.Floor(f), t)
	if err != nil {
		a.fail(w, err)
		return
	}
	if hours == nil {
		hours = []coverage.Hour{}
	}
	holes := coverage.Holes(hours)
	if holes == nil {
		holes = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"symbol": symbol, "type": typ, "from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339),
		"summary": coverage.Summarize(hours, f, t), "holes": holes, "hours": hours,
	})
}
