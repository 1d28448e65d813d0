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

// purger removes a workflow's own graphs from the store and its model
// artifacts from the object store, which it opens for each purge only (the
// engine never needs it).
type purger struct {
	st  store.Store
	art objstore.Config
}

var _ api.Purger = (*purger)(nil)

func (p *purger) Purge(ctx context.Context, w *flow.Workflow) (api.Purged, error) {
	graphs, prefixes := w.Own()
	out := api.Purged{Workflow: w.ID, Graphs: []string{}}
	for _, g := range graphs {
		if err := p.st.DropGraph(ctx, g); err != nil {
			return out, fmt.Errorf("drop graph %s: %w", g, err)
		}
		out.Graphs = append(out.Graphs, g)
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
