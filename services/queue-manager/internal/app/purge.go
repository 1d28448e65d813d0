package app

import (
	"context"
	"fmt"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/objstoreopen"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// purger removes a workflow's own graphs from the store, the market-data
// collections it stored that no other stored workflow uses, and its model
// artifacts from the object store, which it opens for each purge only (the
// engine never needs it).
type purger struct {
	st  store.Store
	art objstore.Config
}

var _ api.Purger = (*purger)(nil)

func (p *purger) Purge(ctx context.Context, w *flow.Workflow) (api.Purged, error) {
	graphs, prefixes := w.Own()
	out := api.Purged{Workflow: w.ID, Graphs: []string{}, Collections: []string{}, Shared: []string{}}
	for _, g := range graphs {
		if err := p.st.DropGraph(ctx, g); err != nil {
			return out, fmt.Errorf("drop graph %s: %w", g, err)
		}
		out.Graphs = append(out.Graphs, g)
	}
	if err := p.dropMarketData(ctx, w, &out); err != nil {
		return out, err
	}
	if len(prefixes) == 0 {
		return out, nil
	}
	os, err := objstoreopen.Open(ctx, p.art)
	if err != nil {
		return out, fmt.Errorf("open the artifact store: %w", err)
	}
	defer os.Close()
	for _, prefix := range prefixes {
		objs, err := os.List(ctx, prefix)
		if err != nil {
			return out, fmt.Errorf("list artifacts %s: %w", prefix, err)
		}
		for _, o := range objs {
			if err := os.Delete(ctx, o.Key); err != nil {
				return out, fmt.Errorf("delete artifact %s: %w", o.Key, err)
			}
			out.Artifacts++
		}
	}
	return out, nil
}

// dropMarketData drops the market-data collections w stored that no other
// stored workflow, in whatever state, writes or reads (flow.Workflow.Uses):
// a collection is shared by every workflow whose data starts the same day,
// and one that another workflow names is kept and reported as shared. Graphs
// already built are copies and do not hold on to their inputs.
//
// No workflow is submitted while the purge runs (the API holds submissions
// back), so none can start writing to a collection that is being dropped.
func (p *purger) dropMarketData(ctx context.Context, w *flow.Workflow, out *api.Purged) error {
	mine := w.MarketData()
	if len(mine) == 0 {
		return nil
	}
	used := map[string]bool{}
	err := flow.NewRepo(p.st).Each(ctx, func(o *flow.Workflow) error {
		if o.ID != w.ID {
			for _, c := range o.Uses() {
				used[c] = true
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list the workflows that may share its market data: %w", err)
	}
	for _, c := range mine {
		if used[c] {
			out.Shared = append(out.Shared, c)
			continue
		}
		if err := p.st.DropCollection(ctx, c); err != nil {
			return fmt.Errorf("drop collection %s: %w", c, err)
		}
		out.Collections = append(out.Collections, c)
	}
	return nil
}
