package app

import (
	"context"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/store"
)

// coverageReader serves the API the coverage ledger the connectors write
// into the store.
type coverageReader struct{ st store.Store }

func (c coverageReader) Coverage(ctx context.Context, symbol, typ string, from, to int64) ([]coverage.Hour, error) {
	return coverage.Read(ctx, c.st, symbol, typ, from, to)
}
