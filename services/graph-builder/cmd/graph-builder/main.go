// Command graph-builder turns a workflow's candles (and trades) in the store
// into a graph — the visibility graph of one symbol's closes, or correlation
// snapshots of several symbols — with node features and labels, and writes it
// back as a named graph for gnn-trainer.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/graph-builder/internal/builder"
)

func main() {
	var cfg builder.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    builder.Name,
		Summary: "graphs from candles and trades: visibility graphs of one series, correlation snapshots of several",
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
		return builder.Run(ctx, rt, &cfg, st)
	}))
}
