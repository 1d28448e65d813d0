// Package storeopen opens the store the environment asks for: ArangoDB when
// ARANGO_URL is set, else the embedded SQLite file at STORE_PATH.
package storeopen

import (
	"context"

	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/arango"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// Open returns the configured store. Close it when done.
func Open(ctx context.Context, cfg store.Config) (store.Store, error) {
	if cfg.ArangoURL != "" {
		return arango.Open(ctx, cfg)
	}
	return sqlite.Open(ctx, cfg.StorePath, sqlite.WithBusyTimeout(cfg.BusyTimeout))
}
