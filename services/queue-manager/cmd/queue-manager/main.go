// Command queue-manager is StreamForge's orchestrator: the REST API people
// and programs talk to, the workflow engine that launches every step as a
// worker (a Kubernetes Job or a local process), follows queue-events and the
// launcher, relaunches what dies, and streams progress live.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/app"
)

func main() {
	var cfg app.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    app.Name,
		Summary: "the orchestrator: REST API, workflow engine, Kubernetes Job launcher, live progress, self-healing",
		Config:  &cfg,
		Args:    os.Args[1:],
	}, func(ctx context.Context, rt *service.Runtime) error {
		return app.Run(ctx, rt, &cfg)
	}))
}
