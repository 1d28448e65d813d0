// Command devstack runs StreamForge's local stack on the embedded defaults.
//
//	devstack up         the embedded Kafka broker, the exchange simulator (or Binance
//	                    with LIVE=1) and queue-manager with the local launcher, the
//	                    SQLite store and the artifact directory under data/, until Ctrl-C
//	devstack demo       Scenario 1 through the stack: train a GNN on a month of
//	                    BTCUSDT trades and 5-minute candles, followed to the model
//	devstack stream     Scenario 2 through the stack: a live WebSocket loader for
//	                    ETHUSDT trades and order book, a terminal view of the data
//	                    topic, stopped through the API on Ctrl-C or --duration
//	devstack kafka      the embedded Kafka broker with the service topics, until Ctrl-C
//	devstack exchange   the exchange simulator (Binance REST, archives, WebSocket) on :9090
//	devstack logs       a workflow's step logs through queue-manager's API:
//	                    devstack logs <workflow> [step] [--attempt N] [--follow]
//	devstack lifecycle  a worker's whole life on queue-events with dummy-service and
//	                    debug-producer (started, progress, ping/pong, finished;
//	                    stop -> interrupted; --fail-after -> error)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamforge/streamforge/platform/devstack/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: devstack up|demo|stream|logs|kafka|exchange|lifecycle [flags] (devstack <command> --help for flags)")
		os.Exit(2)
	}
	var code int
	switch os.Args[1] {
	case "kafka":
		code = demo.Kafka(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "up":
		code = demo.Up(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "demo":
		code = demo.Demo(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "stream":
		code = demo.Stream(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "lifecycle":
		code = demo.Lifecycle(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "exchange":
		code = demo.Exchange(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "logs":
		code = demo.Logs(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		fmt.Fprintf(os.Stderr, "devstack: unknown command %q (want up, demo, stream, logs, kafka, exchange or lifecycle)\n", os.Args[1])
		code = 2
	}
	stop()
	os.Exit(code)
}
