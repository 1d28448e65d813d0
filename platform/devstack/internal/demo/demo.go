// Package demo holds devstack's commands: the local stack (up), Scenario 1
// through it (demo), the embedded broker and the exchange simulator on their
// own, and the worker lifecycle walk-through.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// brokerFlags are the embedded broker's settings shared by both commands.
type brokerFlags struct {
	port    int
	dataDir string
}

func (b *brokerFlags) register(fs *flag.FlagSet, defPort int) {
	fs.IntVar(&b.port, "port", defPort, "Kafka port on 127.0.0.1 (0 picks a free one)")
	fs.StringVar(&b.dataDir, "data-dir", "data/kafka", "where the broker keeps topics across restarts (empty: memory only)")
}

func (b *brokerFlags) start() (*embedded.Broker, error) {
	if b.dataDir != "" {
		if err := os.MkdirAll(b.dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
	}
	return embedded.Start(embedded.Options{Port: b.port, DataDir: b.dataDir, Topics: []string{protocol.TopicControl, protocol.TopicEvents}})
}

// Kafka runs the embedded broker until ctx ends.
func Kafka(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bf brokerFlags
	bf.register(fs, 9092)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	b, err := bf.start()
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer b.Close()
	fmt.Fprintf(stdout, "embedded Kafka on %s (data in %q); topics %s, %s\nexport KAFKA_BOOTSTRAP_SERVERS=%s\nCtrl-C stops it.\n",
		b.Addr(), bf.dataDir, protocol.TopicControl, protocol.TopicEvents, b.Addr())
	<-ctx.Done()
	return 0
}

// Lifecycle starts the embedded broker and walks three workers through their
// lives with the real dummy-service and debug-producer binaries, after a
// loader and a connector moved a month of candles into the store.
func Lifecycle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack lifecycle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bf brokerFlags
	bf.register(fs, 0)
	binDir := fs.String("bin-dir", "bin", "directory holding the service binaries (make build)")
	storePath := fs.String("store-path", "data/streamforge.db", "the embedded store the pipeline step writes")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	d := &runner{binDir: *binDir, out: stdout, storePath: *storePath}
	for _, name := range []string{"dummy-service", "debug-producer", "loader-producer", "arango-connector"} {
		if _, err := os.Stat(filepath.Join(d.binDir, name)); err != nil {
			fmt.Fprintf(stderr, "devstack: %s not found in %s: run `make build` first (or pass --bin-dir)\n", name, d.binDir)
			return 2
		}
	}
	b, err := bf.start()
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer b.Close()
	d.cfg = b.Config()
	fmt.Fprintf(stdout, "embedded Kafka on %s\n\n", b.Addr())
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(stderr, "devstack: demo failed: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "\ndemo passed: a month of candles loaded and stored, ping answered, stop honoured, failure reported.")
	return 0
}

type runner struct {
	binDir    string
	storePath string
	cfg       bus.Config
	out       io.Writer
}

func (d *runner) env(extra ...string) []string {
	env := append(os.Environ(), "KAFKA_BOOTSTRAP_SERVERS="+d.cfg.BootstrapServers, "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn", "HEARTBEAT_INTERVAL=2s")
	return append(env, extra...)
}

func (d *runner) queueID(typ string) (string, error) {
	s, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return "", err
	}
	return protocol.NewQueueID("BTCUSDT", typ, time.Now(), s)
}

// worker starts dummy-service for a new task and returns its queue id and
// a channel with its exit code.
func (d *runner) worker(ctx context.Context, typ string, extraEnv []string, args ...string) (string, <-chan int, error) {
	q, err := d.queueID(typ)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(d.binDir, "dummy-service"), args...)
	cmd.SysProcAttr = childAttr()
	cmd.Env = d.env(append([]string{"QUEUE_ID=" + q, "SYMBOL=BTCUSDT", "TYPE=" + typ}, extraEnv...)...)
	cmd.Stderr = prefixed(d.out, "  dummy-service: ")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	done := make(chan int, 1)
	go func() { _ = cmd.Wait(); done <- cmd.ProcessState.ExitCode() }()
	fmt.Fprintf(d.out, "started dummy-service %s for %s\n", strings.Join(args, " "), q)
	return q, done, nil
}

