package flow

import (
	"context"
	"slices"

	"github.com/streamforge/streamforge/libs/store"
)

// MarketData names the market-data collections the workflow's store steps
// write (<symbol>_<type>_<first day of the data>, see
// protocol.CollectionName), in step order, each once. Every workflow whose
// data starts the same day writes the same collection, so whether one of
// them is the workflow's alone is decided against the others (Uses).
func (w *Workflow) MarketData() []string {
	var out []string
	for _, s := range w.Steps {
		if s.Kind == KindStore && s.Collection != "" && !slices.Contains(out, s.Collection) {
			out = append(out, s.Collection)
		}
	}
	return out
}

// Uses names every market-data collection the workflow writes or reads, or
// would on a retry: its load and store steps' collections and its graph
// steps' inputs. It errs on the side of keeping: a load-only workflow
// counts as using the collection its data would be stored in.
func (w *Workflow) Uses() []string {
	var out []string
	add := func(c string) {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, s := range w.Steps {
		switch s.Kind {
		case KindLoad, KindStore:
			add(s.Collection)
		case KindGraph:
			for _, in := range s.Inputs {
				add(in)
			}
		}
	}
	return out
}

// Each calls fn for every stored workflow, a page at a time, in id order.
// An error from fn stops the walk and is returned.
func (r *Repo) Each(ctx context.Context, fn func(w *Workflow) error) error {
	q := store.RecordQuery{Limit: 500}
	for {
		page, err := r.List(ctx, q)
		if err != nil {
			return err
		}
		for _, w := range page {
			if err := fn(w); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].ID
	}
}
