// Command gnn-trainer trains a graph neural network (GCN or GraphSAGE) on a
// graph graph-builder wrote, beside a majority and a logistic-regression
// baseline, and stores the model, its metrics and a training-curve plot in
// MinIO/S3 or a local directory. `gnn-trainer predict` scores a graph with a
// saved model.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/objstore/objstoreopen"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/trainer"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "predict" {
		os.Exit(trainer.PredictMain(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	var cfg trainer.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    trainer.Name,
		Summary: "GCN and GraphSAGE trained in Go on graph-builder's graphs; model, metrics and plot to MinIO/S3",
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
		obj, err := objstoreopen.Open(ctx, cfg.ObjectConfig, objstoreopen.WithRegisterer(rt.Registry))
		if err != nil {
			return err
		}
		defer func() {
			if err := obj.Close(); err != nil {
				rt.Log.Warn().Err(err).Msg("close object store")
			}
		}()
		return trainer.Run(ctx, rt, &cfg, st, obj)
	}))
}
