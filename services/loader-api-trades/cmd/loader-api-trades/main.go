// Command loader-api-trades is StreamForge's loader-api-trades: aggregated trades history over Binance REST into Kafka.
//
// This build carries the common runtime only (configuration, JSON logs,
// /metrics, /healthz, /readyz, graceful shutdown); the service's own work
// lands with issue #3. Until then it serves its endpoints and exits 0 on
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
		Name:    "loader-api-trades",
		Summary: "aggregated trades history over Binance REST into Kafka",
		Config:  &config{},
		Args:    os.Args[1:],
	}, run))
}

func run(ctx context.Context, rt *service.Runtime) error {
	rt.Log.Warn().Msg("placeholder build: serving health and metrics only (see issue #3)")
	rt.SetReady(true)
	<-ctx.Done()
	return nil
}
