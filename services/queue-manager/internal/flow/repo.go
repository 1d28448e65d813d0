package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/streamforge/streamforge/libs/store"
)

// Collection is where workflows are kept.
const Collection = "workflows"

// Repo stores workflows as versioned records.
type Repo struct {
	st store.Store
}

// NewRepo returns a repository on st.
func NewRepo(st store.Store) *Repo { return &Repo{st: st} }

func record(w *Workflow) (store.Record, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return store.Record{}, err
	}
	sym := ""
	if len(w.Request.Symbols) > 0 {
		sym = w.Request.Symbols[0]
	}
	return store.Record{Key: w.ID, Rev: w.Rev, Status: w.State, Symbol: sym, Body: b}, nil
}

func fromRecord(r store.Record) (*Workflow, error) {
	var w Workflow
	if err := json.Unmarshal(r.Body, &w); err != nil {
		return nil, fmt.Errorf("workflow %s: stored body: %w", r.Key, err)
	}
	w.Rev = r.Rev
	return &w, nil
}

// Create stores a new workflow.
func (r *Repo) Create(ctx context.Context, w *Workflow) error {
	rec, err := record(w)
	if err != nil {
		return err
	}
	got, err := r.st.CreateRecord(ctx, Collection, rec)
	if err != nil {
		return err
	}
	w.Rev = got.Rev
	return nil
}

// Save writes w over its stored revision.
func (r *Repo) Save(ctx context.Context, w *Workflow) error {
	rec, err := record(w)
	if err != nil {
		return err
	}
	got, err := r.st.UpdateRecord(ctx, Collection, rec)
	if err != nil {
		return err
	}
	w.Rev = got.Rev
	return nil
}

// Get returns the stored workflow, ErrNotFound when there is none.
func (r *Repo) Get(ctx context.Context, id string) (*Workflow, error) {
	rec, err := r.st.GetRecord(ctx, Collection, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fromRecord(rec)
}

// List returns one page of workflows.
func (r *Repo) List(ctx context.Context, q store.RecordQuery) ([]*Workflow, error) {
	recs, err := r.st.ListRecords(ctx, Collection, q)
	if err != nil {
		return nil, err
	}
	out := make([]*Workflow, 0, len(recs))
	for _, rec := range recs {
		w, err := fromRecord(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// Delete removes a workflow at its revision.
func (r *Repo) Delete(ctx context.Context, w *Workflow) error {
	err := r.st.DeleteRecord(ctx, Collection, w.ID, w.Rev)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Unfinished returns every workflow that is not in a final state.
func (r *Repo) Unfinished(ctx context.Context) ([]*Workflow, error) {
	var out []*Workflow
	q := store.RecordQuery{Status: []string{Pending, Running, Stopping}, Limit: 500}
	for {
		page, err := r.List(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < q.Limit {
			return out, nil
		}
		q.After = page[len(page)-1].ID
	}
}
