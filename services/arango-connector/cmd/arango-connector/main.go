// Command arango-connector is StreamForge's arango-connector: Kafka data topic into ArangoDB (or the embedded store) in large idempotent batches.
//
// This build carries the common runtime only (configuration, JSON logs,
// /metrics, /healthz, /readyz, graceful shutdown); the service's own work
// lands with issue #4. Until then it serves its endpoints and exits 0 on
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
		Name:    "arango-connector",
		Summary: "Kafka data topic into ArangoDB (or the embedded store) in large idempotent batches",
		Config:  &config{},
		Args:    os.Args[1:],
	}, run))
}

func run(ctx context.Context, rt *service.Runtime) error {
	rt.Log.Warn().Msg("placeholder build: serving health and metrics only (see issue #4)")
	rt.SetReady(true)
	<-ctx.Done()
	return nil
}
