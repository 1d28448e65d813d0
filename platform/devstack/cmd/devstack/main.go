// Command devstack runs StreamForge's local stack on the embedded defaults:
// `devstack --help` lists its commands (up, demo, stream, logs, clean, kafka,
// exchange, lifecycle), `devstack <command> --help` their flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamforge/streamforge/platform/devstack/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// The first Ctrl-C starts an orderly stop through the API; a second one
	// ends devstack at once (the default action), and its children with it.
	go func() { <-ctx.Done(); stop() }()
	code := demo.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
