package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// SetLogs serves the steps' logs from l.
func (a *API) SetLogs(l launch.Logs) { a.logs = l }

// stepLogs answers GET /api/v1/workflows/{id}/steps/{step}/logs: the output
// of one attempt of a step (default its latest), as text; with follow=true
// it streams until the attempt's run ends.
func (a *API) stepLogs(w http.ResponseWriter, r *http.Request) {
	wf, err := a.eng.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	s, err := findStep(wf, chi.URLParam(r, "step"))
	if ns, ok := errors.AsType[*noStep](err); ok {
		problem(w, http.StatusNotFound, "not found", ns.Error(), "")
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	if len(s.Attempts) == 0 {
		problem(w, http.StatusNotFound, "not found", fmt.Sprintf("step %s has not been launched yet", s.ID), "")
		return
	}
	n := len(s.Attempts)
	q := r.URL.Query()
	if q.Has("attempt") { // attempt= too: not a number
		v := q.Get("attempt")
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > len(s.Attempts) {
			problem(w, http.StatusBadRequest, "invalid request", fmt.Sprintf("attempt: want a number from 1 to %d, got %q", len(s.Attempts), v), "attempt")
			return
		}
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		problem(w, http.StatusBadRequest, "invalid request", err.Error(), "follow")
		return
	}
	run := s.Attempts[n-1].RunID
	if a.logs == nil {
		problem(w, http.StatusNotFound, "not found", "this queue-manager's launcher keeps no logs", "")
		return
	}
	rc, err := a.logs.Logs(r.Context(), run, follow)
	if errors.Is(err, launch.ErrNoLogs) {
		problem(w, http.StatusNotFound, "not found", fmt.Sprintf("no logs for run %s (attempt %d of step %s): not kept, or removed", run, n, s.ID), "")
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Run-Id", run)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		k, err := rc.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return
			}
			if follow && flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				a.log.Warn().Err(err).Str("run", run).Msg("step log not read to its end")
			}
			return
		}
	}
}

// findStep returns the step of w named by id: its id, its queue id or its
// kind, when one step has it.
func findStep(w *flow.Workflow, id string) (*flow.Step, error) {
	var found []*flow.Step
	for _, s := range w.Steps {
		if s.ID == id {
			return s, nil
		}
		if s.Kind == id || s.QueueID == id {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		ids := make([]string, 0, len(w.Steps))
		for _, s := range w.Steps {
			ids = append(ids, s.ID)
		}
		return nil, &noStep{fmt.Sprintf("workflow %s has no step %s (its steps: %s)", w.ID, id, strings.Join(ids, ", "))}
	}
	ids := make([]string, 0, len(found))
	for _, s := range found {
		ids = append(ids, s.ID)
	}
	return nil, &protocol.FieldError{Field: "step", Problem: fmt.Sprintf("%q names %d steps of workflow %s; name one: %s", id, len(found), w.ID, strings.Join(ids, ", "))}
}

// noStep is a step name no step of a workflow has.
type noStep struct{ detail string }

func (e *noStep) Error() string { return e.detail }
