package app

import (
	"context"

	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

var _ api.Retrier = (*engineGate)(nil)

func (g *engineGate) Retry(ctx context.Context, id string) (*flow.Workflow, error) {
	if eng := g.live.Load(); eng != nil {
		return eng.Retry(ctx, id)
	}
	return nil, api.ErrStandby
}
