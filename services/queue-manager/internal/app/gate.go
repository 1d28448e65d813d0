package app

import (
	"context"
	"sync/atomic"

	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// engineGate is the API's engine: the live engine while this queue-manager
// leads; before, reads from the store and api.ErrStandby for changes.
type engineGate struct {
	repo *flow.Repo
	live atomic.Pointer[flow.Engine]
}

var _ api.Engine = (*engineGate)(nil)

// lead makes eng the live engine (nil: standing by).
func (g *engineGate) lead(eng *flow.Engine) { g.live.Store(eng) }

func (g *engineGate) Submit(ctx context.Context, r flow.Request) (*flow.Workflow, error) {
	if eng := g.live.Load(); eng != nil {
		return eng.Submit(ctx, r)
	}
	return nil, api.ErrStandby
}

func (g *engineGate) Get(ctx context.Context, id string) (*flow.Workflow, error) {
	if eng := g.live.Load(); eng != nil {
		return eng.Get(ctx, id)
	}
	return g.repo.Get(ctx, id)
}

func (g *engineGate) Stop(ctx context.Context, id string) (*flow.Workflow, error) {
	if eng := g.live.Load(); eng != nil {
		return eng.Stop(ctx, id)
	}
	return nil, api.ErrStandby
}

func (g *engineGate) Delete(ctx context.Context, id string) error {
	if eng := g.live.Load(); eng != nil {
		return eng.Delete(ctx, id)
	}
	return api.ErrStandby
}

func (g *engineGate) Subscribe(id string) (<-chan flow.Change, func(), bool) {
	if eng := g.live.Load(); eng != nil {
		return eng.Subscribe(id)
	}
	return nil, func() {}, false
}

// StoreErr is the live engine's (nil while standing by).
func (g *engineGate) StoreErr() error {
	if eng := g.live.Load(); eng != nil {
		return eng.StoreErr()
	}
	return nil
}
