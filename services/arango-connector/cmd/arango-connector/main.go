// Command arango-connector moves one task's Kafka data topic into ArangoDB
// (or the embedded SQLite store when ARANGO_URL is empty) in large batches,
// upserting by _key so repeats make no duplicates, committing offsets only
// after the store acknowledged the write, and dead-lettering bad records.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector"
)

func main() {
	var cfg connector.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    connector.Name,
		Summary: "a task's Kafka data topic into ArangoDB or the embedded store, idempotently",
		Config:  &cfg,
		Args:    os.Args[1:],
	}, func(ctx context.Context, rt *service.Runtime) error {
		st, err := storeopen.Open(ctx, cfg.StoreConfig, storeopen.LogWaits(rt.Log))
		if err != nil {
			return err
		}
		defer func() {
			if err := st.Close(); err != nil {
				rt.Log.Warn().Err(err).Msg("close store")
			}
		}()
		return connector.Run(ctx, rt, &cfg, st)
	}))
}
