// Command graph-builder is StreamForge's graph-builder: graphs from candles and trades: correlation and visibility graphs.
//
// This build carries the common runtime only (configuration, JSON logs,
// /metrics, /healthz, /readyz, graceful shutdown); the service's own work
// lands with issue #6. Until then it serves its endpoints and exits 0 on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/service"
)

type config struct {
	service.Common
}

func main() {
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    "graph-builder",
		Summary: "graphs from candles and trades: correlation and visibility graphs",
		Config:  &config{},
		Args:    os.Args[1:],
	}, run))
}

func run(ctx context.Context, rt *service.Runtime) error {
	rt.Log.Warn().Msg("placeholder build: serving health and metrics only (see issue #6)")
	rt.SetReady(true)
	<-ctx.Done()
	return nil
}
