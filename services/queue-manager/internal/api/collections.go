package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// Counter counts the documents of a collection (store.ErrNotFound when it
// does not exist); store.Store is one.
type Counter interface {
	Count(ctx context.Context, collection string) (int64, error)
}

// SetCounter serves GET /api/v1/collections with counts from c.
func (a *API) SetCounter(c Counter) { a.counter = c }

// maxCollections bounds one answer: past it the list is cut and says so.
const maxCollections = 1000

// Collection is one market-data collection the stored workflows' store
// steps write, with its count.
type Collection struct {
	Name   string `json:"name"`
	Symbol string `json:"symbol"`
	Type   string `json:"type"`
	Day    string `json:"day"` // the first day of its data, 2024-08-01
	// Stored is false while no store step has created it (or once a purge
	// dropped it); Count is then 0.
	Stored    bool     `json:"stored"`
	Count     int64    `json:"count"`
	Workflows []string `json:"workflows"` // the stored workflows that write it, in id order
}

// collectionsQuery reads the one parameter, an optional symbol.
func collectionsQuery(r *http.Request) (symbol string, err error) {
	q := r.URL.Query()
	for name := range q {
		if name != "symbol" {
			return "", &protocol.FieldError{Field: name, Problem: "unknown parameter (want symbol)"}
		}
		if len(q[name]) > 1 {
			return "", &protocol.FieldError{Field: name, Problem: "given more than once"}
		}
	}
	symbol = q.Get("symbol")
	if symbol != "" {
		if err := protocol.ValidateSymbol(symbol); err != nil {
			return "", &protocol.FieldError{Field: "symbol", Problem: err.Error()}
		}
	}
	return symbol, nil
}

// listCollections serves the market-data collections the stored
// workflows' store steps write (of one symbol when asked), in symbol, type,
// day order, each with its document count. It reads the workflow records
// and counts each collection once: no scan of the store's catalogue.
func (a *API) listCollections(w http.ResponseWriter, r *http.Request) {
	symbol, err := collectionsQuery(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.counter == nil {
		problem(w, http.StatusNotFound, "not found", "this queue-manager counts no collections", "")
		return
	}
	byName := map[string]*Collection{}
	truncated := false
	q := store.RecordQuery{Limit: 500}
	for {
		page, err := a.recs.List(r.Context(), q)
		if err != nil {
			a.fail(w, err)
			return
		}
		for _, wf := range page {
			for _, s := range wf.Steps {
				if s.Kind != flow.KindStore || s.Collection == "" || (symbol != "" && s.Symbol != symbol) {
					continue
				}
				c, ok := byName[s.Collection]
				if !ok {
					if len(byName) == maxCollections {
						truncated = true
						continue
					}
					c = &Collection{Name: s.Collection, Symbol: s.Symbol, Type: s.Type, Workflows: []string{}}
					if day, err := protocol.DataDay(s.TimeRange, wf.Created); err == nil {
						c.Day = day.Format(time.DateOnly)
					}
					byName[s.Collection] = c
				}
				if !slices.Contains(c.Workflows, wf.ID) {
					c.Workflows = append(c.Workflows, wf.ID)
				}
			}
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	out := make([]Collection, 0, len(byName))
	for _, c := range byName {
		n, err := a.counter.Count(r.Context(), c.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			a.fail(w, err)
			return
		default:
			c.Stored, c.Count = true, n
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y Collection) int {
		return cmp.Or(cmp.Compare(x.Symbol, y.Symbol), cmp.Compare(x.Type, y.Type), cmp.Compare(x.Day, y.Day), cmp.Compare(x.Name, y.Name))
	})
	writeJSON(w, http.StatusOK, map[string]any{"collections": out, "truncated": truncated})
}
