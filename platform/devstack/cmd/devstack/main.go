// Command devstack runs StreamForge's local stack on the embedded defaults.
//
//	devstack kafka   the embedded Kafka broker with the service topics, until Ctrl-C
//	devstack demo      the broker plus dummy-service and debug-producer: a worker's
//	                   whole life on queue-events (started, progress, ping/pong,
//	                   finished; stop -> interrupted; --fail-after -> error)
//	devstack exchange  the exchange simulator (Binance REST and archives) on :9090
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
		fmt.Fprintln(os.Stderr, "usage: devstack kafka|demo|exchange [flags] (devstack <command> --help for flags)")
		os.Exit(2)
	}
	var code int
	switch os.Args[1] {
	case "kafka":
		code = demo.Kafka(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "demo":
		code = demo.Demo(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "exchange":
		code = demo.Exchange(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		fmt.Fprintf(os.Stderr, "devstack: unknown command %q (want kafka, demo or exchange)\n", os.Args[1])
		code = 2
	}
	stop()
	os.Exit(code)
}