func (d *runner) debugProducer(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(d.binDir, "debug-producer"), args...)
	cmd.SysProcAttr = childAttr()
	cmd.Env = d.env()
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(d.out, "debug-producer %s\n  -> %s", strings.Join(args, " "), out)
	if err != nil {
		return fmt.Errorf("debug-producer %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func (d *runner) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	events, err := bus.NewTail(ctx, d.cfg, protocol.TopicEvents, time.Now(), nil)
	if err != nil {
		return err
	}
	defer events.Close()
	evctx, stopEvents := context.WithCancel(ctx)
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		_ = events.Run(evctx, func(_ context.Context, m bus.Message) error {
			if e, err := protocol.DecodeEvent(m.Value); err == nil {
				fmt.Fprintf(d.out, "  queue-events: %-11s %-28s records=%-6d finished=%-5v %s\n", e.Status, e.Producer, e.RecordsWritten, e.Finished, e.Message)
			}
			return nil
		})
	}()
	defer func() { stopEvents(); <-evDone }()

	// 0. The real pipeline: loader-producer takes a month of candles from
	// the exchange simulator's archives into Kafka, arango-connector stores
	// them in the embedded store.
	if err := d.pipeline(ctx); err != nil {
		return err
	}
	// 1. A simulated load that runs to the end.
	q, done, err := d.worker(ctx, "api_candles_5m", []string{"DUMMY_RECORDS=5000", "DUMMY_RATE=5000", "DUMMY_BATCH_SIZE=1000", "KAFKA_TOPIC=" + protocol.DataTopic("demo"), "KAFKA_CREATE_TOPICS=true"}, "--simulate-loading")
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if err := d.debugProducer(ctx, "--queue-id", q, "--command", "ping", "--expect-pong"); err != nil {
		return err
	}
	if code := <-done; code != 0 {
		return fmt.Errorf("loading worker exited %d, want 0", code)
	}
	// 2. An idle worker stopped on request.
	q, done, err = d.worker(ctx, "api_trades", nil)
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if err := d.debugProducer(ctx, "--queue-id", q, "--command", "stop", "--expect-finish"); err != nil {
		return err
	}
	if code := <-done; code != 0 {
		return fmt.Errorf("stopped worker exited %d, want 0", code)
	}
	// 3. A worker that fails on purpose.
	_, done, err = d.worker(ctx, "ws_orderbook", []string{"DUMMY_RATE=0", "DUMMY_BATCH_SIZE=25"}, "--fail-after", "100")
	if err != nil {
		return err
	}
	if code := <-done; code == 0 {
		return errors.New("failing worker exited 0, want non-zero")
	}
	fmt.Fprintln(d.out, "failing worker exited non-zero, as asked")
	time.Sleep(200 * time.Millisecond) // let the last events print
	return nil
}

// pipeline runs loader-producer and arango-connector on one task against an
// in-process exchange simulator and checks what was stored.
func (d *runner) pipeline(ctx context.Context) error {
	sim := binancesim.New(binancesim.Options{})
	url, stop := sim.Start()
	defer stop()
	const symbol, typ, timeRange = "BTCUSDT", "api_candles_5m", "2024-08-01:2024-09-01"
	q, err := d.queueID(typ)
	if err != nil {
		return err
	}
	day, err := protocol.DataDay(timeRange, time.Now())
	if err != nil {
		return err
	}
	collection := protocol.CollectionName(symbol, typ, day)
	if err := os.MkdirAll(filepath.Dir(d.storePath), 0o755); err != nil {
		return fmt.Errorf("--store-path: %w", err)
	}
	fmt.Fprintf(d.out, "exchange simulator on %s; loading %s %s %s as %s\n", url, symbol, typ, timeRange, q)
	task := []string{"QUEUE_ID=" + q, "SYMBOL=" + symbol, "TYPE=" + typ, "TIME_RANGE=" + timeRange}
	start := func(name string, extra ...string) (<-chan int, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(d.binDir, name))
		cmd.SysProcAttr = childAttr()
		cmd.Env = d.env(append(task, extra...)...)
		cmd.Stderr = prefixed(d.out, "  "+name+": ")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		done := make(chan int, 1)
		go func() { _ = cmd.Wait(); done <- cmd.ProcessState.ExitCode() }()
		return done, nil
	}
	began := time.Now()
	loader, err := start("loader-producer", "BINANCE_REST_URL="+url, "BINANCE_ARCHIVE_URL="+url, "BINANCE_WS_URL=ws"+strings.TrimPrefix(url, "http"))
	if err != nil {
		return err
	}
	connector, err := start("arango-connector", "STORE_PATH="+d.storePath, "KAFKA_CREATE_TOPICS=true")
	if err != nil {
		return err
	}
	if code := <-loader; code != 0 {
		return fmt.Errorf("loader-producer exited %d", code)
	}
	if code := <-connector; code != 0 {
		return fmt.Errorf("arango-connector exited %d", code)
	}
	st, err := sqlite.Open(ctx, d.storePath)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Count(ctx, collection)
	if err != nil {
		return err
	}
	want, err := sim.Market().Candles(symbol, "5m", time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 8, 31, 23, 59, 59, 0, time.UTC))
	if err != nil {
		return err
	}
	if n != int64(len(want)) {
		return fmt.Errorf("the store holds %d candles in %s, the simulator has %d", n, collection, len(want))
	}
	fmt.Fprintf(d.out, "stored %d candles in %s (%s) in %s\n\n", n, collection, d.storePath, time.Since(began).Round(time.Millisecond))
	return nil
}

// prefixed writes each complete line of a child's output with a prefix.
func prefixed(w io.Writer, prefix string) io.Writer { return &lineWriter{w: w, prefix: prefix} }

type lineWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.buf[:i]); err != nil {
			return 0, err
		}
		l.buf = l.buf[i+1:]
	}
}
