package demo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/streamforge/streamforge/libs/service"
)

// Command is one devstack command.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Commands are devstack's commands, in the order --help lists them.
var Commands = []Command{
	{"up", "the embedded Kafka broker, the exchange simulator (or Binance with LIVE=1) and queue-manager with the local launcher, the store and the artifacts under data/, until Ctrl-C", Up},
	{"demo", "Scenario 1 through the stack: train a GNN on a month of BTCUSDT trades and 5-minute candles, followed to the model", Demo},
	{"stream", "Scenario 2 through the stack: live trades and order book of a symbol watched from Kafka, stopped through the API on Ctrl-C or --duration", Stream},
	{"logs", "a workflow's step logs through queue-manager's API: logs <workflow> [step] [--attempt N] [--follow]", Logs},
	{"clean", "remove a data directory's Kafka log, store, artifacts and logs (--yes; refused while a stack runs on it)", Clean},
	{"kafka", "the embedded Kafka broker with the service topics, until Ctrl-C", Kafka},
	{"exchange", "the exchange simulator (Binance REST, archives, WebSocket) on :9090", Exchange},
	{"lifecycle", "a worker's whole life on queue-events with dummy-service and debug-producer", Lifecycle},
}

// Main runs devstack with args (without the program name) and returns its
// exit code: --help, help or no command list the commands (2 without one),
// --version prints the version, an unknown command exits 2.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	case "-version", "--version", "version":
		service.PrintVersion(stdout, "devstack")
		return 0
	}
	for _, c := range Commands {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stdout, stderr)
		}
	}
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = c.Name
	}
	fmt.Fprintf(stderr, "devstack: unknown command %q (want %s; devstack --help lists them)\n", args[0], strings.Join(names, ", "))
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "devstack %s — StreamForge's local stack on the embedded defaults\n\nUsage: devstack <command> [flags]   (devstack <command> --help lists its flags)\n\nCommands:\n", service.BuildVersion())
	for _, c := range Commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n  %-10s %s\n", "help", "this list", "version", "the version")
}
