package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/streamforge/streamforge/platform/devstack/internal/live"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// streamTradeRate is the simulator's BTCUSDT trade rate for stream unless
// --trade-rate says otherwise: livelier than the history's 2 per second.
const streamTradeRate = "10"

// Stream is Scenario 2: the local stack, a live workflow loading the
// trades and the order book of a symbol over WebSocket, and a terminal view
// of what reaches the data topics, until --duration passes or ctx ends
// (Ctrl-C); then the workflow is stopped through queue-manager's API and
// the command checks that every loader ended cleanly.
func Stream(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f stackFlags
	f.register(fs)
	if tr := fs.Lookup("trade-rate"); tr != nil {
		tr.DefValue = streamTradeRate
		tr.Usage = "BTCUSDT's mean aggregate trades per second in the simulator (livelier than the history's 2)"
		_ = tr.Value.Set(streamTradeRate) // a float constant: it parses
	}
	symbol := fs.String("symbol", "ETHUSDT", "the symbol")
	duration := fs.Duration("duration", 0, "stop after this long (0: until Ctrl-C)")
	store := fs.Bool("store", false, "also store the records (the store steps)")
	keep := fs.Int("trades", 10, "trades listed")
	stopTimeout := fs.Duration("stop-timeout", time.Minute, "most time the stop may take")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	s, err := f.up(ctx, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintf(stdout, "\nthe market in a browser: %s\n\n", s.MarketPage(strings.ToUpper(*symbol)))
	tty := isTerminal(stdout)
	res, err := live.Run(ctx, live.Options{
		Client: &scenario.Client{API: s.API}, Kafka: s.BusConfig(), Symbol: strings.ToUpper(*symbol), Store: *store,
		Duration: *duration, StopTimeout: *stopTimeout, Keep: *keep,
		Screen: &live.Screen{Out: stdout, TTY: tty, Symbol: strings.ToUpper(*symbol)},
	})
	if res != nil && res.Workflow != nil {
		fmt.Fprintln(stdout)
		live.Report(stdout, res.Workflow)
	}
	if err == nil {
		err = waitWorkers(context.WithoutCancel(ctx), s, 15*time.Second)
	}
	if err != nil {
		fmt.Fprintf(stderr, "devstack: stream: %v (logs: %s)\n", err, s.LogPath)
		return 1
	}
	v := res.View
	fmt.Fprintf(stdout, "no loader left running; seen %d trades (ids %d..%d), %d book snapshots, %d diffs, %d gaps\n",
		v.TradeCount, v.FirstID, v.LastID, v.Snapshots, v.Diffs, v.TradeGaps+v.BookGaps)
	return 0
}

// waitWorkers waits until queue-manager has no child process left: the
// Jobs of a stopped workflow have exited.
func waitWorkers(ctx context.Context, s *stack.Stack, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		pids, err := s.Workers()
		if err != nil || len(pids) == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("worker processes %v still running %s after the workflow stopped", pids, limit)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
