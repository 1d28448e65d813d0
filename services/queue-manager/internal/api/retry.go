package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// Retrier re-runs an ended workflow's failed and stopped steps;
// *flow.Engine is one.
type Retrier interface {
	Retry(ctx context.Context, id string) (*flow.Workflow, error)
}

// retry answers POST /api/v1/workflows/{id}/retry: 202 with the workflow
// running again, 409 while it runs or when it finished.
func (a *API) retry(w http.ResponseWriter, r *http.Request) {
	rt, ok := a.eng.(Retrier)
	if !ok {
		problem(w, http.StatusNotImplemented, "not implemented", "this engine cannot retry workflows", "")
		return
	}
	wf, err := rt.Retry(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, flow.ErrNothingToRetry) {
		problem(w, http.StatusConflict, "conflict", err.Error(), "")
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/workflows/"+wf.ID)
	writeJSON(w, http.StatusAccepted, wf)
}
