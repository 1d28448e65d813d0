package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// stackFlags are the local stack's settings, shared by up and demo.
type stackFlags struct {
	o    stack.Options
	live bool
}

func (f *stackFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.o.BinDir, "bin-dir", "bin", "the service binaries (make build)")
	fs.StringVar(&f.o.DataDir, "data-dir", "data", "Kafka's log, the store, the artifacts and the logs")
	fs.StringVar(&f.o.Kafka, "kafka", "", "an external broker's bootstrap servers (default: the embedded broker)")
	fs.IntVar(&f.o.KafkaPort, "kafka-port", 9092, "the embedded broker's port (0: a free one)")
	fs.StringVar(&f.o.APIAddr, "api-addr", "127.0.0.1:8080", "queue-manager's listener")
	fs.StringVar(&f.o.ExchangeAddr, "exchange-addr", "127.0.0.1:9090", "the exchange simulator's listener")
	fs.Uint64Var(&f.o.Seed, "seed", 1, "the simulated market's seed")
	fs.Float64Var(&f.o.TradeRate, "trade-rate", 0, "BTCUSDT's mean aggregate trades per second in the simulator (0: the simulator's 2, about 5.2 million a month)")
	fs.BoolVar(&f.live, "live", os.Getenv("LIVE") == "1", "point the loaders at Binance itself instead of the simulator (also LIVE=1)")
}

func (f *stackFlags) up(ctx context.Context, stdout io.Writer) (*stack.Stack, error) {
	f.o.Live = f.live
	s, err := stack.Up(ctx, f.o)
	if err != nil {
		return nil, err
	}
	src := "exchange simulator " + s.Exchange
	if f.live {
		src = "Binance (LIVE=1)"
	}
	printStack(stdout, s, src)
	return s, nil
}

// printStack says where everything of the stack is, the web console first.
func printStack(w io.Writer, s *stack.Stack, src string) {
	fmt.Fprintf(w, "StreamForge local stack\n  console       %s (open it in a browser)\n  Kafka         %s\n  market data   %s\n  queue-manager %s (API: %s/api/v1/workflows, OpenAPI: %s/openapi.yaml)\n  store         %s\n  artifacts     %s\n  logs          %s\n",
		s.Console(), s.Kafka, src, s.API, s.API, s.API, s.StorePath, s.ArtifactDir, s.LogPath)
}

// Up runs the local stack until ctx ends (Ctrl-C).
func Up(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f stackFlags
	f.register(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	s, err := f.up(ctx, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintf(stdout, "\nexport KAFKA_BOOTSTRAP_SERVERS=%s STREAMFORGE_API=%s\nCtrl-C stops it.\n", s.Kafka, s.API)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return 0
}

// Demo is Scenario 1: the local stack, then "train a GNN on trades and
// 5-minute candles for BTCUSDT for the last month" through queue-manager's
// API, followed to the stored model.
func Demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f stackFlags
	f.register(fs)
	symbol := fs.String("symbol", "BTCUSDT", "the symbol")
	timeRange := fs.String("time-range", "", "YYYY-MM-DD:YYYY-MM-DD (default: the last whole month)")
	epochs := fs.Int("epochs", 200, "most training epochs")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *timeRange == "" {
		*timeRange = scenario.LastMonth(time.Now())
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	s, err := f.up(ctx, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintln(stdout)
	st, err := sqlite.Open(ctx, s.StorePath)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer st.Close()
	board := &scenario.Board{Out: stdout, TTY: isTerminal(stdout), Every: 5 * time.Second}
	req := scenario.TrainRequest(strings.ToUpper(*symbol), *timeRange, map[string]string{"GNN_EPOCHS": fmt.Sprint(*epochs)})
	client := &scenario.Client{API: s.API}
	sum, err := scenario.Run(ctx, client, req, board, st)
	if err != nil && ctx.Err() != nil && sum != nil && sum.Workflow != nil {
		// Ctrl-C or --timeout: stop the workflow before the stack goes.
		stopWorkflow(ctx, stdout, client, sum.Workflow.ID)
	}
	if err != nil {
		fmt.Fprintf(stderr, "devstack: demo failed: %v (logs: %s)\n", err, s.LogPath)
		return 1
	}
	sum.Print(stdout)
	nextSteps(stdout, f.o.DataDir, s.API)
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
