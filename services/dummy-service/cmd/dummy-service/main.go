// Command dummy-service pretends to be any StreamForge worker: it reports on
// queue-events, answers ping and stop on queue-control, and with
// --simulate-loading or --fail-after N simulates a load or a failure.
package main

import (
	"context"
	"flag"
	"os"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/dummy-service/internal/dummy"
)

func main() {
	var cfg dummy.Config
	var fl dummy.Flags
	fs := flag.NewFlagSet(dummy.Name, flag.ContinueOnError)
	fl.Register(fs)
	os.Exit(service.Main(context.Background(), service.Options{
		Name:            dummy.Name,
		Summary:         "a worker that pretends to be any other, for debugging",
		Config:          &cfg,
		Flags:           fs,
		Args:            os.Args[1:],
		Debug:           &fl.Debug,
		DefaultHTTPAddr: ":8000",
	}, func(ctx context.Context, rt *service.Runtime) error {
		return dummy.Run(ctx, rt, &cfg, fl)
	}))
}
