// Command debug-producer sends ping or stop to a task on queue-control and
// checks the answer on queue-events:
//
//	debug-producer --queue-id wf-... --command ping --expect-pong
//	debug-producer --queue-id wf-... --command stop --expect-finish
//
// Kafka is configured by the same environment variables as the services.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/dummy-service/internal/debugproducer"
)

func main() {
	if service.VersionArg(os.Args[1:], debugproducer.Name, os.Stdout) {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := debugproducer.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
