package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// Purger removes what an ended workflow made that is its own (its graphs,
// its model artifacts; see flow.Workflow.Own) and the market data it
// stored that no other workflow uses (flow.Workflow.MarketData, Uses).
type Purger interface {
	Purge(ctx context.Context, w *flow.Workflow) (Purged, error)
}

// Purged is what a purge removed, and what it kept because another
// workflow uses it.
type Purged struct {
	Workflow    string   `json:"workflow"`
	Graphs      []string `json:"graphs"`
	Artifacts   int      `json:"artifacts"`   // objects deleted
	Collections []string `json:"collections"` // market data dropped: no other workflow used it
	Shared      []string `json:"shared"`      // market data kept: another workflow uses it
}

// SetPurger lets DELETE ?purge=true remove a workflow's graphs, models and
// the market data no other workflow uses.
func (a *API) SetPurger(p Purger) { a.purger = p }

// queryBool reads the boolean query parameter name: false when absent, an
// error naming it when it is not a boolean (name= with no value included).
func queryBool(r *http.Request, name string) (bool, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return false, nil
	}
	b, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, fmt.Errorf("%s: want true or false, got %q", name, q.Get(name))
	}
	return b, nil
}

// purge answers DELETE /api/v1/workflows/{id}?purge=true: the workflow's
// own graphs and model artifacts and the market data no other workflow uses
// are removed, then the workflow; 200 with what was removed and what was
// kept as shared. What could not be removed leaves the workflow in place,
// so the purge can be asked again.
func (a *API) purge(w http.ResponseWriter, r *http.Request) {
	if a.purger == nil {
		problem(w, http.StatusNotImplemented, "not implemented", "this queue-manager cannot purge workflows", "purge")
		return
	}
	wf, err := a.eng.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	if !flow.Terminal(wf.State) {
		a.fail(w, flow.ErrActive)
		return
	}
	a.admission.Lock()
	got, err := a.purger.Purge(r.Context(), wf)
	a.admission.Unlock()
	if err != nil {
		a.fail(w, fmt.Errorf("purge %s: %w", wf.ID, err))
		return
	}
	if err := a.eng.Delete(r.Context(), wf.ID); err != nil {
		a.fail(w, err)
		return
	}
	a.log.Info().Str("workflow", wf.ID).Strs("graphs", got.Graphs).Int("artifacts", got.Artifacts).
		Strs("collections", got.Collections).Strs("shared", got.Shared).Msg("workflow purged")
	writeJSON(w, http.StatusOK, got)
}
